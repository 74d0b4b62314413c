"""Progress of long calls as log lines, never terminal bars.

Job logs are files (Snakemake's `2> {log}`, SLURM's output files): a tqdm bar there is one
unreadable line of carriage-return frames. Every inference backend and long step reports through
`Progress` instead, a line at most every `interval` seconds and one at the end:

    reprolab.inference.openai_backend INFO: generate: 512/2000 replies (25.6%), 41.3/s, ETA 36s
    reprolab.inference.openai_backend INFO: generate: 2000/2000 replies (100.0%), 40.8/s, in 49s

`quiet_progress_bars` turns off the bars of the libraries underneath (transformers, datasets,
huggingface_hub, any other tqdm) in processes whose stderr is not a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

# Seconds between two progress lines of one call: often enough to see a job move, rarely
# enough that a full-scale log stays readable.
INTERVAL = 10.0

# The documented switches of the libraries whose bars reached job logs, and tqdm's own
# (TQDM_<ARG> overrides any tqdm default since tqdm 4.66, for bars of other libraries).
QUIET_ENV = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TQDM_DISABLE": "1",
}


def format_duration(seconds: float) -> str:
    """Short and unambiguous: 36s, 4m19s, 3h05m."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    whole = round(max(seconds, 0.0))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Progress:
    """Counts finished items of one long call and logs count, rate and ETA as plain lines.

    Thread-safe: the openai backend's worker threads update it as their requests return.
    """

    def __init__(
        self,
        what: str,
        total: int,
        unit: str = "items",
        logger: logging.Logger | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.what, self.total, self.unit = what, total, unit
        self.logger = logger or logging.getLogger("reprolab.progress")
        self.interval = INTERVAL if interval is None else interval
        self.clock = clock
        self.done = 0
        self.started = clock()
        self._last_line = self.started
        self._logged_done = -1
        self._lock = threading.Lock()

    def line(self) -> str:
        """The progress line as it reads now."""
        elapsed = self.clock() - self.started
        rate = self.done / elapsed if elapsed > 0 else float("nan")
        share = 100.0 * self.done / self.total if self.total else 100.0
        head = f"{self.what}: {self.done}/{self.total} {self.unit} ({share:.1f}%), {rate:.1f}/s"
        if self.done >= self.total:
            return f"{head}, in {format_duration(elapsed)}"
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        return f"{head}, ETA {format_duration(eta)}"

    def update(self, n: int = 1) -> None:
        """n more items finished; logs when `interval` has passed or the call is complete."""
        with self._lock:
            self.done += n
            now = self.clock()
            if self.done >= self.total or now - self._last_line >= self.interval:
                self._emit(now)

    def close(self) -> None:
        """The final line, unless the last update already logged it or there was nothing."""
        with self._lock:
            if self.total and self._logged_done != self.done:
                self._emit(self.clock())

    def _emit(self, now: float) -> None:
        self.logger.info("%s", self.line())
        self._last_line, self._logged_done = now, self.done

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()


def quiet_progress_bars(stream: TextIO | None = None) -> bool:
    """Turn off library progress bars when `stream` (stderr) is not a terminal; whether it did.

    The environment covers libraries imported later and the processes this one starts (a
    TRL/accelerate worker); the switches cover those already imported, which read it once.
    A variable the user set is kept, so `HF_HUB_DISABLE_PROGRESS_BARS=0` brings bars back.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return False
    if not _is_true(os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
        return False
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "datasets" in sys.modules:
        import datasets

        datasets.disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    return True


def _is_true(value: str) -> bool:
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"}

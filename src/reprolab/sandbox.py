"""Run untrusted tool calls and code in a separate, limited process.

Model-written tool calls and code never run in the process that holds the model. A `Sandbox`
starts one fresh worker interpreter (`python -m reprolab.sandbox_worker`, never a fork of this
process) that serves many calls in turn, each with its own limits:

    with Sandbox(SandboxLimits(timeout_seconds=2), modules=["mypkg.tools"]) as box:
        box.call("mypkg.tools", "add", {"a": 1, "b": 2})   # SandboxResult(ok=True, value=3)
        box.run_code("result = sum(range(10))")            # value 45

The worker has a private temporary working directory (deleted on close), CPU-time, address-space
and file-size limits (`resource.setrlimit`), no network (a fresh network namespace where the
kernel allows it, and an audit hook in every case), and an audit hook that refuses process
creation, signals to other processes, native code (ctypes) and writes outside its directory. A
wall-clock timeout kills the worker's whole process group; the next call starts a new worker.
Every failure comes back as a result with `ok=False` and an error naming what happened.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SIGNAL_ERRORS = {
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGXFSZ: "file size limit exceeded",
}


@dataclass(frozen=True)
class SandboxLimits:
    """Per-call limits. cpu_seconds binds CPU time; timeout_seconds binds wall-clock time."""

    cpu_seconds: float = 2.0
    timeout_seconds: float = 5.0
    memory_mb: int = 512
    file_size_mb: int = 4
    max_result_chars: int = 100_000
    # A worker is replaced after this many calls, so no state leaks across many calls.
    calls_per_worker: int = 500
    network_namespace: bool = True


@dataclass
class SandboxResult:
    """What a call gave: ok and its value, or not ok and an error that says why."""

    ok: bool
    value: Any = None
    error: str | None = None
    stdout: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class Sandbox:
    """A worker process serving tool calls and code snippets under limits (see module doc)."""

    def __init__(self, limits: SandboxLimits | None = None, modules: list[str] | tuple = ()):
        self.limits = limits or SandboxLimits()
        self.modules = list(modules)
        self._proc: subprocess.Popen | None = None
        self._root: Path | None = None
        self._calls = 0
        self._buffer = b""
        self.workers_started = 0
        # What the current worker achieved, e.g. {"network_namespace": True}.
        self.isolation: dict = {}

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def workdir(self) -> Path | None:
        """The current worker's private directory (None before the first call)."""
        return self._root / "work" if self._root else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _start(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="reprolab-sandbox-"))
        work = self._root / "work"
        work.mkdir()
        config = {
            "workdir": str(work),
            "modules": self.modules,
            "memory_mb": self.limits.memory_mb,
            "file_size_mb": self.limits.file_size_mb,
            "cpu_total_seconds": self.limits.cpu_seconds * (self.limits.calls_per_worker + 1),
            "network_namespace": self.limits.network_namespace,
        }
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work),
            "TMPDIR": str(work),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        # Where this process found reprolab first, so the worker imports the same code.
        package_root = str(Path(__file__).resolve().parents[1])
        paths = (package_root, os.environ.get("PYTHONPATH"))
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        stderr = (self._root / "stderr").open("wb")
        # exec of a fresh interpreter (no fork of a process holding torch threads), in its own
        # session, so a timeout can kill its whole process group.
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "reprolab.sandbox_worker", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=work,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        stderr.close()
        self._buffer = b""
        self._calls = 0
        self.workers_started += 1
        ready = self._read_message(time.monotonic() + 30.0)
        if not ready or not ready.get("ready"):
            detail = self._stderr_tail()
            self._kill()
            raise RuntimeError(f"sandbox worker failed to start: {detail or ready}")
        self.isolation = ready.get("isolation", {})

    def _kill(self) -> None:
        """Kill the worker's process group and remove its directory."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            for stream in (self._proc.stdin, self._proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self._proc.wait()
            self._proc = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def close(self) -> None:
        self._kill()

    # -- protocol --------------------------------------------------------------------------
    def _stderr_tail(self) -> str:
        if self._root is None:
            return ""
        path = self._root / "stderr"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text.strip().splitlines()[-1] if text.strip() else ""

    def _read_message(self, deadline: float) -> dict | None:
        """One JSON line from the worker, or None on timeout or end of stream."""
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _request(self, request: dict) -> SandboxResult:
        if self._proc is None or self._calls >= self.limits.calls_per_worker:
            self._kill()
            self._start()
        self._calls += 1
        request = {
            **request,
            "cpu_seconds": self.limits.cpu_seconds,
            "max_result_chars": self.limits.max_result_chars,
        }
        try:
            payload = (json.dumps(request) + "\n").encode()
        except (TypeError, ValueError) as err:
            return SandboxResult(False, error=f"request is not JSON-serialisable: {err}")
        started = time.monotonic()
        try:
            self._proc.stdin.write(payload)
            self._proc.stdin.flush()
        except BrokenPipeError:
            self._kill()
            return SandboxResult(False, error="sandbox worker died before the call")
        reply = self._read_message(started + self.limits.timeout_seconds)
        seconds = time.monotonic() - started
        if reply is None:
            alive = self._proc.poll() is None
            code = self._proc.returncode
            detail = self._stderr_tail()
            self._kill()
            if alive:
                error = f"timeout: no result within {self.limits.timeout_seconds:g} s (killed)"
            elif code is not None and code < 0:
                reason = _SIGNAL_ERRORS.get(-code, f"signal {-code}")
                error = f"sandbox worker ended: {reason}"
                if -code == signal.SIGXCPU:
                    error += f" ({self.limits.cpu_seconds:g} s)"
            else:
                error = f"sandbox worker ended with exit code {code}" + (
                    f": {detail}" if detail else ""
                )
            return SandboxResult(False, error=error, seconds=seconds)
        return SandboxResult(
            ok=reply["ok"],
            value=reply.get("value"),
            error=reply.get("error"),
            stdout=reply.get("stdout", ""),
            seconds=seconds,
        )

    # -- API -------------------------------------------------------------------------------
    def call(self, module: str, function: str, arguments: dict) -> SandboxResult:
        """Call module.function(**arguments) in the worker; module must be one of `modules`."""
        if module not in self.modules:
            return SandboxResult(False, error=f"module '{module}' is not loaded in this sandbox")
        if not isinstance(arguments, dict):
            return SandboxResult(False, error="arguments must be a JSON object")
        return self._request(
            {"op": "call", "module": module, "function": function, "arguments": arguments}
        )

    def call_many(self, module: str, calls: list[tuple[str, dict]]) -> list[SandboxResult]:
        """Many calls through the same worker, each with its own limits and timeout."""
        return [self.call(module, name, arguments) for name, arguments in calls]

    def run_code(self, code: str) -> SandboxResult:
        """exec(code) in a fresh namespace; the value is the variable `result` if set."""
        return self._request({"op": "code", "code": code})

"""Resuming after Snakemake itself was killed: `reprolab resume [snakemake arguments]`.

A killed Snakemake leaves its lock (the next run refuses to start), marks the outputs of the
jobs it was running as incomplete (the next run redoes them), and may leave those jobs running
as orphans that go on to finish their outputs. `resume` waits for the orphans of this working
directory, keeps the outputs of every step that finished (each step records its command line
in .reprolab/finished/ when it exits successfully; outputs are written atomically, so a file
that exists is whole), removes Snakemake's incomplete marks of those outputs only, unlocks, and
runs Snakemake again with the given arguments (which redoes what did not finish).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from base64 import urlsafe_b64decode
from pathlib import Path

log = logging.getLogger(__name__)

FINISHED_DIR = Path(".reprolab/finished")


def record_finished(argv: list[str]) -> None:
    """Called by the CLI when a step exits successfully: its command line, for `resume`."""
    FINISHED_DIR.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{os.getpid()}.json"
    (FINISHED_DIR / name).write_text(json.dumps({"argv": argv, "time": time.time()}))


def finished_arguments() -> set[str]:
    """Every argument of every step that finished here (outputs among them)."""
    found: set[str] = set()
    for path in FINISHED_DIR.glob("*.json"):
        try:
            found.update(json.loads(path.read_text())["argv"])
        except (OSError, ValueError, KeyError):
            continue
    return found


def incomplete_marks(workdir: Path = Path(".")) -> dict[str, Path]:
    """Output -> the mark Snakemake keeps while its job runs (.snakemake/incomplete: the path
    base64-encoded, split into folders of at most NAME_MAX characters, each but the last '@')."""
    root = workdir / ".snakemake" / "incomplete"
    marks = {}
    for path in root.rglob("*") if root.exists() else []:
        if not path.is_file() or path.name == "migration_underway":
            continue
        parts = path.relative_to(root).parts
        encoded = "".join(p.removeprefix("@") for p in parts)
        try:
            marks[urlsafe_b64decode(encoded).decode()] = path
        except ValueError:
            continue
    return marks


def incomplete_outputs(workdir: Path = Path(".")) -> list[str]:
    return sorted(incomplete_marks(workdir))


def _ancestors(pid: int) -> list[str]:
    """Command names of a process's ancestors."""
    names = []
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        try:
            names.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            break
    return names


def orphan_steps(workdir: Path = Path(".")) -> list[int]:
    """Step processes (`reprolab <paper> <step>`) working in this directory whose Snakemake is
    gone: their ancestors hold no snakemake process any more."""
    here = os.path.realpath(workdir)
    orphans = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        is_step = any(Path(w).name == "reprolab" for w in words[:2]) and "resume" not in words
        if (
            is_step
            and cwd == here
            and not any("snakemake" in a for a in _ancestors(int(entry.name)))
        ):
            orphans.append(int(entry.name))
    return orphans


def resume(snakemake_args: list[str], wait_seconds: float = 3600.0) -> int:
    """Wait for orphans, keep finished outputs, unlock, and run Snakemake again."""
    deadline = time.monotonic() + wait_seconds
    while orphans := orphan_steps():
        if time.monotonic() > deadline:
            log.error("orphaned steps %s still running after %.0f s", orphans, wait_seconds)
            return 1
        log.info("waiting for %d orphaned steps to finish: pids %s", len(orphans), orphans)
        time.sleep(5)
    done = finished_arguments()
    marks = incomplete_marks()
    keep = [f for f in sorted(marks) if f in done and Path(f).exists()]
    snakemake = [str(Path(sys.executable).parent / "snakemake")]
    if keep:
        log.info("keeping %d outputs that finished after Snakemake was killed: %s", len(keep), keep)
        for output in keep:
            marks[output].unlink()
    for record in FINISHED_DIR.glob("*.json"):  # used up: the rerun's steps record afresh
        record.unlink()
    subprocess.run([*snakemake, "--unlock"], check=True, capture_output=True)
    log.info("unlocked; running snakemake %s", " ".join(snakemake_args))
    return subprocess.run([*snakemake, *snakemake_args]).returncode

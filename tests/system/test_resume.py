"""`reprolab resume` after Snakemake is killed: orphans finish, their outputs are kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from base64 import urlsafe_b64encode
from pathlib import Path

import pytest

from reprolab.resume import (
    finished_arguments,
    incomplete_outputs,
    orphan_steps,
    record_finished,
    resume,
)

STEP = textwrap.dedent(
    """\
    #!{python}
    # A stand-in step named `reprolab`: slow, atomic output, records that it finished.
    import os, sys, time
    from reprolab.resume import record_finished
    out = sys.argv[-1]
    with open("runs.log", "a") as log:
        log.write(out + "\\n")
    time.sleep(4)
    with open(out + ".tmp", "w") as f:
        f.write("done\\n")
    os.replace(out + ".tmp", out)
    record_finished(sys.argv)
    """
)
SNAKEFILE = textwrap.dedent(
    """\
    rule all:
        input: "a.txt"

    rule a:
        output: "a.txt"
        shell: "reprolab step --out {output}"
    """
)


def test_incomplete_marks_and_finished_records_are_read_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marks = tmp_path / ".snakemake" / "incomplete"
    marks.mkdir(parents=True)
    for name in ("results/x/metrics.json", "a.txt"):
        (marks / urlsafe_b64encode(name.encode()).decode()).write_text("{}")
    assert incomplete_outputs() == ["a.txt", "results/x/metrics.json"]
    record_finished(["reprolab", "gar", "metrics", "--out", "results/x/metrics.json"])
    assert "results/x/metrics.json" in finished_arguments()


@pytest.mark.slow
def test_outputs_of_orphans_are_kept_and_the_rerun_redoes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    step = bin_dir / "reprolab"
    step.write_text(STEP.format(python=sys.executable))
    step.chmod(0o755)
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}"
               f"{os.pathsep}{os.environ['PATH']}")  # fmt: skip
    monkeypatch.setenv("PATH", env["PATH"])
    snakemake = Path(sys.executable).parent / "snakemake"
    run = subprocess.Popen([str(snakemake), "--cores", "1"], env=env, start_new_session=False)
    deadline = time.monotonic() + 60
    while not (tmp_path / "runs.log").exists():
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.2)
    os.kill(run.pid, signal.SIGKILL)  # Snakemake dies; its job runs on as an orphan
    run.wait()
    assert orphan_steps() != []
    assert resume(["--cores", "1"]) == 0
    assert (tmp_path / "a.txt").read_text() == "done\n"
    assert (tmp_path / "runs.log").read_text().splitlines() == ["a.txt"]  # not redone
    assert orphan_steps() == []

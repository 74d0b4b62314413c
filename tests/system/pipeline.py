"""Helpers for the end-to-end tests: a copy of the project as a fresh git repository, commands run
as a user runs them, and a real MLflow tracking server on a free local port."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.conftest import REPO

# What a clone holds that the pipeline needs (tests and docs prose aside).
PROJECT_FILES = (
    "Snakefile",
    "rules",
    "config",
    "seeds",
    "profiles",
    "slurm",
    "environment.yml",
    "docs/report",
    "src",
    "dvc.yaml",
    ".dvc/config",
    ".dvc/.gitignore",
    ".dvcignore",
    ".gitignore",
)
# The papers the DVC suite builds: training, scoring and an MLflow comparison of arms (sgd_rlvr),
# a further seed's folder (psibench). Two keep CI short; every paper's stage is the same template.
DVC_PAPERS = ("sgd_rlvr", "psibench")
GIT_IDENTITY = ("-c", "user.name=reprolab-test", "-c", "user.email=test@reprolab.invalid")


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user whose shell has this Python's bin folder first, offline DVC."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(DVC_NO_ANALYTICS="1", **extra)
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 1800) -> str:
    """Run a command; on failure raise with its output, so the test report shows why."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}:\n{output[-4000:]}")
    return output


def git_repo_of_project(dest: Path, scale: str, papers: tuple[str, ...] = ()) -> Path:
    """A new git repository holding the project, its config/config.yaml set to `scale` (and to
    `papers` when given)."""
    dest.mkdir(parents=True)
    for name in PROJECT_FILES:
        src, target = REPO / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():  # the root's `slurm`, a link to profiles/slurm
            target.symlink_to(src.readlink())
        elif src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, target)
    config = dest / "config" / "config.yaml"
    text = config.read_text()
    assert "\nscale: tiny\n" in text, "config/config.yaml no longer sets `scale: tiny`"
    text = text.replace("\nscale: tiny\n", f"\nscale: {scale}\n")
    if papers:
        text = re.sub(r"\npapers: \[[^]]*\]\n", f"\npapers: [{', '.join(papers)}]\n", text)
        keep_report_deps_of(dest / "dvc.yaml", papers)
    config.write_text(text)
    env = user_env()
    run(["git", "init", "-q", "-b", "main"], dest, env)
    run(["git", "add", "-A"], dest, env)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", f"project at scale {scale}"], dest, env)
    return dest


def keep_report_deps_of(dvc_yaml: Path, papers: tuple[str, ...]) -> None:
    """dvc.yaml lists every paper's report inputs and plots; drop those of papers not enabled,
    as a user who disables a paper does (README, "Versioned pipeline")."""
    of_paper = re.compile(r"^\$\{results_dir\}/\$\{scale\}/(\w+)/")

    def kept(entry: str | dict) -> bool:
        found = of_paper.match(entry if isinstance(entry, str) else next(iter(entry)))
        return not found or found.group(1) in papers

    spec = yaml.safe_load(dvc_yaml.read_text())
    report = spec["stages"]["report"]
    report["deps"] = [d for d in report["deps"] if kept(d)]
    spec["plots"] = [p for p in spec["plots"] if kept(p)]
    dvc_yaml.write_text(yaml.safe_dump(spec, sort_keys=False))


def commit_all(repo: Path, message: str) -> None:
    env = user_env()
    run(["git", "add", "-A"], repo, env)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", message], repo, env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MlflowServer:
    """`mlflow server` on 127.0.0.1 with a SQLite store and proxied artifacts, as on a cluster."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> MlflowServer:
        self.root.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(Path(sys.executable).parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.root / 'mlflow.db'}",
            "--artifacts-destination",
            str(self.root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        self.log = (self.root / "server.log").open("w")
        # Its own session: stop() ends the server and the workers it forks, and nothing else.
        self.process = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.root / "server.log").read_text()
                raise AssertionError(f"mlflow server exited: {log[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"mlflow server not up after {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()

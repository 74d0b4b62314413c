"""MLflow tracking: one experiment per paper, one run per rule execution.

Files are the source of truth (metrics.json and friends); MLflow mirrors them for comparison in
its UI. SQLite is the default store; concurrent jobs serialise their writes through a file lock
next to the database and retry on "database is locked", so parallel rules cannot break it.

Tracking never costs a job. A server that is away (or goes away mid-run) is tried with a short
timeout; from then on the job's tracking calls are appended to a local spool (one JSONL file a
job, under REPROLAB_TRACKING_SPOOL, default .reprolab/tracking-spool), and `reprolab tracking
sync` (also run when a workflow ends) replays them once the server is back. `tracking.uri: none`
turns tracking off.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# JSON {paper: run id} of the parent runs of the current workflow execution; set by the
# Snakefile's onstart (reprolab.workflow_runs) and inherited by every job it starts.
PARENT_RUNS_ENV = "REPROLAB_PARENT_RUN_IDS"
# Where jobs spool tracking calls a server could not take, and a switch the workflow sets when
# the server was unreachable at its start (jobs then spool without trying).
SPOOL_ENV = "REPROLAB_TRACKING_SPOOL"
OFFLINE_ENV = "REPROLAB_TRACKING_OFFLINE"
# Set by the workflow for its jobs when `tracking.defer` is on: a job spools its calls without
# importing MLflow or taking the database lock (seconds a job), and the workflow replays them
# all in one process when it ends (reprolab.workflow_runs.finish_execution).
DEFER_ENV = "REPROLAB_TRACKING_DEFER"
LOCAL_PREFIX = "spool-"
# The MLflow client's own retries wait minutes on a dead server; a job waits seconds.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "10", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"}


def spool_dir() -> Path:
    return Path(os.environ.get(SPOOL_ENV, ".reprolab/tracking-spool"))


def tracking_off(uri: str) -> bool:
    return uri.strip().lower() == "none"


def _unreachable(err: BaseException) -> bool:
    """A connection failure (server down, refused, timed out), not a bad request."""
    text = f"{type(err).__name__}: {err}".lower()
    signs = ("connection", "max retries", "timed out", "timeout", "api request to", "refused")
    return any(sign in text for sign in signs)


def _transient(err: BaseException) -> bool:
    """A write that succeeds when tried again: SQLite busy, or two jobs creating the same
    dataset at once (a server creates a dataset on first use; the loser of the race finds it)."""
    text = str(err).lower()
    return "locked" in text or "unique constraint failed: datasets" in text


def check_tracking(uri: str, timeout: float = 5.0) -> str:
    """At workflow start: 'off', 'ok', or 'offline' (an http server that does not answer
    /health; then OFFLINE_ENV is set so every job spools at once), with a clear log line."""
    if tracking_off(uri):
        log.info("tracking is off (tracking.uri: none); results are in files only")
        return "off"
    if not uri.startswith(("http://", "https://")):
        return "ok"
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            return "ok"
    except OSError as err:
        os.environ[OFFLINE_ENV] = "1"
        log.warning(
            "MLflow server %s does not answer (%s): the jobs run anyway and spool their runs "
            "in %s; `reprolab tracking sync` replays them (the workflow tries at its end)",
            uri,
            err,
            spool_dir(),
        )
        return "offline"


def parent_run_id(paper: str) -> str | None:
    """The run of this workflow execution that a job of `paper` nests under, if any."""
    raw = os.environ.get(PARENT_RUNS_ENV, "")
    if not raw:
        return None
    try:
        return json.loads(raw).get(paper)
    except (json.JSONDecodeError, AttributeError):
        log.warning("ignoring %s: not a JSON object: %r", PARENT_RUNS_ENV, raw)
        return None


def tracking_uri(suite: dict) -> str:
    """MLFLOW_TRACKING_URI wins over the config, so a server can be chosen per invocation."""
    return os.environ.get("MLFLOW_TRACKING_URI", suite["tracking"]["uri"])


def experiment_name(suite: dict, paper: str) -> str:
    return f"{suite['tracking']['experiment_prefix']}/{paper}"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# The packages whose versions a result depends on: every run's tags and claims.json's provenance.
PACKAGES = ("torch", "transformers", "trl", "vllm", "reprolab")


def package_versions() -> dict[str, str]:
    """{package: version} of PACKAGES, leaving out those not installed (vLLM off the GPU path)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def provenance_tags(source: str) -> dict[str, str]:
    """The commit, the source and the package versions, in the tags MLflow's UI reads
    (`mlflow.source.*` fill its Source column and the run page's Git commit)."""
    commit = git_commit()
    tags = {
        "git_commit": commit,
        "mlflow.source.git.commit": commit,
        "mlflow.source.name": source,
        "mlflow.source.type": "LOCAL",
    }
    tags.update({f"package.{name}": v for name, v in package_versions().items()})
    return tags


def input_datasets(inputs: dict[str, list[Path]], suite: dict) -> list[dict[str, Any]]:
    """A step's input files as MLflow datasets: named by their path in the paper's folder
    (<scale>/<paper>/), with the sha256 and row count of their sidecar (JSONL, reprolab.io) or
    of their bytes, and the declared input name as context. Folders (models) are left out."""
    import hashlib

    from reprolab.io import sidecar

    datasets = []
    for context, paths in inputs.items():
        for path in map(Path, paths):
            if not path.is_file():
                continue
            profile: dict[str, Any] = {"bytes": path.stat().st_size}
            meta = sidecar(path)
            if meta.is_file():
                recorded = json.loads(meta.read_text())
                digest, profile["num_rows"] = recorded["sha256"], recorded["rows"]
            else:
                with path.open("rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
            parts, folder = path.parts, (suite["scale"], suite["paper"])
            # results/<scale>/<paper>/data/test.jsonl -> data/test.jsonl
            at = [i for i in range(len(parts) - 2) if parts[i : i + 2] == folder]
            name = "/".join(parts[at[0] + 2 :]) if at else str(path)
            datasets.append(
                {
                    "name": name,
                    # MLflow keeps 36 characters of a digest; the full hash is in the profile.
                    "digest": digest[:32],
                    "source": json.dumps({"uri": str(path.resolve())}),
                    "profile": json.dumps({**profile, "sha256": digest}),
                    "context": context,
                }
            )
    return datasets


def _dataset_inputs(datasets: list[dict[str, Any]]) -> list:
    from mlflow.entities import Dataset, DatasetInput, InputTag

    return [
        DatasetInput(
            Dataset(d["name"], d["digest"], "local", d["source"], profile=d["profile"]),
            [InputTag("mlflow.data.context", d["context"])],
        )
        for d in datasets
    ]


def _lock_path(uri: str) -> Path | None:
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///") + ".lock")
    return None


class Tracker:
    """A thin, lock-guarded handle on one MLflow run that spools when the server is away."""

    def __init__(self, uri: str):
        self.uri = uri
        self.disabled = tracking_off(uri)
        self.offline = "1" in (os.environ.get(OFFLINE_ENV), os.environ.get(DEFER_ENV))
        self.lock = _lock_path(uri)
        self.run_id: str | None = None
        self.spool: Path | None = None
        if uri.startswith(("http://", "https://")):
            for key, value in HTTP_DEFAULTS.items():
                os.environ.setdefault(key, value)

    @functools.cached_property
    def mlflow(self):
        """MLflow, imported on first use: a job that spools never pays for it."""
        import mlflow

        return mlflow

    def client(self):
        """A client of this tracker's store (made per call: cheap once MLflow is imported)."""
        return self.mlflow.MlflowClient(self.uri)

    def _spool(self, op: dict) -> None:
        if self.spool is None:
            folder = spool_dir()
            folder.mkdir(parents=True, exist_ok=True)
            self.spool = folder / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.jsonl"
        with self.spool.open("a") as handle:
            handle.write(json.dumps({"uri": self.uri, **op}) + "\n")

    def _send(self, op: dict, fn: Callable[..., T], *args, **kwargs) -> T | None:
        """Call the server, or spool `op` when it is away (and keep spooling this run). `fn`
        builds its MLflow call lazily (a lambda), so a spooling job never imports MLflow."""
        if self.disabled:
            return None
        local = str(self.run_id or "").startswith(LOCAL_PREFIX)
        if self.offline or local:
            self._spool(op)
            return None
        try:
            return self._call(fn, *args, **kwargs)
        except Exception as err:
            if not _unreachable(err):
                raise
            log.warning(
                "MLflow at %s unreachable (%s): spooling this run's tracking", self.uri, err
            )
            self.offline = True
            self._spool(op)
            return None

    def _call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        for attempt in range(8):
            try:
                with self._locked():
                    return fn(*args, **kwargs)
            except Exception as err:  # MLflow wraps sqlite errors in several types
                if not _transient(err) or attempt == 7:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self.lock is None:
            yield
            return
        self.lock.parent.mkdir(parents=True, exist_ok=True)
        with self.lock.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(self, experiment: str, run_name: str, tags: dict[str, str]) -> str | None:
        if self.disabled:
            return None

        local = f"{LOCAL_PREFIX}{uuid.uuid4().hex}"
        op = {"op": "start", "run": local, "experiment": experiment, "name": run_name, "tags": tags}
        self.run_id = self._send(op, self._create_run, experiment, run_name, tags) or local
        return self.run_id

    def _create_run(self, experiment: str, run_name: str, tags: dict[str, str]) -> str:
        self.mlflow.set_tracking_uri(self.uri)
        found = self.mlflow.get_experiment_by_name(experiment)
        exp_id = found.experiment_id if found else self.mlflow.create_experiment(experiment)
        client = self.mlflow.MlflowClient(self.uri)
        return client.create_run(exp_id, run_name=run_name, tags=tags).info.run_id

    def log_params(self, params: dict[str, Any]) -> None:
        if self.disabled:
            return

        def batch(chunk: dict[str, str]) -> None:
            from mlflow.entities import Param

            items = [Param(k, v) for k, v in chunk.items()]
            self.client().log_batch(self.run_id, params=items)

        flat = {k: str(v)[:6000] for k, v in flatten(params).items()}
        keys = list(flat)
        for start in range(0, len(keys), 100):
            chunk = {k: flat[k] for k in keys[start : start + 100]}
            self._send({"op": "params", "run": self.run_id, "params": chunk}, batch, chunk)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if self.disabled:
            return
        now = int(time.time() * 1000)

        def batch(chunk: dict[str, float]) -> None:
            from mlflow.entities import Metric

            items = [Metric(k, v, now, step or 0) for k, v in chunk.items()]
            self.client().log_batch(self.run_id, metrics=items)

        numeric = {
            k: float(v)
            for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        keys = list(numeric)
        for start in range(0, len(keys), 500):
            chunk = {k: numeric[k] for k in keys[start : start + 500]}
            op = {"op": "metrics", "run": self.run_id, "metrics": chunk, "step": step or 0}
            op["time"] = now
            self._send(op, batch, chunk)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        if self.disabled:
            return
        op = {"op": "artifact", "run": self.run_id, "path": str(Path(path).resolve())}
        op["artifact_path"] = artifact_path
        self._send(op, lambda: self.client().log_artifact(self.run_id, str(path), artifact_path))

    def log_text(self, text: str, artifact_file: str) -> None:
        """A small artifact made on the spot (a scorecard section): spooled as its text, since
        no file of it outlives the call."""
        if self.disabled:
            return
        op = {"op": "text", "run": self.run_id, "text": text, "artifact_file": artifact_file}
        self._send(op, lambda: self.client().log_text(self.run_id, text, artifact_file))

    def log_inputs(self, datasets: list[dict[str, Any]]) -> None:
        """Input files as MLflow datasets (input_datasets), listed on the run's page."""
        if self.disabled or not datasets:
            return
        op = {"op": "inputs", "run": self.run_id, "datasets": datasets}

        def call() -> None:
            self.client().log_inputs(self.run_id, _dataset_inputs(datasets))

        try:
            self._send(op, call)
        except Exception as err:  # a listing of the inputs is never worth a job
            log.warning("input datasets not logged to run %s: %s", self.run_id, err)

    def end(self, status: str) -> None:
        if self.disabled:
            return
        op = {"op": "end", "run": self.run_id, "status": status}
        self._send(op, lambda: self.client().set_terminated(self.run_id, status))

    def has_children(self, experiment: str) -> bool:
        """Whether any run of `experiment` names this run as its parent (assumed so when the
        server cannot be asked: a spooled parent is kept)."""
        if self.disabled or self.offline or str(self.run_id).startswith(LOCAL_PREFIX):
            return True
        if any(spool_dir().glob("*.jsonl")):
            return True  # calls still wait in the spool: a child may be among them
        client = self.client()
        exp = self._call(client.get_experiment_by_name, experiment)
        found = self._call(
            client.search_runs,
            [exp.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{self.run_id}'",
            max_results=1,
        )
        return bool(found)

    def delete(self) -> None:
        if self.disabled:
            return
        op = {"op": "delete", "run": self.run_id}
        self._send(op, lambda: self.client().delete_run(self.run_id))


def close_stale_runs(uri: str, experiment: str, workdir: str) -> int:
    """Runs of this working directory still RUNNING when a new workflow starts there were left
    by a crash (Snakemake's lock forbids two executions in one directory): mark them KILLED."""
    tracker = Tracker(uri)
    if tracker.disabled or tracker.offline:
        return 0
    client = tracker.mlflow.MlflowClient(uri)
    found = tracker._call(client.get_experiment_by_name, experiment)
    if found is None:
        return 0
    stale = tracker._call(
        client.search_runs,
        [found.experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.workdir = '{workdir}'",
    )
    for run in stale:
        tracker._call(client.set_terminated, run.info.run_id, "KILLED")
    if stale:
        log.info("%s: %d runs left RUNNING by a crash marked KILLED", experiment, len(stale))
    return len(stale)


def sync_spool(folder: Path | None = None) -> dict[str, int]:
    """Replay spooled tracking calls, oldest job first; {'replayed': ops, 'left': files}.

    Runs started while the server was away get a server id on replay; the mapping (kept in
    mapping.json, since a child may name a spooled parent in its tags) rewrites later ops. A
    file is deleted once all its ops went through; a replay cut short resumes where it stopped
    (`<file>.done` counts the ops already sent). Once nothing is left to replay, the mapping
    keeps only runs still RUNNING in the store (a workflow's parent may get more children);
    a finished run is named by no later op, so its entry would only grow the file a job a time.
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    folder = Path(folder or spool_dir())
    if not folder.exists():
        return {"replayed": 0, "left": 0}
    mapping_path, uris_path = folder / "mapping.json", folder / "mapping-uris.json"
    mapping = json.loads(mapping_path.read_text()) if mapping_path.exists() else {}
    uris = json.loads(uris_path.read_text()) if uris_path.exists() else {}
    replayed, left = 0, 0
    stores: dict[str, tuple[Tracker, MlflowClient]] = {}  # one pair a store, not one an op
    for path in sorted(folder.glob("*.jsonl")):
        done_path = path.with_suffix(".done")
        done = int(done_path.read_text()) if done_path.exists() else 0
        ops = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        try:
            for index, op in enumerate(ops[done:], start=done):
                if op["uri"] not in stores:
                    stores[op["uri"]] = (Tracker(op["uri"]), MlflowClient(op["uri"]))
                tracker, client = stores[op["uri"]]
                run = mapping.get(op["run"], op["run"])
                if op["op"] == "start":
                    tags = {k: mapping.get(v, v) for k, v in op["tags"].items()}
                    mapping[op["run"]] = tracker._call(
                        tracker._create_run, op["experiment"], op["name"], tags
                    )
                    uris[op["run"]] = op["uri"]
                    # Only a start changes them: written before the op counts as done.
                    mapping_path.write_text(json.dumps(mapping))
                    uris_path.write_text(json.dumps(uris))
                elif op["op"] == "params":
                    items = [Param(k, v) for k, v in op["params"].items()]
                    tracker._call(client.log_batch, run, params=items)
                elif op["op"] == "metrics":
                    items = [Metric(k, v, op["time"], op["step"]) for k, v in op["metrics"].items()]
                    tracker._call(client.log_batch, run, metrics=items)
                elif op["op"] == "artifact":
                    tracker._call(client.log_artifact, run, op["path"], op["artifact_path"])
                elif op["op"] == "text":
                    tracker._call(client.log_text, run, op["text"], op["artifact_file"])
                elif op["op"] == "inputs":
                    datasets = _dataset_inputs(op["datasets"])
                    tracker._call(client.log_inputs, run, datasets)
                elif op["op"] == "end":
                    tracker._call(client.set_terminated, run, op["status"])
                elif op["op"] == "delete":
                    tracker._call(client.delete_run, run)
                done_path.write_text(str(index + 1))
                replayed += 1
        except Exception as err:
            if not _unreachable(err):
                raise
            log.warning(
                "tracking sync stopped at %s: %s (rerun `reprolab tracking sync`)", path, err
            )
            left += 1
            break
        path.unlink()
        done_path.unlink(missing_ok=True)
    left = max(left, len(list(folder.glob("*.jsonl"))))
    if not left and mapping:
        mapping = _running_only(mapping, uris)
        mapping_path.write_text(json.dumps(mapping))
        uris_path.write_text(json.dumps({k: uris[k] for k in mapping if k in uris}))
    log.info("tracking sync: %d calls replayed, %d spool files left", replayed, left)
    return {"replayed": replayed, "left": left}


def _running_only(mapping: dict[str, str], uris: dict[str, str]) -> dict[str, str]:
    """The mapping's entries whose server run is still RUNNING (or cannot be looked up).

    `uris` holds each run's store (mapping-uris.json); an entry written before stores were
    recorded has none to ask and stays.
    """
    from mlflow import MlflowClient

    kept, clients = {}, {}
    for local, server in mapping.items():
        uri = uris.get(local)
        try:
            if uri and uri not in clients:
                clients[uri] = MlflowClient(uri)
            status = clients[uri].get_run(server).info.status if uri else "RUNNING"
        except Exception:  # an unreachable store or a deleted run: keep, decide next time
            status = "RUNNING"
        if status == "RUNNING":
            kept[local] = server
    return kept


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}: flat params compare side by side in the MLflow UI."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


@contextlib.contextmanager
def tracked_run(
    cfg: dict, rule: str, params: dict | None = None, source: str | None = None
) -> Iterator[Tracker]:
    """An MLflow run for one rule execution of one paper, tagged for comparison.

    cfg is a resolved paper config (reprolab.config.load_paper_config). The run is named `rule`
    (`score:grpo_sgd`): the experiment already names the paper. Inside a workflow execution the
    run is a child of that execution's parent run for the paper. `source` is the command shown
    in MLflow's Source column. The run ends FINISHED, or FAILED if the body raises.
    """
    suite = cfg["suite"]
    uri = tracking_uri(suite)
    tracker = Tracker(uri)
    tags = {
        "paper": suite["paper"],
        "scale": suite["scale"],
        "rule": rule,
        "seed": str(suite["seed"]),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
        "workdir": os.getcwd(),
        **provenance_tags(source or f"reprolab {suite['paper']}"),
    }
    parent = parent_run_id(suite["paper"])
    if parent:
        tags["mlflow.parentRunId"] = parent  # the UI nests the run under its workflow execution
    experiment = experiment_name(suite, suite["paper"])
    tracker.start(experiment, rule, tags)
    log.info("MLflow run %s in experiment %s (%s)", tracker.run_id, experiment, uri)
    if params:
        tracker.log_params(params)
    try:
        yield tracker
    except BaseException:
        tracker.end("FAILED")
        raise
    tracker.end("FINISHED")


def log_figures(cfg: dict, paths: list[Path], rule: str = "plot") -> None:
    """One run for a paper's plot step, holding each figure and the CSV of its data."""
    with tracked_run(cfg, rule) as tracker:
        for path in paths:
            tracker.log_artifact(path, "figures")
            tracker.log_artifact(path.with_suffix(".csv"), "figures")

"""vars's steps: data (MiniCollab profiles with their decoys, and at full scale the first
profiles of MultiSessionCollab's file read at the pinned commit; tasks), train (the PCA
projection of card embeddings, fitted and stored), run (every method's multi-session episodes
of one harness setting, in lockstep), metrics, plot."""

from __future__ import annotations

import logging
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["method_table", "learning_curves", "vector_norms"]


def settings(cfg: dict) -> list[str]:
    """The harness settings (one run job each), in config order."""
    return list(cfg["settings"])


def _embedder(cfg: dict):
    from reprolab.embeddings import get_embedder

    # The job config carries the registry entry of the model its sections name (job_config).
    return get_embedder(
        cfg["embedding"]["model"], cfg["models"], **cfg["embedding"].get("options", {})
    )


def data(cfg: dict, tracker: Tracker, *, profiles: Path, tasks: Path) -> dict:
    from reprolab.io import write_counted
    from reprolab.papers.vars import harness as hz
    from reprolab.papers.vars.agent import is_global

    d, seed = cfg["data"], cfg["suite"]["seed"]
    rows = hz.profiles(d["n_profiles"], tuple(d["rules_per_profile"]), seed)
    lib = {r.id: r for r in hz.library()}
    for row in rows:  # decoys: the conflicting alternatives of the profile's retrieved rules
        own = {lib[rid].group: rid for rid in row["rules"]}
        alts = [r for r in lib.values() if r.group in own and r.id != own[r.group]]
        alts = [r for r in alts if not is_global(r.condition)]
        row["decoys"] = [{"condition": r.condition, "action": r.action, "rule": r.id} for r in alts]
    spec = d.get("benchmark")
    if spec is not None:  # full scale: the benchmark's own profiles, for the settings that ask
        from reprolab.papers.vars import benchmark, upstream

        rows += benchmark.profile_rows(upstream.profiles(spec), spec["n_profiles"])
    counts = write_counted(profiles, rows, "profiles")
    made = [
        {**t, "list": name}
        for name, spec in d["task_lists"].items()
        for t in hz.tasks(spec["n_sessions"], seed, spec["code_share"])
    ]
    counts.update(write_counted(tasks, made, "tasks"))
    return counts


def train(cfg: dict, tracker: Tracker, *, projection: Path) -> dict:
    """PCA over the embeddings of every card note the harness can produce (its rule library)."""
    import numpy as np

    from reprolab.papers.vars import harness as hz
    from reprolab.papers.vars.agent import Projection

    notes = [r.note for r in hz.library()]
    e = _embedder(cfg).encode(notes).astype(np.float64)
    p = Projection.fit(e, cfg["pca"]["k"])
    projection.parent.mkdir(parents=True, exist_ok=True)
    np.savez(projection, mean=p.mean, components=p.components, explained=p.explained)
    return {
        "pca_k": float(len(p.explained)),
        "pca_explained": float(p.explained.sum()),
        "pca_corpus": float(len(notes)),
    }


def _setting(cfg: dict, wc: dict) -> dict:
    """A run job's sections: its setting only (another setting's change reruns nothing here)."""
    s = wc.get("setting")
    keep = {"agent", "vars", "embedding", "harness", "methods"}
    out = {k: cfg[k] for k in keep}
    out["settings"] = {s: cfg["settings"][s]} if s else cfg["settings"]
    return out


def run(cfg: dict, tracker: Tracker, *, setting: str, profiles: Path, tasks: Path,
        projection: Path, model: Path, sessions: Path, episodes: Path) -> dict:  # fmt: skip
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.vars.run import run_setting

    rows, stats = run_setting(
        cfg,
        setting,
        read_jsonl(profiles),
        read_jsonl(tasks),
        projection,
        model,
        episodes,
        _embedder(cfg),
    )
    write_jsonl(sessions, rows)
    return stats


def metrics(cfg: dict, tracker: Tracker, *, sessions: list[Path], metrics: Path) -> Published:
    from reprolab.io import read_jsonl
    from reprolab.papers.vars.summary import summarize

    return summarize(cfg, [r for p in sessions for r in read_jsonl(p)])


def plot(cfg: dict, tracker: Tracker, *, sessions: list[Path], metrics: Path,
         figures: Path) -> list[Path]:  # fmt: skip
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.vars import plot as draw

    rows = [r for p in sessions for r in read_jsonl(p)]
    return [
        draw.method_table(read_json(metrics), cfg, figures / "method_table.png", rows),
        draw.learning_curves(rows, figures / "learning_curves.png"),
        draw.vector_norms(rows, figures / "vector_norms.png"),
    ]


STEPS = [
    Step("data", data, "MiniCollab (and at full MultiSessionCollab) profiles; the session tasks",
         outputs=("profiles", "tasks"), reads=("data",)),
    Step("train", train, "fit the PCA projection of card embeddings (stored, never raw dims)",
         outputs=("projection",), reads=("pca", "embedding")),
    Step("run", run, "every method's multi-session episodes of one setting, in lockstep",
         wildcards=("setting",), inputs=("profiles", "tasks", "projection", "model"),
         outputs=("sessions", "episodes"),
         reads=("agent", "vars", "embedding", "harness", "methods", "settings"),
         sections=_setting, kind="generate"),
    Step("metrics", metrics, "per-method success, timeout, effort, enforcement; units.json",
         inputs=("sessions",), outputs=("metrics",), reads=("settings", "metrics")),
    Step("plot", plot, "draw the figures", inputs=("sessions", "metrics"), params=("figures",),
         reads=("settings", "metrics")),
]  # fmt: skip

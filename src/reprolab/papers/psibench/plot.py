"""psibench's figures, each a PNG with the CSV of its data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab.papers.psibench import measures
from reprolab.papers.psibench.data import patient_messages
from reprolab.papers.psibench.summary import _labels_of
from reprolab.plotting import figure, save

SCORE_COLUMNS = ("mtld", "valence", "ptc", "verbosity", "markers", "aggregate")


def _order(by: dict) -> list[str]:
    rest = sorted(s for s in by if s != "real")
    return (
        ["real"]
        + [s for s in rest if not s.startswith("control_")]
        + [s for s in rest if s.startswith("control_")]
    )


def valence_trajectories(by: dict, rows: list[dict], cfg: dict, path: Path) -> Path:
    """Share of positive patient turns (neutral dropped) per turn index, per system."""
    labels = _labels_of(rows, cfg["labels"]["primary"])
    records = []
    for system in _order(by):
        seqs = [labels[(system, s["id"])]["valence"] for s in by[system]]
        for t, dist in enumerate(
            measures.turn_distributions(seqs, measures.VALENCE_LABELS, cfg["metrics"]["max_turns"])
        ):
            if dist is not None:
                records.append({"system": system, "turn": t, "positive_share": float(dist[1])})
    data = pd.DataFrame(records)
    fig, (ax,) = figure(width=7.0, height=4.0)
    for system, part in data.groupby("system", sort=False):
        style = {"color": "black", "lw": 2.5} if system == "real" else {"lw": 1.2, "alpha": 0.8}
        ls = "--" if system.startswith("control_") else "-"
        ax.plot(part["turn"], part["positive_share"], ls, label=system, **style)
    ax.set_xlabel("patient turn index")
    ax.set_ylabel("share positive (of non-neutral)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=6, ncol=2)
    return save(fig, data, path)


def mtld_distributions(by: dict, cfg: dict, path: Path) -> Path:
    m = cfg["metrics"]
    records = []
    for system in _order(by):
        for s in by[system]:
            v = measures.session_mtld(
                patient_messages(s, m["max_turns"]), m["mtld_threshold"], m["mtld_min_tokens"]
            )
            records.append({"system": system, "session": s["id"], "mtld": v})
    data = pd.DataFrame(records)
    fig, (ax,) = figure(width=7.0, height=4.0)
    systems = list(dict.fromkeys(data["system"]))
    for i, system in enumerate(systems):
        values = data[(data["system"] == system) & data["mtld"].notna()]["mtld"].to_numpy()
        if len(values):
            ax.boxplot(values, positions=[i], widths=0.6, vert=False)
            ax.plot(values, np.full(len(values), i), "o", ms=3, alpha=0.6)
    ax.set_yticks(range(len(systems)), systems, fontsize=7)
    ax.set_xlabel(f"bidirectional MTLD (sessions >= {m['mtld_min_tokens']} tokens)")
    return save(fig, data, path)


def verbosity(by: dict, cfg: dict, path: Path) -> Path:
    turns = cfg["metrics"]["max_turns"]
    records = []
    for system in _order(by):
        msgs = [patient_messages(s, turns) for s in by[system]]
        wpt, wps = measures.per_turn_means(msgs, turns)
        records.append({"system": system, "words_per_turn": wpt, "words_per_sentence": wps})
    data = pd.DataFrame(records)
    fig, axes = figure(ncols=2, width=4.0, height=4.0)
    for ax, column in zip(axes, ("words_per_turn", "words_per_sentence"), strict=True):
        ax.barh(data["system"], data[column], color=["black"] + ["C0"] * (len(data) - 1))
        ax.set_xlabel(column.replace("_", " "))
        ax.tick_params(axis="y", labelsize=7)
        ax.invert_yaxis()
    return save(fig, data, path)


def score_table(values: dict, path: Path) -> Path:
    systems = sorted({k.rsplit(".", 1)[0] for k in values if k.endswith(".aggregate")})
    systems = [s for s in systems if not s.startswith("control_")] + [
        s for s in systems if s.startswith("control_")
    ]
    data = pd.DataFrame(
        [
            {"system": s, **{c: values.get(f"{s}.{c}", np.nan) for c in SCORE_COLUMNS}}
            for s in systems
        ]
    )
    fig, (ax,) = figure(width=7.0, height=0.45 * max(len(systems), 2) + 1.2)
    grid = data[list(SCORE_COLUMNS)].to_numpy(dtype=float)
    ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(SCORE_COLUMNS)), SCORE_COLUMNS)
    ax.set_yticks(range(len(systems)), systems, fontsize=7)
    ax.grid(False)
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if np.isfinite(grid[i, j]):
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if grid[i, j] < 60 else "black",
                )
    return save(fig, data, path)

"""atod's figures, each a PNG with the CSV of its data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.lines import Line2D

from reprolab.papers.atod.summary import dialogue_scores
from reprolab.plotting import figure, save


def tradeoff(values: dict, systems: list[str], path: Path) -> Path:
    """Accuracy against cost: status accuracy and detection F1 over tokens read per utterance,
    one point per evaluator arm, long and short dialogues apart."""
    records = []
    for s in systems:
        for part in ("long", "short"):
            acc = values.get(f"{s}.status_accuracy.{part}")
            if acc is None:
                continue
            records.append(
                {
                    "system": s,
                    "dialogues": part,
                    "tokens_per_turn": values.get(f"{s}.tokens_per_turn", float("nan")),
                    "status_accuracy": acc,
                    "detection_f1": values.get(f"{s}.detection_f1.{part}", float("nan")),
                }
            )
    data = pd.DataFrame(records)
    # One colour an arm, one marker a dialogue length, named in a legend beside the panels:
    # arms of the same cost sit on top of each other, where labels beside points collide.
    colours = {s: f"C{i % 10}" for i, s in enumerate(dict.fromkeys(data["system"]))}
    markers = {"short": "o", "long": "s"}
    fig, axes = figure(ncols=3, width=3.6, height=3.6)
    for ax, col in zip(axes[:2], ("status_accuracy", "detection_f1"), strict=True):
        for (system, part), row in data.groupby(["system", "dialogues"], sort=False):
            ax.scatter(
                row["tokens_per_turn"], row[col], marker=markers[part], s=40,
                color=colours[system], alpha=0.75, edgecolors="none",
            )  # fmt: skip
        ax.set_xscale("symlog")
        ax.set_xlabel("tokens read per utterance")
        ax.set_ylabel(col.replace("_", " "))
        ax.set_ylim(-0.02, 1.05)
    handles = [Line2D([], [], ls="", marker="o", color=c, label=s) for s, c in colours.items()]
    handles += [
        Line2D([], [], ls="", marker=m, color="0.4", label=f"{p} dialogues")
        for p, m in markers.items()
    ]
    axes[2].axis("off")
    axes[2].legend(handles=handles, loc="center left", fontsize=7, frameon=False)
    return save(fig, data, path)


def by_goals(values: dict, systems: list[str], path: Path) -> Path:
    """Where each evaluator breaks: final status accuracy per number of goals."""
    records = []
    for s in systems:
        prefix = f"{s}.status_accuracy.goals_"
        for k, v in values.items():
            if k.startswith(prefix):
                records.append({"system": s, "goals": int(k[len(prefix) :]), "status_accuracy": v})
    data = pd.DataFrame(records).sort_values(["system", "goals"])
    fig, (ax,) = figure(width=6.5, height=4.0)
    for system, part in data.groupby("system", sort=False):
        ax.plot(part["goals"], part["status_accuracy"], "-o", label=system, ms=3)
    ax.set_xlabel("goals in the dialogue")
    ax.set_ylabel("final status accuracy")
    ax.set_ylim(-0.02, 1.05)
    ax.legend(fontsize=6)
    return save(fig, data, path)


def mra_dgcr(dialogues: list[dict], by: dict, seconds: dict, path: Path) -> Path:
    """MRA against the evaluator's reconstructed dGCR minus the gold dGCR, per (arm, dialogue)."""
    from reprolab.papers.atod import atod_eval as ev

    gold = {d["dialogue_id"]: d for d in dialogues}
    records = []
    for system, rows in sorted(by.items()):
        for r in rows:
            d = gold[r["dialogue_id"]]
            sc = dialogue_scores(r, d, 0.0)
            c, n = ev.dgcr_counts(d["goal_list"])
            records.append(
                {
                    "system": system,
                    "dialogue": r["dialogue_id"],
                    "mra": sc["mra"],
                    "dgcr": sc["dgcr"],
                    "gold_dgcr": ev.ratio(c, n),
                }
            )
    data = pd.DataFrame(records)
    data["dgcr_error"] = data["dgcr"] - data["gold_dgcr"]
    fig, (ax,) = figure(width=6.0, height=4.0)
    for system, part in data.groupby("system", sort=False):
        ax.scatter(part["mra"], part["dgcr_error"], s=14, label=system, alpha=0.8)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("memory recall accuracy (MRA)")
    ax.set_ylabel("reconstructed dGCR - gold dGCR")
    ax.legend(fontsize=6)
    return save(fig, data, path)

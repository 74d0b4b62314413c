"""The paper's figures from the nested summary, each a PNG with its data as CSV."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from reprolab import plotting


def gar_vs_turn(summary: dict, out: Path) -> Path:
    """GAR against turn, raw and length-normalised, for every fact task and condition."""
    rows = []
    for task, conditions in summary["tasks"].items():
        for condition, s in conditions.items():
            for turn, raw, norm in zip(s["turns"], s["gar"], s["gar_norm"], strict=True):
                rows.append({"task": task, "condition": condition, "window": s["window"],
                             "turn": turn, "gar": raw, "gar_norm": norm})  # fmt: skip
    data = pd.DataFrame(rows)
    fig, (raw_ax, norm_ax) = plotting.figure(ncols=2, width=5.0)
    for (task, condition), part in data.groupby(["task", "condition"], sort=False):
        if condition != "full" and not condition.startswith("w"):
            continue
        style = "-" if condition == "full" else ":"
        raw_ax.plot(part.turn, part.gar, style, marker="o", ms=3, label=f"{task} {condition}")
        norm_ax.plot(part.turn, part.gar_norm, style, marker="o", ms=3)
    raw_ax.set_xlabel("turn")
    raw_ax.set_ylabel("GAR (attention mass on goal tokens)")
    raw_ax.set_title("GAR against turn")
    raw_ax.legend(fontsize=6, ncol=2)
    norm_ax.set_xlabel("turn")
    norm_ax.set_ylabel("GAR / goal share of visible keys")
    norm_ax.set_title("Length-normalised GAR")
    return plotting.save(fig, data, out)


def recall_vs_turn(summary: dict, task: str, sweep: list[str], reference: str, out: Path) -> Path:
    """Recall against turn under full attention and each window, predicted crossover marked."""
    conditions = summary["tasks"][task]
    rows = []
    for condition in [reference, *sweep]:
        s = conditions[condition]
        for turn, value in s["recall"].items():
            rows.append({"condition": condition, "window": s["window"], "turn": int(turn),
                         "recall": value, "predicted_cross": s["predicted_cross"]})  # fmt: skip
    # The summary's JSON keeps turns as sorted strings ("10" before "2"): order them as numbers.
    data = pd.DataFrame(rows).sort_values(["turn"], kind="stable")
    fig, (ax,) = plotting.figure(width=6.5)
    colors = plotting.plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (_, part) in enumerate(data.groupby("condition", sort=False)):
        color = colors[k % len(colors)]
        window = part.window.iloc[0]
        label = "full attention" if window is None or pd.isna(window) else f"W={int(window)}"
        ax.plot(part.turn, part.recall, marker="o", color=color, label=label)
        cross = part.predicted_cross.iloc[0]
        if not pd.isna(cross):
            ax.axvline(cross, color=color, ls="--", lw=1)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("turn (dashed: predicted crossover of the window of that colour)")
    ax.set_ylabel("recall")
    ax.set_title(f"{task}: recall against turn under sliding-window closure")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def crossover_vs_window(summary: dict, out: Path) -> Path:
    """Predicted and observed crossover turn against W, each with its least-squares line."""
    s = summary["crossover"]
    data = pd.DataFrame(
        {"window": s["windows"], "predicted": s["predicted"], "observed": s["observed"]}
    )
    fig, (ax,) = plotting.figure(width=5.5)
    grid = np.linspace(min(s["windows"]), max(s["windows"]), 50)
    for column, fit, marker in (
        ("predicted", s["fit_predicted"], "o"),
        ("observed", s["fit_observed"], "s"),
    ):
        ax.scatter(data.window, data[column], marker=marker, label=column)
        if not math.isnan(fit["slope"]):
            ax.plot(grid, fit["slope"] * grid + fit["intercept"], lw=1,
                    label=f"{column} fit: R^2={fit['r2']:.3f}")  # fmt: skip
    ax.set_xlabel("window W (tokens)")
    ax.set_ylabel("crossover turn")
    ax.set_title("Crossover turn against window width")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def probe_auc(summary: dict, out: Path) -> Path:
    """Leave-one-out probe AUC per layer; layer 0 (input embeddings) is the baseline."""
    data = pd.DataFrame({"layer": summary["probe"]["layers"], "auc": summary["probe"]["auc"]})
    fig, (ax,) = plotting.figure(width=5.5)
    ax.plot(data.layer, data.auc, marker="o", ms=3)
    if data.auc.isna().all():
        note = "AUC undefined: too few episodes in one class\n(see probe.n, probe.positives)"
        ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)
    ax.axhline(0.5, color="0.4", ls="--", lw=1, label="chance")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("layer (0 = input embeddings)")
    ax.set_ylabel("probe AUC (PCA + LDA, leave-one-out)")
    ax.set_title("Residual probes of recall after the crossover")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def persona_violations(summary: dict, out: Path) -> Path:
    """Persona rule violation rates per condition, over all turns and over the late half."""
    rows = [
        {
            "condition": c,
            "violation_rate": s["violation_rate"],
            "violation_rate_late": s["violation_rate_late"],
            **s["rules"],
        }  # fmt: skip
        for c, s in summary["persona"].items()
    ]
    data = pd.DataFrame(rows)
    fig, (ax,) = plotting.figure(width=6.0)
    x = np.arange(len(data))
    ax.bar(x - 0.2, data.violation_rate, 0.4, label="all turns")
    ax.bar(x + 0.2, data.violation_rate_late, 0.4, label="late half")
    ax.set_xticks(x, data.condition)
    ax.set_ylim(0, 1)
    ax.set_ylabel("rule violation rate")
    ax.set_title("Persona violations: closure vs adversarial pressure")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)

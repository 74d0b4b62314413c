"""The suite's house style: every figure is a PNG with the CSV of the data behind it."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = {
    "figure.dpi": 120,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


def figure(ncols: int = 1, width: float = 5.0, height: float = 3.6):
    plt.rcParams.update(STYLE)
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def save(fig, data: pd.DataFrame, path: Path) -> Path:
    """Write path (.png) and, beside it, the same name with .csv holding the plotted data."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    data.to_csv(path.with_suffix(".csv"), index=False)
    return path


def forest_plot(claims: dict, path: Path) -> Path:
    """A paper's science claims at a glance: each claim's estimate and interval (one row, its own
    scale) against its threshold (dashed) and the paper's value (a star, where it is a number).
    Claims without an interval are listed with their verdict only."""
    rows = [c for c in claims["claims"] if c["kind"] == "science"]
    plt.rcParams.update(STYLE)
    fig, axes = plt.subplots(
        max(len(rows), 1), 1, figsize=(7.5, 0.75 * max(len(rows), 1) + 0.8), squeeze=False
    )
    records = []
    for ax, c in zip(axes[:, 0], rows, strict=False):
        ax.set_yticks([])
        ax.set_title(f"{c['id']}: {c['verdict']}", fontsize=8, loc="left")
        threshold = (
            (c.get("threshold") or {}).get("value") if c.get("test") != "permutation" else None
        )
        paper = c.get("paper_value") if isinstance(c.get("paper_value"), int | float) else None
        low, high = c.get("ci", [None, None])
        record = {
            "claim": c["id"],
            "verdict": c["verdict"],
            "estimate": c.get("estimate"),
            "ci_low": low,
            "ci_high": high,
            "threshold": threshold,
            "paper_value": paper,
        }
        records.append(record)
        if c.get("estimate") is None:
            ax.text(0.5, 0.5, "no estimate", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            continue
        if low is not None:
            ax.plot([low, high], [0, 0], color="C0", lw=2)
        ax.plot([c["estimate"]], [0], "o", color="C0")
        if threshold is not None:
            ax.axvline(threshold, color="grey", ls="--", lw=1)
        margin = (c.get("margin") or {}).get("value")
        if margin is not None:
            ax.axvspan(-margin, margin, color="grey", alpha=0.15)
        if paper is not None:
            ax.plot([paper], [0], "*", color="C3", ms=10)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(
        f"{claims.get('paper')}: science claims ({claims.get('scale')}); "
        "dot + bar: estimate and interval, dashed: threshold, star: paper",
        fontsize=8,
    )
    return save(
        fig,
        pd.DataFrame.from_records(
            records,
            columns=[
                "claim",
                "verdict",
                "estimate",
                "ci_low",
                "ci_high",
                "threshold",
                "paper_value",
            ],
        ),
        path,
    )

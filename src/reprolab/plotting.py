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

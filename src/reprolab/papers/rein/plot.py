"""rein's figure: pass@1 on seen and unseen error types per inception module and baseline (the
paper's bars), each with its 95% bootstrap interval over instances; PNG and CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab.plotting import figure, save
from reprolab.stats import bootstrap_ci


def seen_unseen(metrics: dict, units: dict, order: list[str], seed: int, path: Path) -> Path:
    records = []
    for setting in order:
        for part in ("seen", "unseen"):
            sample = units.get(f"{setting}.pass.{part}")
            if sample is None:
                continue
            values = np.asarray(sample["values"], dtype=float)
            lo, hi = bootstrap_ci(values, seed=seed)
            records.append(
                {
                    "setting": setting,
                    "split": part,
                    "pass_at_1": float(values.mean()),
                    "ci_low": lo,
                    "ci_high": hi,
                    "n": len(values),
                }
            )
    data = pd.DataFrame(
        records, columns=["setting", "split", "pass_at_1", "ci_low", "ci_high", "n"]
    )
    fig, (ax,) = figure(width=7.5, height=3.8)
    settings = [s for s in order if s in set(data["setting"])]
    x = np.arange(len(settings))
    for k, part in enumerate(("seen", "unseen")):
        part_rows = data[data["split"] == part].set_index("setting")
        ys = [part_rows["pass_at_1"].get(s, np.nan) * 100 for s in settings]
        lo = [part_rows["ci_low"].get(s, np.nan) * 100 for s in settings]
        hi = [part_rows["ci_high"].get(s, np.nan) * 100 for s in settings]
        err = [np.subtract(ys, lo), np.subtract(hi, ys)]
        ax.bar(x + (k - 0.5) * 0.38, ys, 0.38, yerr=err, capsize=2, label=part)
    ax.set_xticks(x, settings, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("Pass@1 (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=7)
    return save(fig, data, path)

"""vars's figures, each a PNG with the CSV of its data: the method table as bars with 95%
intervals over profiles, enforcement learning curves over sessions, and the z norms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab.plotting import figure, save
from reprolab.stats import bootstrap_ci

PANELS = ("success", "timeout", "user_tokens", "enforced_rules")


def _per_profile(rows: list[dict], q: str) -> dict[tuple[str, str], list[float]]:
    by: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        by.setdefault((r["setting"], r["method"], r["profile"]), []).append(r[q])
    out: dict[tuple[str, str], list[float]] = {}
    for (s, m, _), v in by.items():
        out.setdefault((s, m), []).append(float(np.mean(v)))
    return out


def method_table(metrics: dict, cfg: dict, path: Path, rows: list[dict] | None = None) -> Path:
    """Per setting and method, each panel's mean over sessions with a bootstrap CI over profiles."""
    records = []
    for q in PANELS:
        for (s, m), vals in _per_profile(rows or [], q).items():
            lo, hi = (
                bootstrap_ci(np.asarray(vals), seed=cfg["suite"]["seed"])
                if len(vals) > 1
                else (np.nan, np.nan)
            )
            records.append(
                {
                    "quantity": q,
                    "setting": s,
                    "method": m,
                    "mean": float(np.mean(vals)),
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    data = pd.DataFrame(
        records, columns=["quantity", "setting", "method", "mean", "ci_low", "ci_high"]
    )
    fig, axes = figure(ncols=len(PANELS), width=3.6, height=3.8)
    for ax, q in zip(axes, PANELS, strict=True):
        part = data[data["quantity"] == q]
        labels = [f"{s}\n{m}" for s, m in zip(part["setting"], part["method"], strict=True)]
        err = np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
        ax.bar(range(len(part)), part["mean"], yerr=np.nan_to_num(err), capsize=2)
        ax.set_xticks(range(len(part)), labels, rotation=90, fontsize=6)
        ax.set_title(q)
    return save(fig, data, path)


def learning_curves(rows: list[dict], path: Path) -> Path:
    """Mean enforced rules per session index, per setting and method."""
    data = (
        pd.DataFrame(
            [{k: r[k] for k in ("setting", "method", "session", "enforced_rules")} for r in rows]
        )
        .groupby(["setting", "method", "session"], as_index=False)["enforced_rules"]
        .mean()
    )
    fig, axes = figure(ncols=max(1, data["setting"].nunique()), width=5.0, height=3.8)
    for ax, (setting, part) in zip(np.atleast_1d(axes), data.groupby("setting"), strict=False):
        for method, line in part.groupby("method"):
            ax.plot(line["session"], line["enforced_rules"], marker="o", label=method)
        ax.set_title(setting)
        ax.set_xlabel("session")
        ax.set_ylabel("enforced rules")
        ax.legend(fontsize=6)
    return save(fig, data, path)


def vector_norms(rows: list[dict], path: Path) -> Path:
    """Mean |z_L| and |z_S| at session end per session index (methods with vectors)."""
    data = (
        pd.DataFrame(
            [
                {k: r[k] for k in ("setting", "method", "session", "z_long_norm", "z_short_norm")}
                for r in rows
            ]
        )
        .groupby(["setting", "method", "session"], as_index=False)[["z_long_norm", "z_short_norm"]]
        .mean()
    )
    data = data[(data["z_long_norm"] > 0) | (data["z_short_norm"] > 0)] if len(data) else data
    fig, axes = figure(ncols=2, width=5.0, height=3.8)
    for ax, col in zip(axes, ("z_long_norm", "z_short_norm"), strict=True):
        for (setting, method), line in data.groupby(["setting", "method"]):
            ax.plot(line["session"], line[col], marker=".", label=f"{setting}/{method}")
        ax.set_title(col)
        ax.set_xlabel("session")
        ax.legend(fontsize=6)
    return save(fig, data, path)

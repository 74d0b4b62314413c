"""The paper's figures, each a PNG with its data as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab import plotting
from reprolab.io import read_jsonl
from reprolab.papers.acqsynth.summary import per_set
from reprolab.stats import bootstrap_ci


def _interval(values: list[float], seed: int) -> tuple[float, float, float]:
    if not values:
        return (np.nan, np.nan, np.nan)
    low, high = bootstrap_ci(values, resamples=1000, seed=seed)
    return float(np.mean(values)), float(low), float(high)


def _bars(ax, data: pd.DataFrame, value: str = "mean") -> None:
    err = np.vstack([data[value] - data.ci_low, data.ci_high - data[value]])
    colors = [
        "0.6" if s in ("base", "untrained", "random", "pool_random")
        else "C1" if s.startswith("filtered") else "C2" if s.startswith("pool") else "C0"
        for s in data.set
    ]  # fmt: skip
    ax.bar(data.set, data[value], yerr=np.nan_to_num(err), capsize=3, color=colors)
    ax.tick_params(axis="x", rotation=60, labelsize=7)


def _table(by: dict, cfg: dict, alias: str, key: str) -> pd.DataFrame:
    seed = cfg["suite"]["seed"]
    rows = []
    for name, parts in per_set(by, cfg).items():
        who, set_name = name.split(".", 1)
        if who != alias:
            continue
        mean, low, high = _interval(parts[key][1], seed)
        rows.append({"set": set_name, "mean": mean, "ci_low": low, "ci_high": high,
                     "n": len(parts[key][1])})  # fmt: skip
    return pd.DataFrame(rows, columns=["set", "mean", "ci_low", "ci_high", "n"])


def accuracy(by: dict, primary: str, cfg: dict, out: Path) -> Path:
    """In-distribution accuracy of the primary student per training set, 95% bootstrap CI over
    test items (blue: acquisition-trained generators, orange: filtered, green: pool control)."""
    data = _table(by, cfg, "primary", "correct")
    fig, (ax,) = plotting.figure(width=8.0)
    _bars(ax, data)
    ax.set_ylabel(f"{cfg['data']['family']} accuracy ({primary})")
    ax.set_title("Student accuracy per training set (95% bootstrap CI over items)")
    return plotting.save(fig, data, out)


def forgetting(by: dict, primary: str, cfg: dict, out: Path) -> Path:
    """The second family's accuracy before (base) and after SFT on each set."""
    data = _table(by, cfg, "primary", "other")
    fig, (ax,) = plotting.figure(width=8.0)
    _bars(ax, data)
    base = data[data.set == "base"]["mean"]
    if len(base):
        ax.axhline(float(base.iloc[0]), color="k", lw=0.8, ls="--", label="before (base)")
        ax.legend(fontsize=8)
    ax.set_ylabel(f"{cfg['data']['forgetting_family']} accuracy")
    ax.set_title("Forgetting: second family after SFT on each set")
    return plotting.save(fig, data, out)


def transfer(by: dict, cfg: dict, out: Path) -> Path:
    """Accuracy of the transfer student on data made for the primary student (empty panel when
    no transfer student is configured)."""
    data = _table(by, cfg, "transfer", "correct")
    fig, (ax,) = plotting.figure(width=6.0)
    if len(data):
        _bars(ax, data)
        ax.set_title(f"Transfer: {cfg['transfer']['students'][0]} on the primary's data")
    else:
        ax.text(0.5, 0.5, "no transfer student at this scale\n(one student model offline)",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_title("Transfer")
    ax.set_ylabel("accuracy")
    return plotting.save(fig, data, out)


def reward_curves(rewards: list[Path], out: Path) -> Path:
    """Per GRPO reward call, the mean raw acquisition value and the mean r_xml (parseable
    completions; unparseable ones get 0) of each acquisition function."""
    rows = []
    for path in rewards:
        for r in read_jsonl(path):
            rows.append({"acquisition": Path(path).stem, "call": r["call"],
                         "raw": r["raw"], "r_xml": r["r_xml"], "reward": r["reward"]})  # fmt: skip
    data = pd.DataFrame(rows, columns=["acquisition", "call", "raw", "r_xml", "reward"])
    for column in ("raw", "r_xml", "reward"):  # raw is None for unparseable completions
        data[column] = pd.to_numeric(data[column], errors="coerce")
    fig, axes = plotting.figure(ncols=2, width=4.5)
    if len(data):
        means = data.groupby(["acquisition", "call"]).mean(numeric_only=True).reset_index()
        for name, group in means.groupby("acquisition"):
            axes[0].plot(group["call"], group["raw"], marker=".", label=name)
            axes[1].plot(group["call"], group["r_xml"], marker=".", label=name)
        axes[0].legend(fontsize=7)
    axes[0].set_title("raw acquisition value (mean per call)")
    axes[1].set_title("r_xml (mean per call)")
    for ax in axes:
        ax.set_xlabel("GRPO reward call (step)")
    return plotting.save(fig, data, out)

"""The paper's figures, each a PNG with its data as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab import plotting
from reprolab.papers.sgd_rlvr.data import task_of


def training_curves(logs: dict[str, list[dict]], out: Path) -> Path:
    """GRPO reward and rollout accuracy per step for each arm; SFT loss for the control."""
    rows = []
    for arm, entries in logs.items():
        for e in entries:
            rows.append(
                {
                    "arm": arm,
                    "step": e["step"],
                    "reward": e.get("reward"),
                    "rollout_accuracy": e.get("rewards/correctness_reward/mean"),
                    "loss": e.get("loss"),
                }
            )
    data = pd.DataFrame(rows, columns=["arm", "step", "reward", "rollout_accuracy", "loss"])
    fig, axes = plotting.figure(ncols=3, width=4.2)
    panels = [
        ("reward", "GRPO reward (train rollouts)", "grpo_"),
        ("rollout_accuracy", "GRPO rollout accuracy", "grpo_"),
        ("loss", "SFT: training loss", "sft_"),
    ]
    for ax, (column, title, prefix) in zip(axes, panels, strict=True):
        for arm, group in data[data.arm.str.startswith(prefix)].groupby("arm"):
            series = group.dropna(subset=[column])
            ax.plot(series.step, series[column], label=arm.removeprefix(prefix), marker=".")
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def final_accuracy(evals: dict[str, dict], out: Path) -> Path:
    arms = list(evals)
    data = pd.DataFrame(
        {
            "arm": arms,
            "accuracy": [evals[a]["accuracy"] for a in arms],
            "ci_low": [evals[a]["accuracy_ci_low"] for a in arms],
            "ci_high": [evals[a]["accuracy_ci_high"] for a in arms],
        }
    )
    fig, (ax,) = plotting.figure(width=6.5)
    err = np.vstack([data.accuracy - data.ci_low, data.ci_high - data.accuracy])
    colors = [("0.6" if a.startswith("base") else "C0") if task_of(a) == "" else "C1" for a in arms]
    ax.bar(arms, data.accuracy, yerr=err, capsize=4, color=colors)
    ax.set_ylabel("held-out accuracy (greedy pass@1)")
    ax.set_title("Final accuracy with 95% bootstrap CI (blue: RL task, orange: SFT task)")
    ax.tick_params(axis="x", rotation=30)
    return plotting.save(fig, data, out)


def updated_fraction(evals: dict[str, dict], out: Path) -> Path:
    arms = [a for a in evals if "updated_fraction_bf16" in evals[a]]
    data = pd.DataFrame(
        {
            "arm": arms,
            "updated_fraction_bf16": [evals[a]["updated_fraction_bf16"] for a in arms],
            "updated_fraction_fp32": [evals[a]["updated_fraction_fp32"] for a in arms],
        }
    )
    fig, (ax,) = plotting.figure(width=6.5)
    x = np.arange(len(arms))
    floor = 1e-9  # a bar at zero cannot show on a log axis
    ax.bar(
        x - 0.2, data.updated_fraction_bf16.clip(lower=floor), 0.4, label="bf16, atol 1e-5 (paper)"
    )
    ax.bar(x + 0.2, data.updated_fraction_fp32.clip(lower=floor), 0.4, label="fp32, |dw| > 1e-5")
    ax.set_xticks(x, arms, rotation=30)
    ax.set_yscale("log")
    ax.set_ylabel("fraction of parameters updated")
    ax.set_title("Update sparsity per arm")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def per_layer_sparsity(evals: dict[str, dict], out: Path) -> Path:
    rows = [
        {"arm": arm, "layer": layer, **values}
        for arm, result in evals.items()
        for layer, values in result.get("per_layer", {}).items()
    ]
    data = pd.DataFrame(
        rows, columns=["arm", "layer", "updated_fraction_bf16", "updated_fraction_fp32"]
    )
    fig, (ax,) = plotting.figure(width=7.0)
    for arm, group in data.groupby("arm"):
        # A layer with no update has no place on a log axis: the line breaks there.
        shown = group.updated_fraction_bf16.where(group.updated_fraction_bf16 > 0)
        ax.plot(group.layer, shown, marker=".", label=arm)
    ax.set_yscale("log")
    ax.set_ylabel("fraction updated (bf16)")
    ax.set_title("Update sparsity per layer (gaps: nothing updated)")
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # off the lines
    return plotting.save(fig, data, out)

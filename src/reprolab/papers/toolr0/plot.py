"""The figures: curriculum dynamics per iteration and held-out accuracy per iteration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab import plotting
from reprolab.papers.toolr0.tasks import LEVELS


def curriculum(stats: dict[str, dict], out: Path) -> Path:
    """Left: the previous solver's pass rate on each iteration's generated tasks; right: the
    difficulty labels of the unique valid tasks per variant and iteration (stacked)."""
    rows = []
    for name, st in sorted(stats.items()):
        variant, iteration = name.split(".iter")
        row = {
            "variant": variant,
            "iteration": int(iteration),
            "solver_pass_rate": st["solver_pass_rate"],
            "n_unique": st["n_unique"],
            "n_selected": st["n_selected"],
        }
        for level in LEVELS:
            row[level] = st["difficulty_unique"].get(level, 0)
        rows.append(row)
    data = pd.DataFrame(rows)
    fig, (left, right) = plotting.figure(ncols=2, width=5.0)
    for variant, part in data.groupby("variant"):
        left.plot(part.iteration, part.solver_pass_rate, marker="o", label=variant)
    left.set_xlabel("iteration")
    left.set_ylabel("solver pass rate on generated tasks")
    left.set_xticks(sorted(data.iteration.unique()))
    left.set_ylim(-0.02, 1.02)
    left.legend(fontsize=8)
    labels = [f"{r.variant}\nit{r.iteration}" for r in data.itertuples()]
    bottom = np.zeros(len(data))
    for level in LEVELS:
        right.bar(range(len(data)), data[level], bottom=bottom, label=level)
        bottom += data[level].to_numpy()
    right.set_xticks(range(len(data)), labels, fontsize=7)
    right.set_ylim(0, max(1.0, float(bottom.max()) * 1.1))
    for x, row in enumerate(data.itertuples()):
        if row.n_unique == 0:  # say so rather than leave an empty bar
            right.text(x, 0.5, "no valid\ntask", ha="center", va="center", fontsize=7)
    right.set_ylabel("unique valid tasks")
    right.set_title("difficulty (solver pass rate p)")
    right.legend(fontsize=8)
    return plotting.save(fig, data, out)


def task_yield(stats: dict[str, dict], out: Path) -> Path:
    """The yield of each iteration's candidates: the share that passed validation (bars), with
    the number selected for the solver written above each bar (issue 19: reported and plotted,
    so a generator that writes nothing usable shows as a zero, not as a missing point)."""
    rows = []
    for name, st in sorted(stats.items()):
        variant, iteration = name.split(".iter")
        n = st["n_candidates"]
        rows.append({"variant": variant, "iteration": int(iteration), "n_candidates": n,
                     "n_valid": st["n_valid"], "n_selected": st["n_selected"],
                     "valid_yield": st["n_valid"] / n if n else 0.0})  # fmt: skip
    data = pd.DataFrame(rows)
    fig, (ax,) = plotting.figure(width=5.0)
    labels = [f"{r.variant}\nit{r.iteration}" for r in data.itertuples()]
    ax.bar(range(len(data)), data.valid_yield)
    for x, row in enumerate(data.itertuples()):
        ax.text(x, row.valid_yield + 0.02, f"{row.n_selected} sel.", ha="center", fontsize=7)
    ax.set_xticks(range(len(data)), labels, fontsize=7)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("valid candidates / candidates")
    ax.set_title("task yield per iteration")
    return plotting.save(fig, data, out)


def accuracy_per_iteration(metrics: dict[str, float], variants: list[str], iterations: int,
                           out: Path) -> Path:  # fmt: skip
    """AST and execution accuracy on the held-out set; iteration 0 is the base model."""
    rows = []
    for variant in variants:
        for i in range(iterations + 1):
            prefix = "base" if i == 0 else f"{variant}.iter{i}"
            rows.append(
                {
                    "variant": variant,
                    "iteration": i,
                    "ast_accuracy": metrics[f"{prefix}.ast_accuracy"],
                    "exec_accuracy": metrics[f"{prefix}.exec_accuracy"],
                }
            )
    data = pd.DataFrame(rows)
    fig, axes = plotting.figure(ncols=2, width=4.5)
    for ax, key, title in zip(axes, ("ast_accuracy", "exec_accuracy"), ("AST", "execution"),
                              strict=True):  # fmt: skip
        for variant, part in data.groupby("variant", sort=False):
            ax.plot(part.iteration, part[key], marker="o", label=variant)
        ax.set_xlabel("iteration (0 = base)")
        ax.set_ylabel(f"{title} accuracy, held-out")
        ax.set_xticks(range(iterations + 1))
        ax.set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8)
    return plotting.save(fig, data, out)

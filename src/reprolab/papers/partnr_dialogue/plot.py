"""The paper's figures from the summary, each a PNG with its data as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab import plotting

CONDITION_STYLE = {"silent": "--", "dialogue": "-"}


def convergence(summary: dict, out: Path) -> Path:
    """Observation convergence OC(t), dialogue against silent, per agent."""
    rows = [
        {"arm": arm, "condition": cond, "step": t, "oc": value}
        for arm, by_cond in summary.items()
        for cond, values in by_cond.items()
        for t, value in enumerate(values["oc_curve"])
    ]
    data = pd.DataFrame(rows)
    fig, (ax,) = plotting.figure(width=6.0)
    colors = {arm: f"C{k}" for k, arm in enumerate(dict.fromkeys(data.arm))}
    for (arm, cond), part in data.groupby(["arm", "condition"], sort=False):
        style = CONDITION_STYLE.get(cond, "-")
        ax.plot(part.step, part.oc, style, color=colors[arm], label=f"{arm}, {cond}")
    ax.set_xlabel("step")
    ax.set_ylabel("OC = |F_A ∩ F_B| / |F_A ∪ F_B|")
    ax.set_ylim(0, 1.02)
    ax.set_title("Observation convergence of the two world graphs")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def conflicts_success(summary: dict, out: Path) -> Path:
    """Action-conflict rate and task success per agent, silent and dialogue side by side."""
    rows = [
        {
            "arm": arm,
            "condition": cond,
            "conflict_rate": v["conflict_rate"],
            "success": v["success"],
            "percent_complete": v["percent_complete"],
        }
        for arm, by_cond in summary.items()
        for cond, v in by_cond.items()
    ]
    data = pd.DataFrame(rows)
    arms = list(dict.fromkeys(data.arm))
    fig, axes = plotting.figure(ncols=2, width=4.5)
    x = np.arange(len(arms))
    titles = {"conflict_rate": "episodes with an action conflict", "success": "task success"}
    for ax, (key, title) in zip(axes, titles.items(), strict=True):
        for k, cond in enumerate(("silent", "dialogue")):
            part = data[data.condition == cond].set_index("arm").reindex(arms)
            ax.bar(x + (k - 0.5) * 0.4, part[key], 0.4, label=cond)
        # Six arms with long names: slanted, so that neighbours do not overlap.
        ax.set_xticks(x, arms, fontsize=8, rotation=30, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
        ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def novelty_bsm(summary: dict, out: Path) -> Path:
    """Information novelty, share of ungrounded messages and belief-sensitive messaging of the
    dialogue condition, per agent."""
    keys = ("info_novelty", "ungrounded_share", "bsm")
    rows = [
        {
            "arm": arm,
            "messages_per_episode": by_cond["dialogue"]["messages_per_episode"],
            **{k: by_cond["dialogue"].get(k) for k in keys},
        }
        for arm, by_cond in summary.items()
        if "dialogue" in by_cond
    ]
    data = pd.DataFrame(rows)
    fig, (ax,) = plotting.figure(width=6.0)
    x = np.arange(len(keys))
    width = 0.8 / max(1, len(data))
    for k, (_, row) in enumerate(data.iterrows()):
        values = [np.nan if row[key] is None else row[key] for key in keys]
        label = f"{row.arm} ({row.messages_per_episode:.1f} messages/episode)"
        ax.bar(x + (k - (len(data) - 1) / 2) * width, values, width, label=label)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(x, ["information novelty", "ungrounded share", "BSM"])
    ax.set_title("What the messages carry (dialogue condition)")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


FIGURES = {
    "convergence": convergence,
    "conflicts_success": conflicts_success,
    "novelty_bsm": novelty_bsm,
}

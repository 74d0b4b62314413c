"""The paper's figures from the nested summary, each a PNG with its data as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab import plotting


def _modes(summary: dict) -> dict:
    """The scoring modes of the summary (the calibration's yield sits beside them)."""
    return {mode: result for mode, result in summary.items() if "base" in result}


def _domain_rows(summary: dict) -> pd.DataFrame:
    rows = []
    for mode, result in _modes(summary).items():
        groups = {**result["base"]["domains"], "macro": result["base"]["macro"]}
        for domain, m in groups.items():
            rows.append(
                {
                    "mode": mode,
                    "domain": domain,
                    "dds": m["dds"],
                    "ci_low": m["dds_ci_low"],
                    "ci_high": m["dds_ci_high"],
                    "acc_change": m["acc_change"],
                    "dds_continuous": m["dds_continuous"],
                    "n_items": m["n_items"],
                }
            )
    return pd.DataFrame(rows)


def dds_per_domain(summary: dict, out: Path) -> Path:
    """The main figure: DDS per domain (and macro) with 95% bootstrap CIs, one bar per mode."""
    data = _domain_rows(summary)
    domains = list(dict.fromkeys(data.domain))
    modes = list(dict.fromkeys(data["mode"]))
    fig, (ax,) = plotting.figure(width=8.0)
    x = np.arange(len(domains))
    width = 0.8 / len(modes)
    for k, mode in enumerate(modes):
        part = data[data["mode"] == mode].set_index("domain").reindex(domains)
        err = np.vstack([part.dds - part.ci_low, part.ci_high - part.dds])
        ax.bar(x + (k - (len(modes) - 1) / 2) * width, part.dds, width, yerr=err, capsize=3,
               label=mode)  # fmt: skip
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(x, domains, rotation=30, ha="right")
    ax.set_ylabel("DDS (pp): > 0 deference, < 0 skepticism")
    ax.set_title("Dialogic Deference Score per domain, 95% bootstrap CI")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def accuracy_vs_dds(summary: dict, out: Path) -> Path:
    """Accuracy change against DDS per domain: large DDS with flat accuracy is the paper's point."""
    data = _domain_rows(summary)
    fig, (ax,) = plotting.figure(width=5.5)
    for mode, part in data[data.domain != "macro"].groupby("mode"):
        ax.scatter(part.dds, part.acc_change, label=mode)
        for _, row in part.iterrows():
            ax.annotate(row.domain, (row.dds, row.acc_change), fontsize=7)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("DDS (pp)")
    ax.set_ylabel("accuracy change C1 -> C2 (pp)")
    ax.set_title("Accuracy change against DDS, per domain")
    ax.legend(fontsize=8)
    return plotting.save(fig, data, out)


def conditions(summary: dict, cfg: dict, out: Path) -> Path:
    """dDDS of each speaker-label ablation, mitigation, control and paraphrase against the base
    prompt."""
    labels = {**cfg.get("ablation", {}), **cfg.get("mitigations", {}), **cfg.get("controls", {})}
    labels.update({name: f"paraphrase {name}" for name in cfg.get("paraphrases", [])})
    rows = []
    for mode, result in _modes(summary).items():
        for name, label in labels.items():
            if name in result:
                macro = result[name]["macro"]
                group = (
                    "ablation"
                    if name in cfg.get("ablation", {})
                    else "mitigation"
                    if name in cfg.get("mitigations", {})
                    else "control"
                    if name in cfg.get("controls", {})
                    else "paraphrase"
                )
                rows.append(
                    {
                        "mode": mode,
                        "condition": name,
                        "label": label,
                        "group": group,
                        "ddds": macro["ddds"],
                        "dds": macro["dds"],
                        "base_dds_same_items": macro["base_dds_same_items"],
                        "accuracy_change_vs_base": macro["accuracy_change_vs_base"],
                        "noise_floor": result.get("noise_floor", {}).get("mean_abs"),
                    }
                )
    data = pd.DataFrame(
        rows,
        columns=["mode", "condition", "label", "group", "ddds", "dds", "base_dds_same_items",
                 "accuracy_change_vs_base", "noise_floor"],
    )  # fmt: skip
    fig, (ax,) = plotting.figure(width=8.0)
    colors = {"ablation": "C0", "mitigation": "C1", "control": "C2", "paraphrase": "0.6"}
    shown = data.drop_duplicates("condition", keep="first")
    bars = ax.barh(shown.label, shown.ddds, color=[colors[g] for g in shown.group])
    ax.bar_label(bars, fmt="%+.0f", fontsize=7, padding=2)  # a 0 bar still shows its value
    floor = shown.noise_floor.dropna()
    if len(floor):
        ax.axvspan(-floor.iloc[0], floor.iloc[0], color="0.85", zorder=0, label="noise floor")
        ax.legend(fontsize=8)
    ax.axvline(0, color="0.3", lw=0.8)
    mode = shown["mode"].iloc[0] if len(shown) else ""
    # Both right-aligned: centred over the axes (long condition labels push it right) they ran
    # past the figure's right edge.
    ax.set_xlabel(f"dDDS vs the paper's prompt on the same items (pp, {mode})", loc="right")
    ax.set_title(
        "Speaker labels (blue), mitigations (orange), controls (green), paraphrases (grey)",
        loc="right",
    )
    return plotting.save(fig, data, out)

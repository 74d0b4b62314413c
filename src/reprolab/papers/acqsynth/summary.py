"""metrics.json and units.json: every student's accuracy per set (items, mean over rounds), the
second family's accuracy (forgetting), synthesis and label statistics, reward summaries.

Names: `<who>.<set>.<quantity>` with who = primary (the student the generator was trained for)
or transfer (the first transfer student); sets as in sets.py plus `base` (untrained student)
and the per-item means over acquisition functions `gen_all`, `filtered_all`, `pool_all`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from reprolab.evidence import Units
from reprolab.io import read_json, read_jsonl
from reprolab.steps import Published


def load_predictions(paths: list[Path]) -> dict[tuple[str, str], list[dict]]:
    """(student, set) -> prediction rows; paths are eval/<student>/<set>.predictions.jsonl."""
    return {
        (Path(p).parent.name, Path(p).name.removesuffix(".predictions.jsonl")): read_jsonl(p)
        for p in paths
    }


def who(cfg: dict, student: str) -> str | None:
    if student == cfg["student"]["model"]:
        return "primary"
    transfer = cfg["transfer"]["students"]
    return "transfer" if transfer and student == transfer[0] else None


def _values(rows: list[dict], family: str, own: bool) -> tuple[list[str], list[float]]:
    picked = [r for r in rows if (r["family"] == family) == own]
    return [r["id"] for r in picked], [float(r["correct"]) for r in picked]


def per_set(by: dict, cfg: dict) -> dict[str, dict[str, tuple[list[str], list[float]]]]:
    """'<who>.<set>' -> {correct: (ids, values), other: (ids, values)}, with the pooled sets."""
    family = cfg["data"]["family"]
    out: dict[str, dict] = {}
    for (student, name), rows in sorted(by.items()):
        alias = who(cfg, student)
        if alias is None:
            continue
        out[f"{alias}.{name}"] = {
            "correct": _values(rows, family, True),
            "other": _values(rows, family, False),
        }
    groups = {
        "gen_all": [f"gen_{a}" for a in cfg["generator"]["acquisitions"]],
        "filtered_all": [f"filtered_{a}" for a in cfg["baselines"]["filtered"]],
        "pool_all": [f"pool_{a}" for a in cfg["control"]["acquisitions"]],
    }
    for alias in ("primary", "transfer"):
        for group, members in groups.items():
            present = [out[f"{alias}.{m}"] for m in members if f"{alias}.{m}" in out]
            if not present:
                continue
            pooled = {}
            for key in ("correct", "other"):
                ids = present[0][key][0]
                pooled[key] = (ids, list(np.mean([p[key][1] for p in present], axis=0)))
            out[f"{alias}.{group}"] = pooled
    return out


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def summarize(
    cfg: dict, evals: list[Path], predictions: list[Path], stats: list[Path], rewards: list[Path]
) -> Published:
    metrics: dict[str, float] = {}
    units = Units()
    table = per_set(load_predictions(predictions), cfg)
    for name, parts in table.items():
        alias = name.split(".", 1)[0]
        ids, values = parts["correct"]
        units.add(f"{name}.correct", "item", ids, values)
        o_ids, o_values = parts["other"]
        units.add(f"{name}.other", "item", o_ids, o_values)
        metrics[f"{name}.accuracy"] = _mean(values)
        metrics[f"{name}.forgetting_family_accuracy"] = _mean(o_values)
        base = table.get(f"{alias}.base")
        if base and o_values:
            metrics[f"{name}.forgetting"] = _mean(base["other"][1]) - _mean(o_values)
    metrics["n_test"] = float(len(table.get("primary.base", {}).get("correct", ([], []))[0]))
    metrics["n_transfer_students"] = float(len(cfg["transfer"]["students"]))
    n_train = cfg["student"]["n_train"]
    for path in stats:
        source = Path(path).name.removesuffix(".stats.json")
        made = read_json(path)
        for key, value in made.items():
            metrics[f"synth.{source}.{key}"] = float(value)
        metrics[f"synth.{source}.complete"] = float(made["kept"] >= n_train)
    kept = [metrics[f"synth.{a}.kept"] for a in cfg["generator"]["acquisitions"]]
    metrics["synth.gen_min_kept"] = float(min(kept)) if kept else 0.0
    metrics["synth.gen_all_complete"] = float(bool(kept) and min(kept) >= n_train)
    metrics.update(_shared_with_untrained(stats, cfg["generator"]["acquisitions"]))
    metrics["n_train"] = float(n_train)
    label_acc = [
        metrics[k] for k in metrics if k.endswith(".label_accuracy") and not math.isnan(metrics[k])
    ]
    metrics["labels.mean_accuracy"] = _mean(label_acc)
    r_xml_max, reward_max = 0.0, 0.0
    for path in rewards:
        rows = read_jsonl(path)
        acq = Path(path).stem
        raw = [r["raw"] for r in rows if r["raw"] is not None]
        calls = sorted({r["call"] for r in rows})
        first = [r["reward"] + r["r_xml"] for r in rows if calls and r["call"] == calls[0]]
        last = [r["reward"] + r["r_xml"] for r in rows if calls and r["call"] == calls[-1]]
        metrics[f"reward.{acq}.raw_mean"] = _mean(raw)
        metrics[f"reward.{acq}.parse_rate"] = _mean([float(r["parseable"]) for r in rows])
        metrics[f"reward.{acq}.first_step_reward"] = _mean(first)
        metrics[f"reward.{acq}.last_step_reward"] = _mean(last)
        r_xml_max = max([r_xml_max, *(r["r_xml"] for r in rows)])
        reward_max = max([reward_max, *(r["reward"] for r in rows)])
    metrics["reward.max_r_xml"] = r_xml_max
    metrics["reward.max_acquisition_reward"] = reward_max
    # JSON has no NaN worth keeping: a quantity that could not be measured is left out.
    return Published({k: v for k, v in metrics.items() if not math.isnan(v)}, units)


def _shared_with_untrained(stats: list[Path], acquisitions: list[str]) -> dict[str, float]:
    """Per trained generator, the share of its items whose question the untrained generator
    also wrote (same seeds, same sampling order): near 1, its RL did not change what it writes
    and the gen_* comparisons test nothing. Read from the synth files written beside the
    stats, by the same jobs."""
    folder = Path(stats[0]).parent if stats else None
    if folder is None or not (folder / "untrained.jsonl").exists():
        return {}
    before = {i["question"] for i in read_jsonl(folder / "untrained.jsonl")}
    out = {}
    for acq in acquisitions:
        items = read_jsonl(folder / f"{acq}.jsonl")
        out[f"synth.{acq}.shared_with_untrained"] = _mean(
            [float(i["question"] in before) for i in items]
        )
    shares = [v for v in out.values() if not math.isnan(v)]
    if shares:
        out["synth.gen_max_shared_with_untrained"] = max(shares)
    return out

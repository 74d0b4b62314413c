"""metrics.json and units.json from the episode results.

Per setting: pass@1 on seen, unseen, all error and clean instances, the rate of database
mutation errors and recovery calls, inception activation and false-positive rates. Units are
instances (`<task>.<error>`), shared by every setting, so the claims engine pairs settings on
them. The mechanism probe's units are the hand-placed states (every instance's request turn).
"""

from __future__ import annotations

import math
from collections import defaultdict

from reprolab.evidence import Units
from reprolab.papers.rein import evaluate as ev
from reprolab.steps import Published


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def summarize(results: list[dict], probe_settings: dict[str, str]) -> Published:
    """Metrics and units of every setting; `probe_settings` maps a probe setting to the
    recovery tool its plan names (None for the plan that names none)."""
    by: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by[r["setting"]].append(r)
    metrics: dict[str, float] = {}
    units = Units()
    shas = defaultdict(set)
    for setting, rows in sorted(by.items()):
        rows = sorted(rows, key=lambda r: r["id"])
        ok = {r["id"]: float(ev.success(r)) for r in rows}
        parts = {
            "seen": [r for r in rows if r["seen"] is True],
            "unseen": [r for r in rows if r["seen"] is False],
            "error": [r for r in rows if r["error"] is not None],
            "clean": [r for r in rows if r["error"] is None],
            "all": rows,
        }
        for part, members in parts.items():
            if not members:
                continue
            metrics[f"{setting}.pass.{part}"] = _mean([ok[r["id"]] for r in members])
            metrics[f"{setting}.n.{part}"] = float(len(members))
            units.add(
                f"{setting}.pass.{part}",
                "instance",
                [r["id"] for r in members],
                [ok[r["id"]] for r in members],
            )
        metrics[f"{setting}.mutation_error_rate"] = _mean(
            [float(ev.mutation_error(r)) for r in rows]
        )
        units.add(
            f"{setting}.mutation_error",
            "instance",
            [r["id"] for r in rows],
            [float(ev.mutation_error(r)) for r in rows],
        )
        metrics[f"{setting}.recovery_rate"] = _mean(
            [float(ev.recovery_called(r) is not None) for r in rows]
        )
        for name, value in ev.inception_rates(rows).items():
            if not math.isnan(value):
                metrics[f"{setting}.inception.{name}"] = value
        if setting in probe_settings:
            target = probe_settings[setting]
            for tool in ("internal_error_report", "transfer_to_human_agents"):
                took = [float(ev.recovery_called(r) == tool) for r in rows]
                metrics[f"{setting}.took.{tool}"] = _mean(took)
                units.add(f"{setting}.took.{tool}", "state", [r["id"] for r in rows], took)
            if target:
                metrics[f"{setting}.followed"] = metrics[f"{setting}.took.{target}"]
        metrics[f"{setting}.turns_mean"] = _mean([float(len(r["turns"])) for r in rows])
        for r in rows:
            shas[r["system_sha"]].add(setting)
    metrics["n_instances"] = float(len({r["id"] for r in results}))
    # The system prompt S + L seen by the no-intervention agent and by each inception setting
    # with the same tools: identical bytes (1) or not (0).
    metrics["prompt_identical"] = float(_prompt_identical(by))
    return Published(metrics, units)


def _prompt_identical(by: dict[str, list[dict]]) -> bool:
    if "none" not in by:
        return False
    base = {r["id"]: r["system_sha"] for r in by["none"]}
    inception = [
        s for s in by if s.startswith("rein_") and not s.endswith("notools")
    ]  # settings that plant plans with the full tool list
    return bool(inception) and all(
        base.get(r["id"]) == r["system_sha"] for s in inception for r in by[s]
    )

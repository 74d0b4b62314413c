"""Held-out evaluation: AST accuracy (name and arguments) and execution accuracy (the predicted
calls, run in the sandbox, return the gold results), and the paper's comparisons."""

from __future__ import annotations

import logging
from pathlib import Path

from reprolab.evidence import Units
from reprolab.inference import SamplingParams
from reprolab.papers.toolr0.data import full_reply, solver_prompt
from reprolab.papers.toolr0.parse import parse_solver
from reprolab.papers.toolr0.selfplay import (
    Solver,
    calls_match,
    execute,
    open_sandbox,
    results_match,
)

log = logging.getLogger(__name__)
METRICS = ("ast_accuracy", "exec_accuracy", "format_rate")


def add_gold_results(items: list[dict], sandbox_cfg: dict) -> list[dict]:
    """Run every gold call in the sandbox; a failing gold call is a bug in the registry."""
    with open_sandbox(sandbox_cfg) as box:
        for item in items:
            results = execute(box, item["gold"])
            failed = [r["error"] for r in results if not r["ok"]]
            if failed:
                raise ValueError(f"test item {item['id']}: gold call failed: {failed[0]}")
            item["gold_results"] = [r["value"] for r in results]
    return items


def score(items: list[dict], texts: list[str], sandbox_cfg: dict) -> tuple[dict, list[dict]]:
    """(summary, per-item predictions) of whole solver replies against the items' gold calls."""
    predictions = []
    with open_sandbox(sandbox_cfg) as box:
        for item, text in zip(items, texts, strict=True):
            out = parse_solver(text)
            results = execute(box, out.calls)
            predictions.append(
                {
                    "id": item["id"],
                    "split": item["split"],
                    "reply": text,
                    "calls": out.calls,
                    "results": results,
                    "parsed": bool(out.calls),
                    "ast": calls_match(out.calls, item["gold"]),
                    "exec": results_match(results, item["gold_results"]),
                }
            )
    summary = summarize(predictions)
    return summary, predictions


def summarize(predictions: list[dict]) -> dict:
    def rates(rows: list[dict]) -> dict:
        n = max(len(rows), 1)
        return {
            "ast_accuracy": sum(r["ast"] for r in rows) / n,
            "exec_accuracy": sum(r["exec"] for r in rows) / n,
            "format_rate": sum(r["parsed"] for r in rows) / n,
            "n_items": float(len(rows)),
        }

    summary = rates(predictions)
    for split in sorted({r["split"] for r in predictions}):
        for key, value in rates([r for r in predictions if r["split"] == split]).items():
            summary[f"{split}.{key}"] = value
    return summary


def evaluate_model(model: Path, items: list[dict], cfg: dict) -> tuple[dict, list[dict]]:
    """Greedy replies of the model to every item, in one batched call, then scored."""
    solver = Solver(str(model), cfg)
    params = SamplingParams(max_new_tokens=cfg["evaluate"]["max_new_tokens"], temperature=0.0)
    conversations = [solver_prompt(i["question"], i["tools"], cfg["prompts"]) for i in items]
    texts = solver.backend.generate(conversations, params)
    return score(items, [full_reply(cfg["prompts"], "solver", t) for t in texts], cfg["sandbox"])


def combine(evals: dict[str, dict], stats: dict[str, dict], iterations: int) -> dict:
    """Flat metrics: each variant per iteration and final, the gains over base, the ablations."""
    metrics: dict[str, float] = {}
    base = evals["base"]
    for key in METRICS:
        metrics[f"base.{key}"] = base[key]
    variants = sorted({name.split(".")[0] for name in evals if name != "base"})
    for variant in variants:
        for i in range(1, iterations + 1):
            result = evals[f"{variant}.iter{i}"]
            for key, value in result.items():
                metrics[f"{variant}.iter{i}.{key}"] = value
            st = stats.get(f"{variant}.iter{i}")
            if st:
                metrics[f"{variant}.iter{i}.solver_pass_rate"] = st["solver_pass_rate"]
                metrics[f"{variant}.iter{i}.n_selected"] = float(st["n_selected"])
                metrics[f"{variant}.iter{i}.n_valid"] = float(st["n_valid"])
                metrics[f"{variant}.iter{i}.n_candidates"] = float(st["n_candidates"])
                metrics[f"{variant}.iter{i}.valid_yield"] = st["n_valid"] / max(
                    st["n_candidates"], 1
                )
        final = evals[f"{variant}.iter{iterations}"]
        for key in METRICS:
            metrics[f"{variant}.{key}"] = final[key]
            metrics[f"{variant}.gain_{key}"] = final[key] - base[key]
            if base[key] > 0:
                metrics[f"{variant}.relative_gain_{key}"] = (final[key] - base[key]) / base[key]
    if "toolr0" in variants:
        for variant in variants:
            if variant not in ("toolr0", "oracle"):  # the oracle is a control, not an ablation
                for key in ("ast_accuracy", "exec_accuracy"):
                    metrics[f"ablation.{variant}.{key}_drop"] = (
                        metrics[f"toolr0.{key}"] - metrics[f"{variant}.{key}"]
                    )
    metrics["exec_minus_ast_gap"] = metrics.get("toolr0.exec_accuracy", 0.0) - metrics.get(
        "toolr0.ast_accuracy", 0.0
    )
    return {k: float(v) for k, v in sorted(metrics.items())}


def item_units(
    predictions: dict[str, list[dict]], evals: dict[str, dict], iterations: int
) -> Units:
    """Per-item AST and execution correctness (1 or 0) of the base model and of each variant
    after its last iteration: the evidence behind the accuracies of metrics.json. Every arm
    answers the same held-out items, so the claims engine pairs them by item id.

    `predictions` and `evals` are keyed by run name (base, <variant>.iter<i>); each arm's item
    means must equal its summary's accuracies, or the two files are not of the same run."""
    units = Units()
    arms = {"base": "base"}
    for name in sorted(predictions):
        variant, _, stage = name.partition(".")
        if stage == f"iter{iterations}":
            arms[variant] = name
    for arm, run in arms.items():
        rows = predictions[run]
        ids = [row["id"] for row in rows]
        for quantity, key in (("ast", "ast_accuracy"), ("exec", "exec_accuracy")):
            values = [float(row[quantity]) for row in rows]
            mean = sum(values) / max(len(values), 1)
            if abs(mean - evals[run][key]) > 1e-9:
                raise ValueError(
                    f"{run}: per-item {quantity} mean {mean} differs from its summary's "
                    f"{key} {evals[run][key]}"
                )
            units.add(f"{arm}.{quantity}_correct", "item", ids, values)
    return units

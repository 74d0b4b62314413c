"""The paper's measurements: held-out accuracy and what the update did to the weights.

Update sparsity follows the paper's code: load base and tuned weights in bf16, subtract, and
count a parameter as updated unless isclose(delta, 0, atol=1e-5). In bf16 a weight only moves
visibly when |dw| > |w|/256, so part of the sparsity is bf16 absorption; the fp32 figure
(|dw| > atol on fp32 weights) is reported beside it. Tied tensors are counted once.

Update rank follows the authors' public script (SagnikMukherjee/sparsity_in_rl, src/update_rank.py
at commit c0d551171d8eee27c4cc7f48a16a4bc9a81ca5bd; the file is unchanged since 43735e8): the
bf16 update (tuned minus base, both cast to bf16 and subtracted in bf16) of every parameter
tensor except 1-D ones and those named 'layernorm' (so embeddings and an untied lm_head count),
`torch.linalg.matrix_rank` of it in fp32 with torch's default tolerance, divided by min(shape),
then the plain mean over tensors; reported here x100 as `update_rank_pct`. The 99%-energy rank
of the fp32 update of the layers' matrices (`effective_rank_*`) is kept beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from safetensors.torch import load_file

from reprolab.evidence import Units
from reprolab.inference import SamplingParams, get_backend
from reprolab.papers.sgd_rlvr.answers import extract_boxed, is_correct
from reprolab.stats import bootstrap_ci

LAYER = re.compile(r"layers\.(\d+)\.")


def load_weights(folder: Path) -> dict[str, torch.Tensor]:
    """All safetensors shards of a model folder; a tied lm_head is dropped (counted once)."""
    tensors: dict[str, torch.Tensor] = {}
    for shard in sorted(Path(folder).glob("*.safetensors")):
        tensors.update(load_file(shard))
    if not tensors:
        raise FileNotFoundError(f"{folder}: no *.safetensors files")
    embed = next((k for k in tensors if k.endswith("embed_tokens.weight")), None)
    head = tensors.get("lm_head.weight")
    if embed is not None and head is not None and torch.equal(head, tensors[embed]):
        del tensors["lm_head.weight"]
    return tensors


def layer_of(name: str) -> str:
    match = LAYER.search(name)
    if match:
        return f"layer{int(match.group(1)):03d}"
    return "embedding" if "embed" in name else "other"


def update_sparsity(
    base: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor], atol: float = 1e-5
) -> dict:
    """Updated fractions (bf16 as the paper, and fp32), exact zeros, overall and per layer."""
    missing = set(base) ^ set(tuned)
    if missing:
        raise ValueError(f"base and tuned weights differ in tensors: {sorted(missing)[:5]}")
    totals = {"n": 0, "bf16": 0, "fp32": 0, "zero": 0}
    per_layer: dict[str, dict[str, int]] = {}
    for name in sorted(base):
        b, t = base[name], tuned[name]
        delta_bf16 = (t.to(torch.bfloat16) - b.to(torch.bfloat16)).float()
        updated_bf16 = int(
            (~torch.isclose(delta_bf16, torch.zeros_like(delta_bf16), atol=atol)).sum()
        )
        delta = t.float() - b.float()
        counts = {
            "n": delta.numel(),
            "bf16": updated_bf16,
            "fp32": int((delta.abs() > atol).sum()),
            "zero": int((delta == 0).sum()),
        }
        layer = per_layer.setdefault(layer_of(name), {"n": 0, "bf16": 0, "fp32": 0, "zero": 0})
        for key, value in counts.items():
            totals[key] += value
            layer[key] += value
    return {
        "parameters": totals["n"],
        "updated_fraction_bf16": totals["bf16"] / totals["n"],
        "updated_fraction_fp32": totals["fp32"] / totals["n"],
        "exact_zero_fraction": totals["zero"] / totals["n"],
        "per_layer": {
            name: {
                "updated_fraction_bf16": c["bf16"] / c["n"],
                "updated_fraction_fp32": c["fp32"] / c["n"],
            }
            for name, c in sorted(per_layer.items())
        },
    }


def effective_rank(delta: torch.Tensor, energy: float = 0.99) -> int:
    """Fewest singular directions holding `energy` of the squared Frobenius norm (0 if none)."""
    singular = torch.linalg.svdvals(delta.float())
    power = singular.double() ** 2
    total = float(power.sum())
    if total == 0.0:
        return 0
    cumulative = torch.cumsum(power, 0) / total
    return int(torch.searchsorted(cumulative, torch.tensor(energy, dtype=torch.float64)) + 1)


def energy_ranks(
    base: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor], energy: float = 0.99
) -> dict:
    """99%-energy rank of the fp32 update of every 2-D matrix inside the transformer layers.

    Not the authors' measure (see `update_rank`): kept as a second view of the same update.
    """
    ranks = {}
    for name in sorted(base):
        if base[name].dim() == 2 and LAYER.search(name):
            delta = tuned[name].float() - base[name].float()
            ranks[name] = {"rank": effective_rank(delta, energy), "full_rank": min(delta.shape)}
    if not ranks:
        return {"effective_rank_mean": 0.0, "effective_rank_fraction": 0.0, "per_matrix": {}}
    mean_rank = sum(r["rank"] for r in ranks.values()) / len(ranks)
    fraction = sum(r["rank"] / r["full_rank"] for r in ranks.values()) / len(ranks)
    return {
        "effective_rank_mean": mean_rank,
        "effective_rank_fraction": fraction,
        "per_matrix": ranks,
    }


def update_rank(base: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor]) -> dict:
    """The update's rank as the authors' update_rank.py computes it (see the module docstring).

    Per tensor: `matrix_rank` of the bf16 difference over min(shape); the percentage is the
    unweighted mean of those fractions, x100. Skipped as in their script: tensors of at most one
    dimension and any whose name contains 'layernorm'. Pass weights from `load_weights`, which
    keeps a tied lm_head out, as their loop over `named_parameters()` does.
    """
    missing = set(base) ^ set(tuned)
    if missing:
        raise ValueError(f"base and tuned weights differ in tensors: {sorted(missing)[:5]}")
    per_tensor = {}
    for name in sorted(base):
        if "layernorm" in name or base[name].dim() <= 1:
            continue
        if base[name].dim() > 2:
            # Their script would hand it to matrix_rank as a batch; no model here has one.
            raise ValueError(f"{name}: {base[name].dim()}-D tensor, no rank defined here")
        delta = tuned[name].to(torch.bfloat16) - base[name].to(torch.bfloat16)
        rank = int(torch.linalg.matrix_rank(delta.float()))
        per_tensor[name] = {"rank": rank, "full_rank": min(delta.shape)}
    if not per_tensor:
        return {"update_rank_pct": 0.0, "per_tensor": {}}
    fractions = [r["rank"] / r["full_rank"] for r in per_tensor.values()]
    return {"update_rank_pct": 100.0 * sum(fractions) / len(fractions), "per_tensor": per_tensor}


def weight_update(base_dir: Path, tuned_dir: Path, settings: dict, ranks: bool = True) -> dict:
    """Sparsity (overall and per layer) and, with `ranks`, the authors' update rank and the
    energy rank (their SVDs cost ~45 CPU-s an arm at SmolLM2's shapes: RL arms only at tiny)."""
    base, tuned = load_weights(base_dir), load_weights(tuned_dir)
    if not ranks:
        return update_sparsity(base, tuned, settings["atol"])
    authors = update_rank(base, tuned)
    energy = energy_ranks(base, tuned, settings["rank_energy"])
    return {
        **update_sparsity(base, tuned, settings["atol"]),
        "update_rank_pct": authors["update_rank_pct"],
        "update_rank_per_tensor": authors["per_tensor"],
        "effective_rank_mean": energy["effective_rank_mean"],
        "effective_rank_fraction": energy["effective_rank_fraction"],
    }


def accuracy(model_dir: Path, rows: list[dict], cfg: dict, seed: int) -> dict:
    """Greedy pass@1 on the held-out rows, with a bootstrap CI and per-item predictions."""
    backend = get_backend(cfg["backend"], str(model_dir), **cfg.get("backend_options", {}))
    params = SamplingParams(max_new_tokens=cfg["max_new_tokens"], temperature=0.0, seed=seed)
    replies = backend.generate([r["prompt"] for r in rows], params)
    correct = [is_correct(reply, r["answer"]) for reply, r in zip(replies, rows, strict=True)]
    formatted = [extract_boxed(reply) is not None for reply in replies]
    low, high = bootstrap_ci(correct, cfg["bootstrap_resamples"], cfg["ci_level"], seed)
    return {
        "accuracy": sum(correct) / len(correct),
        "accuracy_ci_low": low,
        "accuracy_ci_high": high,
        "format_rate": sum(formatted) / len(formatted),
        "n_test": len(rows),
        "predictions": [
            {"id": r["id"], "answer": r["answer"], "reply": reply, "correct": ok}
            for r, reply, ok in zip(rows, replies, correct, strict=True)
        ],
    }


def summarize(evals: dict[str, dict]) -> dict[str, float]:
    """Flat metrics.json: '<arm>.<quantity>' for every arm, and the paper's comparisons."""
    metrics: dict[str, float] = {}
    for arm, result in sorted(evals.items()):
        for key, value in result.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[f"{arm}.{key}"] = float(value)

    def get(name: str) -> float | None:
        return metrics.get(name)

    sgd, adamw = get("grpo_sgd.updated_fraction_bf16"), get("grpo_adamw.updated_fraction_bf16")
    if sgd is not None and adamw is not None:
        # A zero count is floored at one parameter so the ratio stays finite.
        floor = 1.0 / metrics["grpo_sgd.parameters"]
        metrics["updated_fraction_ratio_adamw_over_sgd"] = adamw / max(sgd, floor)
    for kind in ("grpo", "sft"):
        # What each optimizer feature adds over plain SGD: all of Adam, momentum alone,
        # adaptivity alone (Adam with beta1 = 0, the "rmsprop" arm).
        s = get(f"{kind}_sgd.accuracy")
        for arm in ("adamw", "sgd_momentum", "rmsprop"):
            a = get(f"{kind}_{arm}.accuracy")
            if a is not None and s is not None:
                metrics[f"{kind}_accuracy_gap_{arm}_minus_sgd"] = a - s
    ua, us = get("grpo_adamw.update_rank_pct"), get("grpo_sgd.update_rank_pct")
    if ua is not None and us is not None:
        metrics["update_rank_gap_adamw_minus_sgd"] = ua - us  # percentage points
    ra, rs = get("grpo_adamw.effective_rank_mean"), get("grpo_sgd.effective_rank_mean")
    if ra is not None and rs is not None:
        metrics["effective_rank_gap_adamw_minus_sgd"] = ra - rs
    return metrics


def select_learning_rates(results: dict[str, dict], grid: dict) -> dict[str, dict]:
    """Each tuned arm's learning rate from the grid: the highest validation accuracy, ties
    kept at the configured rate (factor 1), so the config stands unless validation prefers
    another point. `results`: validation results by arm or grid point ('<arm>_lr<k>')."""
    factors = grid["factors"]
    if 1 not in factors:
        raise ValueError(f"grid.factors {factors}: must hold 1, the configured learning rate")
    chosen = {}
    for arm in grid["arms"]:
        points = []
        for k, factor in enumerate(factors):
            name = arm if factor == 1 else f"{arm}_lr{k}"
            if name not in results:
                raise ValueError(f"grid: no validation result for {name}")
            points.append((factor, results[name]["lr"], results[name]["accuracy"]))
        best = max(acc for _, _, acc in points)
        factor, lr, _ = next(p for p in sorted(points, key=lambda p: p[0] != 1) if p[2] == best)
        chosen[arm] = {
            "points": [{"factor": f, "lr": r, "val_accuracy": a} for f, r, a in points],
            "selected_factor": factor,
            "selected_lr": lr,
            "config_is_selected": factor == 1,
        }
    return chosen


def grid_metrics(chosen: dict[str, dict]) -> dict[str, float]:
    """Flat metrics of the grid: each point's validation accuracy, the chosen factor, and
    whether the configured rate is the choice (1 or 0; the accuracy claims require it)."""
    flat: dict[str, float] = {}
    for arm, c in chosen.items():
        for point in c["points"]:
            flat[f"grid.{arm}.x{point['factor']:g}.val_accuracy"] = float(point["val_accuracy"])
        flat[f"grid.{arm}.selected_factor"] = float(c["selected_factor"])
        flat[f"grid.{arm}.config_is_selected"] = float(c["config_is_selected"])
    return flat


# What one training run measured about its own update: the unit is the run (its seed).
RUN_QUANTITIES = (
    "updated_fraction_bf16",
    "updated_fraction_fp32",
    "update_rank_pct",
    "effective_rank_mean",
    "effective_rank_fraction",
)


def evidence(evals: dict[str, dict], predictions: dict[str, list[dict]], seed: int) -> Units:
    """The units behind metrics.json for the claims engine (units.json).

    Held-out correctness is sampled per test item: '<arm>.correct', one 0/1 value per item id.
    Every arm is scored on the same test file, so RL and SFT arms are paired on items. Update
    sparsity and rank are properties of one training run: '<arm>.<quantity>', unit 'seed', one
    value under this run's seed (several seeds are pooled by the engine).
    """
    units = Units()
    for arm in sorted(predictions):
        rows = predictions[arm]
        correct = [float(bool(r["correct"])) for r in rows]
        if arm in evals and abs(sum(correct) / len(correct) - evals[arm]["accuracy"]) > 1e-12:
            raise ValueError(
                f"{arm}: predictions give accuracy {sum(correct) / len(correct)}, "
                f"its evaluation {evals[arm]['accuracy']}"
            )
        units.add(f"{arm}.correct", "item", [r["id"] for r in rows], correct)
    # Plain SGD's items again where an ablation of its kind ran on this seed (every seed at full,
    # the first at tiny): what the ablation claims compare with, on the ablation's own seeds.
    for kind in ("grpo", "sft"):
        ablated = any(f"{kind}_{a}" in predictions for a in ("sgd_momentum", "rmsprop"))
        if ablated and f"{kind}_sgd" in predictions:
            sgd = units.samples[f"{kind}_sgd.correct"]
            units.add(f"{kind}_sgd.correct_where_ablated", "item", list(sgd.ids), list(sgd.values))
    for arm, result in sorted(evals.items()):
        for quantity in RUN_QUANTITIES:
            if quantity in result:
                units.add(f"{arm}.{quantity}", "seed", [seed], [result[quantity]])
    return units

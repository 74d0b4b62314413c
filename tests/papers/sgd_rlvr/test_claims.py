"""sgd_rlvr's evidence for the claims engine (units.json) and its card, on planted cases whose
answers are known by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from reprolab.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_CHECKED,
    NOT_TESTABLE,
    REPRODUCED,
    Settings,
    check_claims,
    paper_statistics,
)
from reprolab.config import load_yaml
from reprolab.evidence import Units, pool_seeds
from reprolab.papers.sgd_rlvr import evaluate as ev
from reprolab.papers.sgd_rlvr.statistics import gap_difference
from tests.conftest import REPO

FAST = Settings(level=0.95, resamples=1000, power=0.8, seed=0)
CARD = load_yaml(REPO / "seeds" / "sgd_rlvr.yaml")


def predictions(correct, ids=None):
    ids = ids if ids is not None else list(range(len(correct)))
    return [
        {"id": i, "answer": "7", "reply": "\\boxed{7}", "correct": bool(ok)}
        for i, ok in zip(ids, correct, strict=True)
    ]


def test_evidence_records_each_item_and_each_run():
    preds = {
        "grpo_sgd": predictions([1, 0, 1, 1], ids=[3, 1, 0, 2]),
        "grpo_adamw": predictions([0, 0, 1, 1], ids=[3, 1, 0, 2]),
        "base": predictions([0, 0, 0, 1], ids=[3, 1, 0, 2]),
    }
    evals = {
        "grpo_sgd": {
            "accuracy": 0.75,
            "updated_fraction_bf16": 1e-4,
            "effective_rank_fraction": 0.1,
            "update_rank_pct": 30.0,
            "update_rank_per_tensor": {"model.embed_tokens.weight": {"rank": 3, "full_rank": 10}},
        },
        "grpo_adamw": {"accuracy": 0.5, "updated_fraction_bf16": 0.02, "parameters": 10},
        "base": {"accuracy": 0.25},
    }
    units = ev.evidence(evals, preds, seed=7)
    sgd = units.samples["grpo_sgd.correct"]
    assert sgd.unit == "item"
    assert sgd.ids == ("3", "1", "0", "2") and sgd.values == (1.0, 0.0, 1.0, 1.0)
    assert units.samples["grpo_adamw.correct"].values == (0.0, 0.0, 1.0, 1.0)
    run = units.samples["grpo_sgd.updated_fraction_bf16"]
    assert (run.unit, run.ids, run.values) == ("seed", ("7",), (1e-4,))
    assert units.samples["grpo_sgd.effective_rank_fraction"].values == (0.1,)
    assert units.samples["grpo_sgd.update_rank_pct"].values == (30.0,)
    # Only the run-level quantities are recorded per seed; the base model has none.
    assert set(units.samples) == {
        "base.correct",
        "grpo_sgd.correct",
        "grpo_adamw.correct",
        "grpo_sgd.updated_fraction_bf16",
        "grpo_sgd.effective_rank_fraction",
        "grpo_sgd.update_rank_pct",
        "grpo_adamw.updated_fraction_bf16",
    }


def test_evidence_refuses_predictions_that_disagree_with_the_evaluation():
    with pytest.raises(ValueError, match="grpo_sgd"):
        ev.evidence({"grpo_sgd": {"accuracy": 0.5}}, {"grpo_sgd": predictions([1, 1])}, seed=0)


def test_gap_difference_by_hand():
    # RL: AdamW 6/10, SGD 5/10 (gap 0.1); SFT: AdamW 8/10, SGD 4/10 (gap 0.4): 0.1 - 0.4.
    rl_a, rl_s = np.r_[np.ones(6), np.zeros(4)], np.r_[np.ones(5), np.zeros(5)]
    sft_a, sft_s = np.r_[np.ones(8), np.zeros(2)], np.r_[np.ones(4), np.zeros(6)]
    assert gap_difference(rl_a, rl_s, sft_a, sft_s) == pytest.approx(-0.3)
    assert paper_statistics("sgd_rlvr")["gap_difference"] is gap_difference


def planted(
    n, rl_adamw, rl_sgd, sft_adamw, sft_sgd, seed=0, fractions=(0.02, 1e-4), ablations=None
):
    """Units of one run: per-item correctness of the four arms (and any `ablations`, arm ->
    rate) at the given rates (exact counts, shuffled), the base model at 0.3, the run's bf16
    updated fractions, the authors' update rank (AdamW 90%, SGD 25%) and the energy-rank
    fractions."""
    rng = np.random.default_rng(seed)
    units = Units()
    for name, rate in [
        ("base", 0.3),
        ("base_sft", 0.1),
        ("grpo_adamw", rl_adamw),
        ("grpo_sgd", rl_sgd),
        ("sft_adamw", sft_adamw),
        ("sft_sgd", sft_sgd),
        *(ablations or {}).items(),
    ]:
        k = round(rate * n)
        # The SFT task's items are its own (ids 's<n>'), as at tiny.
        prefix = "s" if name.startswith("sft_") or name == "base_sft" else ""
        ids = [f"{prefix}{i}" for i in range(n)]
        units.add(
            f"{name}.correct", "item", ids, rng.permutation(np.r_[np.ones(k), np.zeros(n - k)])
        )
    for kind in ("grpo", "sft"):  # as evaluate.evidence: SGD again where an ablation ran
        if any(f"{kind}_{a}" in (ablations or {}) for a in ("sgd_momentum", "rmsprop")):
            sgd = units.samples[f"{kind}_sgd.correct"]
            units.add(f"{kind}_sgd.correct_where_ablated", "item", list(sgd.ids), list(sgd.values))
    adamw, sgd = fractions
    units.add("grpo_adamw.updated_fraction_bf16", "seed", [seed], [adamw])
    units.add("grpo_sgd.updated_fraction_bf16", "seed", [seed], [sgd])
    units.add("grpo_adamw.effective_rank_fraction", "seed", [seed], [0.5])
    units.add("grpo_sgd.effective_rank_fraction", "seed", [seed], [0.06])
    units.add("grpo_adamw.update_rank_pct", "seed", [seed], [90.0])
    units.add("grpo_sgd.update_rank_pct", "seed", [seed], [25.0])
    return units


def metrics_of(units, base=0.3, selected=1.0):
    acc = {
        k.removesuffix(".correct"): units.samples[k].array().mean()
        for k in units.samples
        if k.endswith(".correct")
    }
    gaps = {
        f"sft_accuracy_gap_{arm}_minus_sgd": acc[f"sft_{arm}"] - acc["sft_sgd"]
        for arm in ("adamw", "sgd_momentum", "rmsprop")
        if f"sft_{arm}" in acc
    }
    return {
        "base.accuracy": base,
        **gaps,
        **{
            f"grid.{arm}.config_is_selected": selected
            for arm in ("grpo_sgd", "grpo_adamw", "sft_sgd", "sft_adamw")
        },
        "grpo_sgd.optimizer_state_per_parameter_byte": 0.0,
        "grpo_adamw.optimizer_state_per_parameter_byte": 2.0,
    }


def verdicts(units, metrics, scale="tiny"):
    out = check_claims(CARD, metrics, units, scale, FAST, paper_statistics("sgd_rlvr"))
    return {c["id"]: c for c in out["claims"]}


def test_identical_rl_arms_match_and_an_sgd_deficit_is_contradicted():
    same = planted(4000, 0.5, 0.5, 0.8, 0.4)
    adamw = same.samples["grpo_adamw.correct"]
    same.samples["grpo_sgd.correct"] = replace(adamw, name="grpo_sgd.correct")
    v = verdicts(same, metrics_of(same))
    assert v["sgd_matches_adamw_in_rl"]["verdict"] == REPRODUCED
    assert v["sgd_matches_adamw_in_rl"]["estimate"] == 0.0
    assert v["sgd_matches_adamw_in_rl"]["test"] == "equivalence"
    margin = v["sgd_matches_adamw_in_rl"]["margin"]
    assert (margin["value"], margin["source"]) == (0.014, "paper")
    assert v["sgd_not_worse_than_adamw_in_rl"]["verdict"] == REPRODUCED
    worse = planted(4000, 0.6, 0.5, 0.8, 0.4)  # SGD 10 pp below AdamW
    v = verdicts(worse, metrics_of(worse))
    assert v["sgd_matches_adamw_in_rl"]["verdict"] == CONTRADICTED
    assert v["sgd_not_worse_than_adamw_in_rl"]["verdict"] == CONTRADICTED
    # SGD 10 pp above AdamW: not equivalent (outside the margin), but not worse.
    better = planted(4000, 0.5, 0.6, 0.8, 0.4)
    v = verdicts(better, metrics_of(better))
    assert v["sgd_matches_adamw_in_rl"]["verdict"] == CONTRADICTED
    assert v["sgd_not_worse_than_adamw_in_rl"]["verdict"] == REPRODUCED


def test_accuracy_claims_need_the_validation_grids_learning_rates():
    same = planted(4000, 0.5, 0.5, 0.8, 0.4)
    v = verdicts(same, metrics_of(same, selected=0.0))
    for cid in (
        "sgd_matches_adamw_in_rl",
        "sgd_not_worse_than_adamw_in_rl",
        "optimizer_matters_less_in_rl",
    ):
        assert v[cid]["verdict"] == NOT_TESTABLE and "validation grid" in v[cid]["why"]


def test_rl_learning_over_the_base_model_is_read_on_paired_items():
    units = planted(2000, 0.6, 0.6, 0.8, 0.4)  # base 0.3
    v = verdicts(units, metrics_of(units))["grpo_sgd_learns"]
    assert v["verdict"] == REPRODUCED and v["estimate"] == pytest.approx(0.3)
    flat = planted(2000, 0.3, 0.3, 0.8, 0.4)
    v = verdicts(flat, metrics_of(flat))["grpo_sgd_learns"]
    assert v["verdict"] == INCONCLUSIVE
    # SFT AdamW 0.8 against the base model's 0.1 on the SFT task's own items, paired.
    v = verdicts(units, metrics_of(units))["sft_teaches_the_task"]
    assert v["verdict"] == REPRODUCED and v["estimate"] == pytest.approx(0.7)
    assert v["method"].startswith("paired bootstrap")
    # The RL-vs-SFT contrast at tiny: each task's pair paired on its own items, the two tasks'
    # items resampled independently (the engine groups samples by unit and ids).
    v = verdicts(units, metrics_of(units))["optimizer_matters_less_in_rl"]
    assert "paired within each, drawn independently" in v["method"]


def test_momentum_and_adaptivity_claims_on_planted_ablations():
    """Momentum: +30 pp in SFT, nothing in RL (reproduced); adaptivity: +20 pp in RL, nothing
    in SFT, so its precondition (a gain in SFT) fails."""
    ablations = {
        "grpo_sgd_momentum": 0.5,
        "sft_sgd_momentum": 0.7,
        "grpo_rmsprop": 0.7,
        "sft_rmsprop": 0.4,
    }
    units = planted(2000, 0.5, 0.5, 0.8, 0.4, ablations=ablations)
    v = verdicts(units, metrics_of(units))
    assert v["momentum_matters_less_in_rl"]["verdict"] == REPRODUCED
    assert v["momentum_matters_less_in_rl"]["estimate"] == pytest.approx(-0.3)
    assert v["adaptivity_matters_less_in_rl"]["verdict"] == NOT_TESTABLE
    assert "adaptivity to help in SFT" in v["adaptivity_matters_less_in_rl"]["why"]


def test_first_seed_ablations_are_compared_with_sgd_on_their_own_seed():
    """Tiny's design: the ablations on seed 0 only, SGD on three seeds. The claim reads SGD on
    seed 0 (correct_where_ablated), paired on items within each task: seeds 1 and 2, planted
    with a much stronger RL SGD (0.9), must not enter the ablation's gain."""
    ablations = {"grpo_sgd_momentum": 0.5, "sft_sgd_momentum": 0.8}
    per_seed = {0: planted(600, 0.5, 0.5, 0.8, 0.4, 0, ablations=ablations)}
    per_seed |= {s: planted(600, 0.5, 0.9, 0.8, 0.4, s) for s in (1, 2)}
    pooled = pool_seeds(per_seed)
    assert len(pooled.samples["grpo_sgd.correct_where_ablated"].ids) == 600
    v = verdicts(pooled, metrics_of(per_seed[0]))["momentum_matters_less_in_rl"]
    assert "paired within each, drawn independently" in v["method"]
    # RL gain 0.5 - 0.5 on seed 0, SFT gain 0.8 - 0.4: -0.4 (pooled SGD would give -0.67).
    assert v["estimate"] == pytest.approx(-0.4) and v["verdict"] == REPRODUCED


def test_matches_needs_the_base_model_in_the_band():
    units = planted(64, 0.7, 0.64, 0.72, 0.72)
    v = verdicts(units, metrics_of(units, base=0.0))["sgd_matches_adamw_in_rl"]
    assert v["verdict"] == NOT_TESTABLE and "15-40%" in v["why"]


def test_tiny_design_cannot_resolve_the_papers_margin():
    """64 paired items, SGD 6 pp below AdamW: neither within 1.4 pp nor beyond it."""
    units = planted(64, 0.7, 0.64, 0.72, 0.72)
    v = verdicts(units, metrics_of(units))["sgd_matches_adamw_in_rl"]
    assert v["verdict"] == INCONCLUSIVE and v["detectable"] > 0.1
    assert v["method"].startswith("paired bootstrap over 64 items")


def test_rl_sft_contrast_read_only_when_sft_shows_an_sgd_deficit():
    flat_sft = planted(64, 0.7, 0.64, 0.72, 0.72)
    v = verdicts(flat_sft, metrics_of(flat_sft))["optimizer_matters_less_in_rl"]
    assert v["verdict"] == NOT_TESTABLE and "SGD deficit" in v["why"]
    # SFT: SGD 40 pp behind; RL: level. The gap is 0.4 smaller in RL, on 2000 paired items.
    contrast = planted(2000, 0.6, 0.6, 0.8, 0.4)
    v = verdicts(contrast, metrics_of(contrast))["optimizer_matters_less_in_rl"]
    assert v["estimate"] == pytest.approx(-0.4) and v["verdict"] == REPRODUCED
    # The opposite: the optimizer matters more in RL.
    reverse = planted(2000, 0.9, 0.4, 0.6, 0.5)
    v = verdicts(reverse, metrics_of(reverse))["optimizer_matters_less_in_rl"]
    assert v["estimate"] == pytest.approx(0.4) and v["verdict"] == CONTRADICTED


def test_run_level_claims_need_seeds():
    """One run per arm: however sparse, the sparsity, ratio and rank claims read inconclusive;
    five seeds of a planted sparse run reproduce them, five dense ones contradict the bound."""
    one = planted(64, 0.7, 0.64, 0.72, 0.72, fractions=(0.05, 1e-5))
    v = verdicts(one, metrics_of(one))
    for cid in ("sgd_updates_few_parameters", "adamw_updates_far_more", "sgd_update_lower_rank"):
        assert v[cid]["verdict"] == INCONCLUSIVE and "at least 5" in v[cid]["why"]
        assert v[cid]["method"].endswith("over 1 seeds (1000 resamples)")
    sparse = pool_seeds(
        {
            s: planted(64, 0.7, 0.64, 0.72, 0.72, s, (0.05 + s * 1e-3, 1e-5 * (1 + s)))
            for s in range(5)
        }
    )
    v = verdicts(sparse, metrics_of(sparse))
    assert v["sgd_updates_few_parameters"]["verdict"] == REPRODUCED
    assert v["sgd_updates_few_parameters"]["threshold"]["source"] == "paper"
    assert v["adamw_updates_far_more"]["verdict"] == REPRODUCED  # ~1700x at every seed
    assert v["sgd_update_lower_rank"]["verdict"] == REPRODUCED
    assert v["sgd_update_lower_rank"]["estimate"] == pytest.approx(65.0)  # the authors' rank
    dense = pool_seeds(
        {s: planted(64, 0.7, 0.64, 0.72, 0.72, s, (0.02, 3e-4 + s * 1e-5)) for s in range(5)}
    )
    v = verdicts(dense, metrics_of(dense))
    assert v["sgd_updates_few_parameters"]["verdict"] == CONTRADICTED
    assert v["adamw_updates_far_more"]["verdict"] == CONTRADICTED  # ~65x, below 1000x


def test_smoke_reads_only_the_sanity_checks():
    units = planted(8, 0.0, 0.0, 0.0, 0.0)
    v = verdicts(units, metrics_of(units, base=0.0), scale="smoke")
    assert {c["verdict"] for c in v.values() if c["kind"] == "science"} == {NOT_CHECKED}
    assert v["sgd_keeps_no_state"]["verdict"] == "pass"
    assert v["adamw_keeps_two_copies"]["verdict"] == "pass"

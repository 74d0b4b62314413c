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


def planted(n, rl_adamw, rl_sgd, sft_adamw, sft_sgd, seed=0, fractions=(0.02, 1e-4)):
    """Units of one run: per-item correctness of the four arms at the given rates (exact
    counts, shuffled), the run's bf16 updated fractions, the authors' update rank (AdamW 90%,
    SGD 25%) and the energy-rank fractions."""
    rng = np.random.default_rng(seed)
    units = Units()
    ids = [str(i) for i in range(n)]
    for name, rate in [
        ("grpo_adamw", rl_adamw),
        ("grpo_sgd", rl_sgd),
        ("sft_adamw", sft_adamw),
        ("sft_sgd", sft_sgd),
    ]:
        k = round(rate * n)
        units.add(
            f"{name}.correct", "item", ids, rng.permutation(np.r_[np.ones(k), np.zeros(n - k)])
        )
    adamw, sgd = fractions
    units.add("grpo_adamw.updated_fraction_bf16", "seed", [seed], [adamw])
    units.add("grpo_sgd.updated_fraction_bf16", "seed", [seed], [sgd])
    units.add("grpo_adamw.effective_rank_fraction", "seed", [seed], [0.5])
    units.add("grpo_sgd.effective_rank_fraction", "seed", [seed], [0.06])
    units.add("grpo_adamw.update_rank_pct", "seed", [seed], [90.0])
    units.add("grpo_sgd.update_rank_pct", "seed", [seed], [25.0])
    return units


def metrics_of(units, base=0.3):
    acc = {
        k.removesuffix(".correct"): units.samples[k].array().mean()
        for k in units.samples
        if k.endswith(".correct")
    }
    return {
        "base.accuracy": base,
        "sft_accuracy_gap_adamw_minus_sgd": acc["sft_adamw"] - acc["sft_sgd"],
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
    v = verdicts(same, metrics_of(same))["sgd_matches_adamw_in_rl"]
    assert v["verdict"] == REPRODUCED and v["estimate"] == 0.0
    assert (v["margin"]["value"], v["margin"]["source"]) == (0.014, "paper")
    worse = planted(4000, 0.6, 0.5, 0.8, 0.4)  # SGD 10 pp below AdamW
    assert verdicts(worse, metrics_of(worse))["sgd_matches_adamw_in_rl"]["verdict"] == CONTRADICTED


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

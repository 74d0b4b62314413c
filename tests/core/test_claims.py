"""The claims engine against cases whose answer is known: planted nulls, planted effects,
identical and distant arms, failed preconditions, thresholds without provenance."""

import numpy as np
import pytest

from reprolab.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    MISSING,
    NOT_CHECKED,
    NOT_TESTABLE,
    REPRODUCED,
    CardError,
    Settings,
    check_claims,
    estimate,
    near_threshold_without_reason,
    validate_card,
)
from reprolab.evidence import Units, pool_seeds

FAST = Settings(level=0.95, resamples=1000, power=0.8, seed=0)


def direction_claim(**extra):
    return {
        "id": "framing_shifts",
        "kind": "science",
        "text": "attribution raises the judge's P(yes)",
        "estimate": {"stat": "diff", "of": ["attributed", "plain"]},
        "test": "direction",
        "op": ">",
        "scales": ["tiny"],
        **extra,
    }


def paired_units(a, b, unit="item"):
    units = Units()
    ids = [f"i{k}" for k in range(len(a))]
    units.add("attributed", unit, ids, a)
    units.add("plain", unit, ids, b)
    return units


def verdict(card_claims, units, metrics=None, scale="tiny", settings=FAST, stats=None):
    card = {"paper": "demo", "claims": card_claims}
    return check_claims(card, metrics or {}, units, scale, settings, stats)["claims"]


def test_planted_null_is_almost_never_reproduced():
    """200 runs of the tiny dialdefer design (56 paired binary items, no framing effect at
    all): a claim of a positive shift must not read `reproduced` in more than 5% of them."""
    rng = np.random.default_rng(1)
    reproduced = 0
    for _ in range(200):
        p = rng.uniform(0.2, 0.8, size=56)  # items differ; framing changes nothing
        a, b = rng.random(56) < p, rng.random(56) < p
        v = verdict([direction_claim()], paired_units(a.astype(float), b.astype(float)))[0]
        assert v["verdict"] in (REPRODUCED, INCONCLUSIVE, CONTRADICTED)
        reproduced += v["verdict"] == REPRODUCED
    assert reproduced / 200 <= 0.05


def test_planted_effect_of_the_papers_size_is_reproduced():
    """A +30 pp shift (the order of the paper's DDS) on 64 paired items is found."""
    rng = np.random.default_rng(2)
    b = (rng.random(64) < 0.4).astype(float)
    a = np.maximum(b, (rng.random(64) < 0.5).astype(float))  # adds ~30 pp, never removes
    v = verdict([direction_claim()], paired_units(a, b))[0]
    assert v["verdict"] == REPRODUCED
    assert v["method"].startswith("paired bootstrap over 64 items")
    assert v["ci"][0] > 0 and v["threshold"]["source"] == "engine"


def test_opposite_effect_is_contradicted_and_point_estimate_is_the_mean_difference():
    a = np.zeros(80)
    b = np.r_[np.ones(40), np.zeros(40)]
    v = verdict([direction_claim()], paired_units(a, b))[0]
    assert v["estimate"] == pytest.approx(-0.5)
    assert v["verdict"] == CONTRADICTED


def test_small_design_is_inconclusive_and_reports_what_it_could_detect():
    a = np.array([1, 0, 1, 0, 1, 0], dtype=float)
    b = np.array([0, 1, 1, 0, 0, 0], dtype=float)
    v = verdict([direction_claim()], paired_units(a, b))[0]
    assert v["verdict"] == INCONCLUSIVE
    # SE of a mean difference of six +-1/0 pairs is ~0.25: detectable ~ 2.8 * SE.
    assert 0.4 < v["detectable"] < 1.2


def equivalence_claim(margin=0.05):
    return {
        "id": "sgd_matches_adamw",
        "kind": "science",
        "text": "SGD matches AdamW",
        "estimate": {"stat": "diff", "of": ["attributed", "plain"]},
        "test": "equivalence",
        "margin": {"value": margin, "source": "paper"},
        "scales": ["tiny"],
    }


def test_equivalence_identical_arms_reproduced_and_ten_points_apart_contradicted():
    rng = np.random.default_rng(3)
    same = (rng.random(2000) < 0.5).astype(float)
    assert verdict([equivalence_claim()], paired_units(same, same))[0]["verdict"] == REPRODUCED
    a = rng.permutation(np.r_[np.ones(1200), np.zeros(800)])  # exactly 60% against 50%
    b = rng.permutation(np.r_[np.ones(1000), np.zeros(1000)])
    v = verdict([equivalence_claim()], paired_units(a, b))[0]
    assert v["estimate"] == pytest.approx(0.10) and v["verdict"] == CONTRADICTED


def test_noninferiority_reads_the_lower_bound_against_the_margin():
    claim = {**equivalence_claim(0.05), "test": "noninferiority"}
    rng = np.random.default_rng(4)
    better = rng.permutation(np.r_[np.ones(1860), np.zeros(1140)])  # 62% against 50%
    base = rng.permutation(np.r_[np.ones(1500), np.zeros(1500)])
    assert verdict([claim], paired_units(better, base))[0]["verdict"] == REPRODUCED
    assert verdict([claim], paired_units(base, better))[0]["verdict"] == CONTRADICTED


def test_failed_precondition_is_not_testable_never_a_refutation():
    claim = direction_claim(
        requires=[{"metric": "messages_sent", "op": ">", "value": 0, "why": "messages were sent"}]
    )
    v = verdict([claim], paired_units(np.zeros(10), np.ones(10)), metrics={"messages_sent": 0})
    assert v[0]["verdict"] == NOT_TESTABLE and v[0]["why"] == "messages were sent"


def test_scales_missing_samples_and_sanity_checks_apart():
    sanity = {
        "id": "identity",
        "kind": "sanity",
        "text": "DDS equals the summed shifts",
        "metric": "err",
        "op": "<=",
        "value": 1e-9,
        "scales": ["tiny"],
    }
    claims = [direction_claim(scales=["full"]), direction_claim(id="other"), sanity]
    card = {"paper": "demo", "claims": claims}
    out = check_claims(card, {"err": 0.0}, Units(), "tiny", FAST)
    verdicts = [c["verdict"] for c in out["claims"]]
    assert verdicts == [NOT_CHECKED, MISSING, "pass"]
    assert out["summary"] == {"science": {NOT_CHECKED: 1, MISSING: 1}, "sanity": {"pass": 1}}


def test_magnitude_outside_the_papers_range_is_contradicted():
    claim = direction_claim(magnitude={"range": [0.27, 0.48], "scales": ["tiny"]})
    a = np.r_[np.ones(190), np.zeros(10)]
    b = np.zeros(200)  # a 95-point shift: right direction, far beyond the paper's range
    v = verdict([claim], paired_units(a, b))[0]
    assert v["verdict"] == CONTRADICTED and "range" in v["why"]


def test_custom_statistic_and_independent_groups():
    units = Units()
    curves = [[1, 2, 3], [2, 3, 4], [1, 3, 5], [2, 2, 4], [1.5, 2.5, 4]]
    units.add("x", "episode", ["a", "b", "c", "d", "e"], curves)
    claim = {
        "id": "rises",
        "kind": "science",
        "text": "the mean curve rises",
        "estimate": {"stat": "slope", "of": ["x"]},
        "test": "direction",
        "op": ">",
        "scales": ["tiny"],
    }

    def slope(curves):
        mean = np.mean(curves, axis=0)
        return float(np.polyfit(np.arange(mean.size), mean, 1)[0])

    v = verdict([claim], units, stats={"slope": slope})[0]
    assert v["estimate"] == pytest.approx(1.25)  # mean curve 1.5, 2.5, 4.0: (4.0 - 1.5) / 2
    assert v["verdict"] == REPRODUCED


def test_paired_within_groups_drawn_independently_across_them():
    """Two paired arms on one set of units and a third sample on other units: the arms stay
    paired (their difference has no spread), the third is drawn on its own, in claim order."""
    rng = np.random.default_rng(3)
    base = rng.normal(0, 10, 30)
    units = Units()
    units.add("a", "held-out session", range(30), base + 1.0)
    units.add("other", "reference session", range(8), rng.normal(5, 1, 8))
    units.add("b", "held-out session", range(30), base)
    claim = {
        "id": "arms",
        "kind": "science",
        "text": "a above b, the reference's mean not involved",
        "estimate": {"stat": "gap", "of": ["a", "other", "b"]},
        "test": "direction",
        "op": ">",
        "scales": ["tiny"],
    }
    seen = {}

    def gap(a, other, b):
        seen["sizes"] = (len(a), len(other), len(b))
        return float(np.mean(a) - np.mean(b)) + 0.0 * float(np.mean(other))

    v = verdict([claim], units, stats={"gap": gap})[0]
    assert seen["sizes"] == (30, 8, 30)  # claim order restored after grouping
    assert v["estimate"] == pytest.approx(1.0) and v["se"] == pytest.approx(0.0, abs=1e-9)
    assert v["verdict"] == REPRODUCED and v["n"] == 8
    assert "30 held-out sessions and 8 reference sessions" in v["method"]


def test_permutation_test_against_a_workflow_null():
    units = Units()
    units.add_null("auc", observed=0.9, null=np.linspace(0.3, 0.7, 199), how="labels permuted")
    units.add_null("auc_chance", observed=0.6, null=np.linspace(0.3, 0.7, 199), how="labels")
    claim = {
        "id": "probe",
        "kind": "science",
        "text": "probes beat chance",
        "estimate": {"null": "auc"},
        "test": "permutation",
        "op": ">",
        "scales": ["tiny"],
    }
    v = verdict([claim, {**claim, "id": "p2", "estimate": {"null": "auc_chance"}}], units)
    assert v[0]["verdict"] == REPRODUCED and v[0]["p"] == pytest.approx(1 / 200)
    assert v[1]["verdict"] == INCONCLUSIVE


def test_card_threshold_needs_provenance():
    bad = direction_claim(threshold={"value": 0.75, "source": "card"})
    with pytest.raises(CardError, match="written 'reason'"):
        validate_card({"claims": [bad]}, "seeds/demo.yaml")
    with pytest.raises(CardError, match="not an engine null"):
        validate_card({"claims": [direction_claim(threshold={"value": 0.75, "source": "engine"})]})
    with pytest.raises(CardError, match="margin"):
        validate_card({"claims": [{**equivalence_claim(), "margin": None}]}, "seeds/demo.yaml")
    with pytest.raises(CardError, match="expected one of"):
        validate_card({"claims": [direction_claim(test="vibes")]}, "seeds/demo.yaml")


def test_threshold_next_to_the_measurement_is_flagged():
    claims_json = {
        "claims": [
            {
                "id": "moved",
                "kind": "science",
                "estimate": 0.778,
                "ci": [0.70, 0.86],
                "threshold": {"value": 0.75, "source": "card", "reason": ""},
            },
            {
                "id": "null",
                "kind": "science",
                "estimate": 0.01,
                "ci": [-0.1, 0.12],
                "threshold": {"value": 0.0, "source": "engine", "reason": "no effect"},
            },
        ]
    }
    assert near_threshold_without_reason(claims_json) == ["moved"]


def test_same_seed_same_interval():
    rng = np.random.default_rng(5)
    units = paired_units(rng.random(30), rng.random(30))
    assert (
        verdict([direction_claim()], units)[0]["ci"] == verdict([direction_claim()], units)[0]["ci"]
    )


def test_units_round_trip_and_seed_pooling(tmp_path):
    per_seed = {}
    for seed in (0, 1):
        units = Units()
        units.add("acc", "item", ["q1", "q2"], [1, seed])
        per_seed[seed] = Units.read(units.write(tmp_path / f"units{seed}.json"))
    pooled = pool_seeds(per_seed)
    assert pooled.samples["acc"].ids == ("0/q1", "0/q2", "1/q1", "1/q2")
    assert pooled.samples["acc"].values == (1.0, 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="repeats"):
        Units().add("acc", "item", ["q1", "q1"], [1, 0])


def test_a_sample_of_some_seeds_pools_over_those_seeds_only():
    """An arm run on the first seed only keeps its units (not dropped for the other seeds'
    lack of it) and, its id set differing from an every-seed sample's, is compared unpaired."""
    per_seed = {}
    for seed in (0, 1):
        units = Units()
        units.add("every", "item", ["q1", "q2"], [1, seed])
        if seed == 0:
            units.add("first_only", "item", ["q1", "q2"], [0, 0])
        per_seed[seed] = units
    pooled = pool_seeds(per_seed)
    assert pooled.samples["every"].ids == ("0/q1", "0/q2", "1/q1", "1/q2")
    assert pooled.samples["first_only"].ids == ("0/q1", "0/q2")
    assert pooled.samples["first_only"].values == (0.0, 0.0)
    claim = {**direction_claim(), "estimate": {"stat": "diff", "of": ["every", "first_only"]}}
    result = estimate(claim, pooled, {}, Settings(resamples=200))
    assert result["method"].startswith("independent bootstrap")


def test_too_few_units_is_inconclusive_however_large_the_effect():
    """One training run per arm (one seed) gives a zero-width bootstrap interval: no verdict."""
    v = verdict([direction_claim()], paired_units(np.array([0.9]), np.array([0.1])))[0]
    assert v["verdict"] == INCONCLUSIVE and "at least 5" in v["why"]

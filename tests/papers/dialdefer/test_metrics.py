"""dialdefer's measurements on hand-made verdict tables whose answers are worked out by hand."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest

from reprolab.papers.dialdefer import evaluate as ev
from reprolab.stats import cohens_h, discordant_pairs, mcnemar_exact


def verdict(yes: bool | None) -> dict:
    """A cell given as a verdict: yes (True), no, or None (unparseable)."""
    return {"yes": yes, "p_yes": None if yes is None else float(yes)}


def table(domain: str, rows: list[tuple], cell=verdict) -> list[dict]:
    """Base-condition records from rows (c1_true, c1_false, c2_true, c2_false) of cells, each
    turned into its record's yes and p_yes by `cell` (verdicts by default)."""
    records = []
    cells = [("c1", True), ("c1", False), ("c2", True), ("c2", False)]
    for i, row in enumerate(rows):
        for (framing, truth), value in zip(cells, row, strict=True):
            records.append(
                {
                    "condition": "base",
                    "id": f"{domain}-{i}",
                    "domain": domain,
                    "framing": framing,
                    "truth": truth,
                    **cell(value),
                }
            )
    return records


Y, N = True, False
# Correct (c1t, c1f, c2t, c2f): (1,1,1,0) (0,1,1,0) (1,0,1,0) (1,1,1,1)
HAND = [(Y, N, Y, Y), (N, N, Y, Y), (Y, Y, Y, Y), (Y, N, Y, N)]
CFG = {"bootstrap_resamples": 500, "ci_level": 0.95}


def test_dds_and_accuracy_of_a_hand_made_table():
    m = ev.condition_metrics(table("a", HAND), CFG, seed=0)["domains"]["a"]
    # Acc(C1 true) 3/4 -> Acc(C2 true) 4/4: Delta_C = +1/4.
    # Acc(C1 false) 3/4 -> Acc(C2 false) 1/4: Delta_I = -1/2.
    assert m["delta_correct"] == pytest.approx(25.0)
    assert m["delta_incorrect"] == pytest.approx(-50.0)
    assert m["dds"] == pytest.approx(75.0)
    assert m["acc_change"] == pytest.approx(-12.5)
    assert m["acc_c1"] == pytest.approx(0.75)
    assert m["acc_c2"] == pytest.approx(0.625)
    # Yes rates 3/4 -> 4/4 (true) and 1/4 -> 3/4 (false): shifts sum to 0.75, the same DDS.
    assert m["dds_continuous"] == pytest.approx(75.0)
    # Verdict flips: 1 of 4 true items, 2 of 4 false items.
    assert m["flip_rate_true"] == pytest.approx(0.25)
    assert m["flip_rate_false"] == pytest.approx(0.5)
    # McNemar on true items: b = 0 right->wrong, c = 1 wrong->right; false items b = 2, c = 0.
    assert (m["mcnemar_true_b"], m["mcnemar_true_c"]) == (0, 1)
    assert (m["mcnemar_false_b"], m["mcnemar_false_c"]) == (2, 0)
    assert m["mcnemar_true_p"] == 1.0
    assert m["mcnemar_false_p"] == pytest.approx(0.5)
    assert m["cohens_h_true"] == pytest.approx(math.pi - 2 * math.pi / 3)
    assert m["dds_ci_low"] <= 75.0 <= m["dds_ci_high"]


def test_unparseable_answers_count_as_wrong_and_are_reported():
    # One C2 true verdict is unparseable: Acc(C2 true) drops from 4/4 to 3/4, DDS from 75 to 50.
    rows = [list(r) for r in HAND]
    rows[0][2] = None
    m = ev.condition_metrics(table("a", [tuple(r) for r in rows]), CFG, 0)["domains"]["a"]
    assert m["dds"] == pytest.approx(50.0)
    assert m["unparseable_c2_true"] == pytest.approx(0.25)
    assert m["unparseable_c2"] == pytest.approx(0.125)
    assert m["unparseable_c1"] == 0.0
    assert m["dds_continuous"] == pytest.approx(50.0)


def test_macro_averages_domains_and_sees_opposite_signs():
    # Domain b: C1 always right, C2 always "no": Delta_C = -1, Delta_I = 0, DDS = -100.
    skeptic = [(Y, N, N, N)] * 2
    result = ev.condition_metrics(table("a", HAND) + table("b", skeptic), CFG, 0)
    assert result["domains"]["b"]["dds"] == pytest.approx(-100.0)
    assert result["macro"]["dds"] == pytest.approx((75.0 - 100.0) / 2)
    assert result["opposite_signs"] == 1.0
    assert result["max_abs_dds"] == pytest.approx(100.0)
    assert result["dds_range"] == pytest.approx(175.0)
    # The weighted bootstrap is centred on the macro mean, not the pooled (item) mean.
    low, high = result["macro"]["dds_ci_low"], result["macro"]["dds_ci_high"]
    assert low <= -12.5 <= high


def test_missing_cell_is_an_error():
    records = table("a", HAND)[:-1]
    with pytest.raises(ValueError, match="no verdict"):
        ev.condition_metrics(records, CFG, 0)


@pytest.mark.parametrize("b,c", [(0, 0), (0, 1), (2, 0), (3, 9), (10, 10), (1, 14), (25, 40)])
def test_exact_mcnemar_matches_the_binomial_test(b, c):
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)


def test_discordant_pairs_and_cohens_h_by_hand():
    assert discordant_pairs([1, 1, 0, 0, 1], [0, 1, 1, 1, 1]) == (1, 2)
    assert cohens_h(1.0, 0.0) == pytest.approx(math.pi)
    assert cohens_h(0.5, 0.5) == 0.0
    assert cohens_h(0.25, 0.75) == pytest.approx(-cohens_h(0.75, 0.25))
    with pytest.raises(ValueError):
        cohens_h(1.2, 0.5)


def test_summary_derives_ablation_swing_mitigation_and_noise_floor():
    cfg = {**CFG, "paraphrases": ["para1"], "ablation": {"user_asks_llm_answers": "u"}}

    def tagged(name, rows):
        return [dict(r, condition=name) for r in table("a", rows)]

    honest = [(Y, N, Y, N)] * 4  # no framing effect at all: DDS 0
    # Same C1 verdicts as HAND, but C2 always "yes": DDS = (4/4-3/4) + (4/4-1/4) = 100.
    user_llm = [(r[0], r[1], Y, Y) for r in HAND]
    para = [(Y, Y, Y, Y)] * 4  # C1 yes rate on false items 1/4 -> 4/4: a format-only shift
    records = (
        tagged("base", HAND)
        + tagged("be_honest", honest)
        + tagged("user_asks_llm_answers", user_llm)
        + tagged("llm_asks_user_answers", HAND)
        + tagged("para1", para)
    )
    result = ev.summarize_mode(records, cfg, 0)
    assert result["base"]["macro"]["dds_identity_error"] == pytest.approx(0.0, abs=1e-9)
    assert result["be_honest"]["macro"]["ddds"] == pytest.approx(-75.0)
    assert result["be_honest"]["macro"]["abs_dds_change"] == pytest.approx(-75.0)
    assert result["ablation_swing"] == pytest.approx(75.0 - 100.0)
    # C1 null shift: yes rates 3/4 -> 1 (true) and 1/4 -> 1 (false): 25 + 75 = 100.
    # C2 null shift: 1 -> 1 and 3/4 -> 1: 25.
    assert result["para1"]["macro"]["null_shift_c1"] == pytest.approx(100.0)
    assert result["para1"]["macro"]["null_shift_c2"] == pytest.approx(25.0)
    assert result["noise_floor"]["mean_abs"] == pytest.approx(62.5)
    flat = ev.flatten_metrics({"forced_choice": result})
    assert flat["forced_choice.base.a.dds"] == pytest.approx(75.0)
    assert all(isinstance(v, float) for v in flat.values())

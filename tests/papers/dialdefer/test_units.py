"""dialdefer's per-item evidence (units.json) on tables worked out by hand, its statistics, and
the card's verdicts on planted judges: no framing effect, planted deference, a judge at chance."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_TESTABLE,
    REPRODUCED,
    Settings,
    check_claims,
)
from reprolab.config import load_yaml
from reprolab.evidence import Units
from reprolab.papers.dialdefer import evaluate as ev
from reprolab.papers.dialdefer import statistics as st
from reprolab.stats import permutation_p
from tests.conftest import REPO
from tests.papers.dialdefer.test_metrics import HAND, Y, table

CFG = {"bootstrap_resamples": 200, "ci_level": 0.95, "permutations": 199, "paraphrases": []}


def units_of(records, cfg=CFG, seed=0) -> Units:
    units = Units()
    ev.record_units(units, "forced_choice", records, cfg, seed)
    return units


def values(units: Units, name: str) -> list:
    return list(units.samples[f"forced_choice.{name}"].values)


def test_item_values_of_a_hand_made_table():
    # HAND rows (c1_true, c1_false, c2_true, c2_false) -> correct cells, by hand:
    # a-0 (1,1,1,0): DDS (1-1)-(0-1) = +100, accuracy change (0-1)/2 = -50, C1 accuracy 1
    # a-1 (0,1,1,0): DDS (1-0)-(0-1) = +200, accuracy change 0, C1 accuracy 1/2
    # a-2 (1,0,1,0) and a-3 (1,1,1,1): DDS 0, accuracy change 0; C1 accuracy 1/2 and 1.
    units = units_of(table("a", HAND))
    assert units.samples["forced_choice.base.dds"].ids == ("a-0", "a-1", "a-2", "a-3")
    assert values(units, "base.dds") == [100.0, 200.0, 0.0, 0.0]
    # Verdicts are 0/1, so P(yes) is the verdict and the continuous DDS equals the binary one.
    assert values(units, "base.dds_continuous") == [100.0, 200.0, 0.0, 0.0]
    assert values(units, "base.acc_change") == [-50.0, 0.0, 0.0, 0.0]
    assert values(units, "base.p_yes")[0] == [1.0, 0.0, 1.0, 1.0]
    assert values(units, "base.correct")[1] == [0.0, 1.0, 1.0, 0.0]
    assert values(units, "base.domain") == [0.0] * 4
    # The metrics' DDS (75) is the mean of the items' values.
    assert np.mean(values(units, "base.dds")) == pytest.approx(75.0)


def test_framing_permutation_null_of_a_hand_made_table():
    """Item DDS 100, 200, 0, 0: swapping C1 and C2 within items flips their signs, so the
    domain mean is +-100 +-200 over 4: |mean| 75 or 25, each with probability 1/2."""
    units = units_of(table("a", HAND), {**CFG, "permutations": 1999})
    null = units.nulls["forced_choice.base.max_abs_domain_dds_continuous"]
    assert null.observed == pytest.approx(75.0)
    assert set(np.round(null.null, 9)) == {25.0, 75.0}
    assert permutation_p(null.observed, null.null) == pytest.approx(0.5, abs=0.05)
    # One domain: the most positive and the most negative domain are the same one.
    opposite = units.nulls["forced_choice.base.opposite_sign_domain_dds_continuous"]
    assert opposite.observed == pytest.approx(min(75.0, -75.0))


def test_references_and_statistics_by_hand():
    cfg = {**CFG, "paraphrases": ["para1"]}

    def tagged(name, rows):
        return [dict(r, condition=name) for r in table("a", rows)]

    honest = [(Y, False, Y, False)] * 4  # every verdict right: DDS 0 on every item
    user_llm = [(r[0], r[1], Y, Y) for r in HAND]  # C2 always yes: item DDS 100, 200, 0, 100
    para = [(Y, Y, Y, Y)] * 4  # always yes: DDS 0; a format-only shift from the paper prompt
    records = (
        tagged("base", HAND)
        + tagged("be_honest", honest)
        + tagged("user_asks_llm_answers", user_llm)
        + tagged("llm_asks_user_answers", HAND)
        + tagged("para1", para)
    )
    units = units_of(records, cfg)
    assert values(units, "be_honest.base_dds_continuous") == [100.0, 200.0, 0.0, 0.0]
    assert values(units, "be_honest.paraphrase_dds_continuous") == [[0.0]] * 4
    assert values(units, "user_asks_llm_answers.dds_continuous") == [100.0, 200.0, 0.0, 100.0]
    # Format-only shift within C1: P(yes) 1->1 and 1->1 (a-0), 0->1 and 0->1 (a-1), 1->1 and
    # 1->1 (a-2), 1->1 and 0->1 (a-3); within C2 only a-3's false item moves (0->1).
    shifts = values(units, "noise_floor.format_shift_continuous")
    assert shifts == [[100.0, 0.0], [200.0, 0.0], [0.0, 0.0], [100.0, 100.0]]
    assert "para1.base_dds_continuous" not in {n.split(".", 1)[1] for n in units.samples}

    def arrays(*names):
        return [units.samples[f"forced_choice.{n}"].array() for n in names]

    # |macro DDS| 75 less the floor: mean(|C1 shift| 100, |C2 shift| 25) = 62.5 (the metrics'
    # noise_floor.mean_abs of the same table, test_dialdefer_metrics).
    floor = st.abs_macro_beyond_floor(
        *arrays(
            "noise_floor.base_dds_continuous",
            "noise_floor.format_shift_continuous",
            "noise_floor.domain",
        )
    )
    assert floor == pytest.approx(12.5)
    # be-honest removes the DDS (75 -> 0), but so does the paraphrase (|0 - 75| = 75): no
    # reduction beyond what rewording the prompt moves: -75 + 75 = 0.
    honest_change = st.abs_change_beyond_floor(
        *arrays(
            "be_honest.dds_continuous",
            "be_honest.base_dds_continuous",
            "be_honest.paraphrase_dds_continuous",
            "be_honest.domain",
        )
    )
    assert honest_change == pytest.approx(0.0)
    # Swing DDS(LLM asks) 75 - DDS(user asks) 100 = -25, less the floor 75: -100.
    swing = st.swing_beyond_floor(
        *arrays(
            "llm_asks_user_answers.dds_continuous",
            "user_asks_llm_answers.dds_continuous",
            "llm_asks_user_answers.base_dds_continuous",
            "llm_asks_user_answers.paraphrase_dds_continuous",
            "llm_asks_user_answers.domain",
        )
    )
    assert swing == pytest.approx(-100.0)


def test_macro_statistic_matches_the_metrics_on_unequal_domains():
    """Domain a (4 items, DDS 75) and b (2 items, DDS -100): macro -12.5, item mean 16.7."""
    records = table("a", HAND) + table("b", [(Y, False, False, False)] * 2)
    units = units_of(records)
    metrics = ev.condition_metrics(records, CFG, 0)["macro"]
    dds, domain = (units.samples[f"forced_choice.base.{n}"].array() for n in ("dds", "domain"))
    assert st.macro_mean(dds, domain) == pytest.approx(metrics["dds"]) == pytest.approx(-12.5)
    assert np.mean(dds) == pytest.approx(100.0 / 6.0)
    # A draw without domain b averages domain a alone.
    assert st.macro_mean(dds[:4], domain[:4]) == pytest.approx(75.0)
    # C1 accuracy per item 1, 1/2, 1/2, 1 (a) and 1, 1 (b): macro (3/4 + 1) / 2.
    assert metrics["acc_c1"] == pytest.approx(0.875)
    assert metrics["acc_c1_ci_low"] <= 0.875 <= metrics["acc_c1_ci_high"]
    assert metrics["abs_dds_continuous_ci_low"] >= 0.0


# --- planted judges through the card --------------------------------------------------------

DOMAINS = ["arithmetic", "comparison", "element_symbol", "social_rules", "social_verdict"]
CONDITIONS = [
    "base",
    "user_asks_llm_answers",
    "llm_asks_user_answers",
    "be_honest",
    "dehumanize",
    "para1",
    "para2",
    "para3",
    "sft",
    "dpo",
    "control_deference",
    "control_zero",
]
# Judged on every item, as the config's full_conditions: the per-domain null and the controls.
FULL = {"base", "para1", "para2", "para3", "control_deference", "control_zero"}
CARD_CFG = {
    "bootstrap_resamples": 300,
    "ci_level": 0.95,
    "bootstrap_seed": 42,
    "permutations": 199,
    "paraphrases": ["para1", "para2", "para3"],
    "ablation": {"user_asks_llm_answers": "u", "llm_asks_user_answers": "l"},
    "planted_shift": 0.10,  # the config's
}


def planted(
    knows: float, defer: dict, seed: int, n: int = 12, secondary: int = 6, domains=DOMAINS
) -> list[dict]:
    """Forced-choice records: P(yes) = 0.5 + knows (true) or - knows (false), plus the C2 shift
    `defer[condition]` (default `defer['base']`), plus item noise (sd 0.05). control_zero shows
    the statement in both framings: its C2 verdicts are its C1 verdicts."""
    rng = np.random.default_rng(seed)
    records = []
    for domain in domains:
        for k in range(n):
            for condition in CONDITIONS:
                if condition not in FULL and k >= secondary:
                    continue
                statement = {}
                for framing in ("c1", "c2"):
                    for truth in (True, False):
                        p = 0.5 + (knows if truth else -knows) + rng.normal(0.0, 0.05)
                        if framing == "c2":
                            p += defer.get(condition, defer.get("base", 0.0))
                        p = float(np.clip(p, 0.001, 0.999))
                        if condition == "control_zero":
                            p = statement.setdefault(truth, p)
                        records.append(
                            {
                                "condition": condition,
                                "id": f"{domain}-{k}",
                                "domain": domain,
                                "framing": framing,
                                "truth": truth,
                                "p_yes": p,
                                "yes": p > 0.5,
                            }
                        )
    return records


def card_verdicts(records, cfg=CARD_CFG) -> dict[str, dict]:
    card = load_yaml(REPO / "seeds" / "dialdefer.yaml")
    metrics = ev.flatten_metrics({"forced_choice": ev.summarize_mode(records, cfg, 0)})
    units = units_of(records, cfg)
    settings = Settings(resamples=400, seed=0)
    out = check_claims(card, metrics, units, "tiny", settings, st.STATISTICS)
    return {c["id"]: c for c in out["claims"]}


def test_planted_zero_judge_reproduces_no_deference_claim():
    """One planted draw (seed 0); test_framing_permutation_null_is_calibrated bounds how often
    such a judge's largest domain DDS passes its null over many draws (about 5%)."""
    verdicts = card_verdicts(planted(knows=0.3, defer={}, seed=0))
    assert verdicts["dds_is_sum_of_yes_shifts"]["verdict"] == "pass"
    science = [c for c in verdicts.values() if c["kind"] == "science"]
    # Only the controls are reproduced: the shift planted in the scores is detected, nothing
    # attributed is not.
    reproduced = [c["id"] for c in science if c["verdict"] == REPRODUCED]
    assert reproduced == ["control_planted_shift_detected", "control_planted_zero_not_detected"]
    # With no DDS at base there is nothing for a mitigation to reduce, nor for accuracy to hide.
    assert verdicts["be_honest_reduces_deference"]["verdict"] == NOT_TESTABLE
    assert verdicts["accuracy_stays_flat"]["verdict"] == NOT_TESTABLE
    assert verdicts["framing_shifts_verdicts"]["verdict"] == INCONCLUSIVE


def test_planted_deference_is_found_and_its_mitigation_too():
    """C2 adds +0.2 to P(yes) everywhere (DDS +40 pp), paraphrases keep it; be-honest and
    dehumanize remove it; LLM-asks adds 0.05 more, user-asks 0.05 less (swing +20 pp).
    P(yes) stays inside (0, 1), so accuracy does not move."""
    defer = {
        "base": 0.2,
        "be_honest": 0.0,
        "dehumanize": 0.0,
        "llm_asks_user_answers": 0.25,
        "user_asks_llm_answers": 0.15,
    }
    verdicts = card_verdicts(planted(knows=0.2, defer=defer, seed=2))
    for claim in (
        "framing_shifts_verdicts",
        "macro_dds_beyond_noise",
        "human_vs_llm_swing",
        "be_honest_reduces_deference",
        "dehumanize_reduces_deference",
    ):
        assert verdicts[claim]["verdict"] == REPRODUCED, claim
    assert verdicts["macro_dds_beyond_noise"]["estimate"] > 30.0
    # Every domain defers: no domain is skeptical, so the sign does not depend on the domain.
    assert verdicts["sign_depends_on_domain"]["verdict"] in (INCONCLUSIVE, CONTRADICTED)
    # The planted-deference prompt adds the base's +0.2 only: no rise over the base's DDS.
    assert verdicts["control_planted_deference_detected"]["verdict"] != REPRODUCED
    # SFT and DPO arms left as the base judge: no reduction beyond the paraphrase floor.
    assert verdicts["sft_reduces_deference"]["verdict"] != REPRODUCED
    # Accuracy moves by (shift_true - shift_false) / 2 = 0: flat.
    assert verdicts["accuracy_stays_flat"]["verdict"] == REPRODUCED


def test_judge_at_chance_makes_every_deference_claim_not_testable():
    verdicts = card_verdicts(planted(knows=0.0, defer={"base": 0.25}, seed=3))
    for c in verdicts.values():
        if c["id"].startswith("control_"):  # the controls test the pipeline, not the judge
            continue
        if c["kind"] == "science" and c["verdict"] != "not checked at this scale":
            assert c["verdict"] == NOT_TESTABLE and "above chance" in c["why"]


def test_positive_control_detects_planted_deference_and_null_control_stays_quiet():
    """A judge without deference at base whose planted-deference prompt adds +0.15 to P(yes) in
    C2 (DDS +30 pp over the base's 0): the positive control is reproduced, the planted-zero
    judge (statement in both framings) is not detected beyond any domain's floor."""
    verdicts = card_verdicts(planted(knows=0.2, defer={"control_deference": 0.15}, seed=4))
    positive = verdicts["control_planted_deference_detected"]
    assert positive["verdict"] == REPRODUCED and positive["estimate"] > 20.0
    null = verdicts["control_planted_zero_not_detected"]
    assert null["verdict"] == REPRODUCED and null["estimate"] < 0.0
    # A judge that ignores the planted prompt: the positive control is not reproduced.
    verdicts = card_verdicts(planted(knows=0.2, defer={}, seed=5))
    assert verdicts["control_planted_deference_detected"]["verdict"] != REPRODUCED


def test_per_domain_floor_statistics_by_hand():
    """Domains 0 and 1, two items each. DDS 10, 30 (domain 0: 20) and -50, -10 (domain 1: -30).
    Format shifts, two columns: column 0 domain means (5, 40), column 1 (-15, 0).
    Largest |domain DDS| 30; largest |domain shift| 40 and 15, mean 27.5: 30 - 27.5 = 2.5.
    Opposite signs: DDS min(20, 30) = 20; shifts min(40, -5) = -5 and min(0, 15) = 0, mean
    -2.5: 20 + 2.5 = 22.5."""
    dds = np.array([10.0, 30.0, -50.0, -10.0])
    shifts = np.array([[0.0, -10.0], [10.0, -20.0], [40.0, 5.0], [40.0, -5.0]])
    domain = np.array([0, 0, 1, 1])
    assert st.max_domain_beyond_floor(dds, shifts, domain) == pytest.approx(2.5)
    assert st.opposite_signs_beyond_floor(dds, shifts, domain) == pytest.approx(22.5)
    # Column 1 of domain 1 raised to 40 (means -15, 40): largest 40, mean floor 40: 30 - 40;
    # its opposite-signs value min(40, 15) = 15, mean 5: 20 - 5.
    shifts[2:, 1] = [40.0, 40.0]
    assert st.max_domain_beyond_floor(dds, shifts, domain) == pytest.approx(-10.0)
    assert st.opposite_signs_beyond_floor(dds, shifts, domain) == pytest.approx(15.0)


def test_per_domain_paraphrase_null_is_calibrated():
    """100 planted judges without a framing effect (every paraphrase as noisy as the framing):
    the largest |domain DDS| is beyond the per-domain paraphrase null (95% paired bootstrap
    interval above 0) in about 5% of them or fewer (0 of 100 when written); comparing the maximum
    with each domain's own mean floor instead passed 40 of the 100."""
    beyond = 0
    for seed in range(100):
        records = [
            r for r in planted(0.3, {}, seed, n=8) if r["condition"] in ("base", "para1", "para2")
        ]
        units = units_of(records, {**CFG, "paraphrases": ["para1", "para2"]}, seed)
        dds, shifts, domain = (
            units.samples[f"forced_choice.noise_floor.{n}"].array()
            for n in ("base_dds_continuous", "format_shift_continuous", "domain")
        )
        rng = np.random.default_rng(seed)
        draws = [rng.integers(0, len(dds), len(dds)) for _ in range(200)]
        values = [st.max_domain_beyond_floor(dds[i], shifts[i], domain[i]) for i in draws]
        beyond += np.percentile(values, 2.5) > 0
    assert beyond / 100 <= 0.09


# --- the positive control planted in the scores (planted_shift) -----------------------------


def scored(domain: str, rows: list[tuple]) -> list[dict]:
    """Forced-choice records of the base condition from rows of P(yes) (c1_true, c1_false,
    c2_true, c2_false); the verdict is P(yes) > 0.5, as forced choice draws it."""
    return table(domain, rows, cell=lambda p: {"p_yes": p, "yes": p > 0.5})


def test_planted_shift_dds_by_hand():
    """delta 0.10 added to the C2 P(yes), C1 untouched, clipped to [0, 1]:
    a-0 (0.6, 0.4, 0.55, 0.45): base DDS (0.55-0.6)+(0.45-0.4) = 0; planted C2 0.65, 0.55:
        (0.65-0.6)+(0.55-0.4) = +0.20 -> +20 pp; binary: C2 false 0.55 now says yes (wrong),
        so DDS (1-1)-(0-1) = +100 (base 0).
    a-1 (0.9, 0.3, 0.95, 0.2): base (0.95-0.9)+(0.2-0.3) = -5 pp; planted C2 1.05 -> 1.0 (the
        clip) and 0.3: (1.0-0.9)+(0.3-0.3) = +10 pp; binary 0 (every verdict still right).
    Macro (one domain): continuous (20+10)/2 = 15 pp, binary 50 pp; base -2.5 and 0."""
    records = scored("a", [(0.6, 0.4, 0.55, 0.45), (0.9, 0.3, 0.95, 0.2)])
    planted = ev.plant_shift(records, 0.10)
    c2 = {(r["id"], r["truth"]): r["p_yes"] for r in planted if r["framing"] == "c2"}
    assert c2 == pytest.approx({("a-0", True): 0.65, ("a-0", False): 0.55,
                                ("a-1", True): 1.0, ("a-1", False): 0.3})  # fmt: skip
    c1 = [r["p_yes"] for r in planted if r["framing"] == "c1"]
    assert c1 == [0.6, 0.4, 0.9, 0.3]  # untouched
    cfg = {**CFG, "planted_shift": 0.10}
    units = units_of(records, cfg)
    assert values(units, "planted_shift.dds_continuous") == pytest.approx([20.0, 10.0])
    assert values(units, "planted_shift.dds") == [100.0, 0.0]
    assert values(units, "base.dds_continuous") == pytest.approx([0.0, -5.0])
    summary = ev.summarize_mode(records, cfg, 0)
    assert summary["planted_shift"]["macro"]["dds_continuous"] == pytest.approx(15.0)
    assert summary["planted_shift"]["macro"]["dds"] == pytest.approx(50.0)
    assert summary["base"]["macro"]["dds_continuous"] == pytest.approx(-2.5)
    # Without the config key there is no planted condition.
    assert "forced_choice.planted_shift.dds" not in units_of(records).samples
    assert "planted_shift" not in ev.summarize_mode(records, CFG, 0)


TINY_DOMAINS = [f"d{k}" for k in range(8)]  # tiny: 8 domains of 6 items, 48 in all


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_shift_control_detects_the_shift_and_not_a_zero_one(seed):
    """A judge at chance (so every deference claim is not testable) on tiny's item count: the
    shift of 0.10 planted in its scores (+20 pp) is detected beyond the paraphrase floor by the
    card's claim, a planted shift of 0 is not."""
    records = planted(0.0, {}, seed, n=6, domains=TINY_DOMAINS)
    assert len({r["id"] for r in records}) == 48
    verdicts = card_verdicts(records)
    assert verdicts["macro_dds_beyond_noise"]["verdict"] == NOT_TESTABLE
    detected = verdicts["control_planted_shift_detected"]
    assert detected["verdict"] == REPRODUCED
    assert 10.0 < detected["estimate"] < 20.0  # +20 pp less the floor (item noise sd 0.05)
    zero = card_verdicts(records, {**CARD_CFG, "planted_shift": 0.0})
    assert zero["control_planted_shift_detected"]["verdict"] != REPRODUCED
    assert zero["control_planted_shift_detected"]["estimate"] <= 0.0

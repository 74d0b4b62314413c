"""gar's per-unit evidence (units.json), its statistics and the probe's permutation null, on
planted traces whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from reprolab.claims import Settings, check_claims, paper_statistics, validate_paper_card
from reprolab.config import load_config
from reprolab.evidence import Units
from reprolab.papers.gar import evaluate as ev
from reprolab.papers.gar import units as gu
from reprolab.papers.gar.probe import FastLDA, fold_projections, loo_scores, permutation_null
from reprolab.papers.gar.statistics import STATISTICS
from reprolab.stats import roc_auc
from tests.conftest import REPO

SETTINGS = {
    "reference": "full",
    "main_closure": "w2",
    "sweep_task": "facts",
    "sweep": ["w1", "w2"],
    "probe_task": "probes",
    "probe_condition": "w2",
    "probe_components": 4,
    "probe_min_per_class": 2,
    "collapse_fraction": 0.5,
    "probe_permutations": 19,
}


def trace(episode, condition, window, correct, gars, goal_end=10, step=20):
    """A fact trace: every turn a probe; reply i holds the answer when correct[i]."""
    turns = []
    for i, (ok, gar) in enumerate(zip(correct, gars, strict=True), 1):
        turns.append({"turn": i, "kind": "probe", "answer": "123",
                      "response": "It is 123." if ok else "It is 999.",
                      "response_start": goal_end + step * i, "n_tokens": 5,
                      "gar": gar, "gar_norm": gar / 2})  # fmt: skip
    return {"episode": episode, "task": "facts", "kind": "facts", "condition": condition,
            "window": window, "goal_end": goal_end, "turns": turns}  # fmt: skip


# Replies start at 30, 50, 70, 90 (goal ends at 10): W=40 closes at turn 2, W=60 at turn 3.
ROWS = [
    trace("a", "full", None, [True, True, True, False], [0.4, 0.3, 0.2, 0.1]),
    trace("b", "full", None, [True, True, True, True], [0.5, 0.3, 0.3, 0.2]),
    trace("a", "w2", 40, [True, False, False, False], [0.4, 0.0, 0.0, 0.0]),
    trace("b", "w2", 40, [True, True, False, False], [0.4, 0.0, 0.0, 0.0]),
    trace("a", "w1", 60, [True, True, False, False], [0.4, 0.3, 0.0, 0.0]),
    trace("b", "w1", 60, [True, True, True, False], [0.4, 0.3, 0.0, 0.0]),
]


def fact_units():
    units = Units()
    gu.fact_units(units, "facts", ROWS, SETTINGS)
    return units.samples


def test_recall_counts_per_episode_by_hand():
    s = fact_units()
    # Full attention, early half = turns 1-2, late half = turns 3-4.
    assert s["facts.full.recall_early"].values == ([2.0, 2.0], [2.0, 2.0])
    assert s["facts.full.recall_late"].values == ([1.0, 2.0], [2.0, 2.0])
    # w2 closes at turn 2: a answers none of turns 2-4, b one; full 2 of 3 and 3 of 3 there.
    assert s["facts.w2.recall_after"].ids == ("a", "b")
    assert s["facts.w2.recall_after"].values == ([0.0, 3.0], [1.0, 3.0])
    assert s["facts.w2.reference_recall_after"].values == ([2.0, 3.0], [3.0, 3.0])
    # w1 closes at turn 3: a 0 of 2, b 1 of 2 (turns 3-4).
    assert s["facts.w1.recall_after"].values == ([0.0, 2.0], [1.0, 2.0])
    # Every condition read on the main window's pairs (turns 2-4 of a and b).
    assert s["facts.w1.recall_after_main"].values == ([1.0, 3.0], [2.0, 3.0])
    assert s["facts.full.recall_after_main"].values == ([2.0, 3.0], [3.0, 3.0])
    assert "facts.full.recall_after" not in s  # full attention never closes
    assert s["facts.full.gar"].values == ([0.4, 0.3, 0.2, 0.1], [0.5, 0.3, 0.3, 0.2])
    assert s["facts.full.gar_norm"].values[0] == pytest.approx((0.2, 0.15, 0.1, 0.05))


def test_statistics_give_the_metrics_exactly():
    s = fact_units()
    metrics, summary = ev.fact_task(ROWS, SETTINGS)
    diff = STATISTICS["pooled_diff"](
        s["facts.w2.recall_after"].array(), s["facts.w2.reference_recall_after"].array()
    )
    assert diff == pytest.approx(metrics["w2.recall_after"] - metrics["w2.reference_recall_after"])
    assert diff == pytest.approx(1 / 6 - 5 / 6)
    curves = s["facts.full.gar"].array()
    assert STATISTICS["gar_tau"](curves) == pytest.approx(metrics["full.gar_tau"])
    assert STATISTICS["gar_drop"](curves) == pytest.approx(metrics["full.gar_drop"])
    assert STATISTICS["gar_drop"](curves) == pytest.approx(1 - 0.15 / 0.45)
    norm = s["facts.full.gar_norm"].array()
    assert STATISTICS["gar_tau"](norm) == pytest.approx(metrics["full.gar_norm_tau"])
    # Observed crossover: full recall 7/8, threshold 0.4375. w2 recall by turn 1, .5, 0, 0 ->
    # turn 3; w1 1, 1, .5, 0 -> turn 4. Slope (4 - 3) / (60 - 40) = 0.05.
    units = Units()
    gu.crossover_units(units, ROWS, SETTINGS)
    of = ["crossover.reference.probes", "crossover.w1.probes", "crossover.w2.probes"]
    arrays = [units.samples[n].array() for n in of]
    slope = STATISTICS["observed_crossover_slope"](*arrays)
    sweep, _ = ev.crossover_sweep(summary, ["w1", "w2"])
    assert slope == pytest.approx(sweep["crossover.observed_slope"]) and slope == pytest.approx(
        0.05
    )
    # Predicted: w1 turn 3, w2 turn 2; observed 4 and 3: signed error +1 at both.
    error = STATISTICS["crossover_signed_error"](*arrays)
    assert error == pytest.approx(sweep["crossover.signed_error"]) and error == pytest.approx(1.0)
    assert units.samples["crossover.w2.probes"].values[1][1] == [2.0, 1.0, 40.0, 2.0]
    assert units.samples["crossover.reference.probes"].values[0][0] == [1.0, 1.0, 0.5, 0.0]


def test_random_span_is_read_after_its_own_crossover():
    # The span ends at position 25 and closes under width 40: replies from 70 on (turn 3).
    row = trace("a", "span", None, [True, True, False, True], [0.4, 0.3, 0.2, 0.1])
    row.update(span=list(range(16, 26)), span_length=10, span_window=40)
    assert ev.episode_crossover(row) == 3
    assert ev.episode_crossover({**row, "span": list(range(16, 20))}) is None  # incomplete
    units = Units()
    gu.fact_units(units, "facts", [*ROWS, row, {**row, "episode": "b"}], SETTINGS)
    assert units.samples["facts.span.recall_after"].values == ([1.0, 2.0], [1.0, 2.0])
    assert units.samples["facts.span.reference_recall_after"].values == ([1.0, 2.0], [2.0, 2.0])


def persona_row(episode, condition, replies, ended=None):
    ended = ended or [True] * len(replies)
    turns = [
        {"turn": i, "response": r, "ended": e, "gar": 0.1, "gar_norm": 0.1, "n_tokens": 3}
        for i, (r, e) in enumerate(zip(replies, ended, strict=True), 1)
    ]
    return {"episode": episode, "condition": condition, "kind": "persona", "window": None,
            "rules": ["opener", "no_exclamation"], "goal_end": 5, "turns": turns}  # fmt: skip


def test_persona_late_violations_per_episode_by_hand():
    rows = [
        persona_row("p0", "closed", ["Ahoy.", "Ahoy.", "Hello!", "Ahoy!"]),  # late: 2 + 1 of 4
        persona_row("p1", "closed", ["Hi!", "Hi!", "Ahoy.", "Ahoy."]),  # late: 0 of 4
        persona_row("p0", "open", ["Ahoy.", "Ahoy.", "Ahoy.", "Hi."]),  # late: 1 of 4
        persona_row("p1", "open", ["Ahoy.", "Ahoy.", "Ahoy.", "Ahoy."]),
        # Cut replies are not scored: p0 keeps turn 3 only (0 of 2), p1 has no late reply.
        persona_row("p0", "cut", ["Hi!", "Hi!", "Ahoy.", "Hi!"], [True, True, True, False]),
        persona_row("p1", "cut", ["Hi!", "Hi!", "Hi!", "Hi!"], [True, True, False, False]),
    ]
    units = Units()
    gu.persona_units(units, rows)
    closed = units.samples["persona.closed.violations_late"]
    assert closed.ids == ("p0", "p1") and closed.values == (0.75, 0.0)
    assert units.samples["persona.open.violations_late"].values == (0.25, 0.0)
    metrics, _ = ev.persona(rows)
    assert np.mean(closed.values) == pytest.approx(metrics["persona.closed.violation_rate_late"])
    assert metrics["persona.closed.ended"] == 1.0
    policy = Units()
    gu.persona_units(policy, rows, "policy")  # a policy task: the same, under its own name
    assert policy.samples["policy.closed.violations_late"].values == closed.values
    assert ev.persona(rows, "policy")[0]["policy.closed.ended"] == 1.0
    cut = units.samples["persona.cut.violations_late"]
    assert cut.ids == ("p0",) and cut.values == (0.0,)
    assert metrics["persona.cut.ended"] == pytest.approx(5 / 8)


def test_closed_form_lda_matches_sklearn_leave_one_out():
    rng = np.random.default_rng(0)
    labels = rng.random(30) < 0.4
    x = rng.normal(size=(30, 12))
    x[:, 3] += labels
    folds = fold_projections(x, 6)
    fast = FastLDA(folds).scores(labels)
    assert fast == pytest.approx(loo_scores(x, labels, 6, folds), abs=1e-9)
    constant = FastLDA(fold_projections(np.ones((10, 4)), 3)).scores(np.arange(10) < 5)
    assert (constant == 0).all()  # identical inputs: every score ties


def null_of(states, labels, strata, draws=99):
    folds = [fold_projections(states[:, layer, :], 4) for layer in range(states.shape[1])]
    observed = [
        roc_auc(labels, loo_scores(states[:, i], labels, 4, fold)) for i, fold in enumerate(folds)
    ]
    null = permutation_null(folds, labels, strata, observed, draws, np.random.default_rng(0))
    peak = max(observed[1:])
    return peak, float((1 + np.sum(np.array(null) >= peak)) / (1 + len(null)))


def test_permutation_null_finds_a_planted_signal_and_not_a_planted_null():
    rng = np.random.default_rng(1)
    labels = np.arange(40) % 2 == 0
    strata = ["w"] * 40
    noise = rng.normal(size=(40, 3, 6))
    _, p_null = null_of(noise, labels, strata)
    assert p_null > 0.1
    signal = noise.copy()
    signal[:, 2, 0] += np.where(labels, 2.5, -2.5)
    peak, p_signal = null_of(signal, labels, strata)
    assert peak > 0.95 and p_signal == pytest.approx(1 / 100)


def test_stratified_null_absorbs_a_planted_window_confound():
    """The label follows the window (16 of 20 positive under one, 4 of 20 under the other) and
    the state shows the window, not the label: a plain null calls the probe significant, the
    null within windows does not."""
    rng = np.random.default_rng(2)
    window = np.repeat([0, 1], 20)
    labels = np.r_[np.arange(20) < 16, np.arange(20) < 4]
    states = rng.normal(size=(40, 2, 6))
    states[:, 1, 0] += 4.0 * window
    _, p_plain = null_of(states, labels, ["all"] * 40)
    _, p_strata = null_of(states, labels, window.tolist())
    assert p_plain <= 0.02 and p_strata > 0.1


def test_card_reads_the_units_the_metrics_step_writes():
    validate_paper_card("gar", str(REPO / "seeds" / "gar.yaml"))
    card = yaml.safe_load((REPO / "seeds" / "gar.yaml").read_text())
    by_id = {c["id"]: c for c in card["claims"]}
    for scale in ("tiny", "full"):
        sweep = load_config("gar", scale, REPO / "config")["evaluate"]["sweep"]
        of = by_id["crossover_observed_linear"]["estimate"]["of"]
        assert of == ["crossover.reference.probes"] + [f"crossover.{c}.probes" for c in sweep]
    assert set(paper_statistics("gar")) == set(STATISTICS)


def test_claims_on_planted_units_give_the_hand_verdicts():
    """Ten episodes; closure answers 1 of 3 probes after its crossover where full attention
    answers 3 of 3: the collapse is reproduced; ten identical late and early halves make the
    non-inferiority of late recall reproduced."""
    units = Units()
    ids = [f"e{i}" for i in range(10)]
    units.add("fact5.w_main.recall_after", "episode", ids, [[1, 3]] * 10)
    units.add("fact5.w_main.reference_recall_after", "episode", ids, [[3, 3]] * 10)
    units.add("fact5.full.recall_late", "episode", ids, [[2, 3]] * 10)
    units.add("fact5.full.recall_early", "episode", ids, [[2, 3]] * 10)
    card = yaml.safe_load((REPO / "seeds" / "gar.yaml").read_text())
    metrics = {
        "fact5.w_main.crossed_fraction": 1.0,
        "fact5.w_main.reference_recall_after": 1.0,
        "fact5.full.recall_turn1": 0.5,
    }
    out = check_claims(card, metrics, units, "tiny", Settings(resamples=500), STATISTICS)
    by_id = {c["id"]: c for c in out["claims"]}
    collapse = by_id["closure_collapses_recall_5"]
    assert collapse["verdict"] == "reproduced" and collapse["estimate"] == pytest.approx(-2 / 3)
    assert collapse["method"].startswith("paired bootstrap over 10 episodes")
    assert by_id["recall_holds_with_full_attention"]["verdict"] == "reproduced"
    assert by_id["closure_collapses_recall_20"]["verdict"] == "not testable"
    assert by_id["probes_decode_recall"]["verdict"] == "not testable"

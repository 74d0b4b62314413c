"""The measurements on planted traces whose answers are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reprolab.papers.gar import evaluate as ev

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
}


def trace(episode, condition, window, correct, gars, goal_end=10, step=20):
    """A fact trace: every turn a probe; reply i holds the answer when correct[i]."""
    turns = []
    for i, (ok, gar) in enumerate(zip(correct, gars, strict=True), 1):
        turns.append({"turn": i, "kind": "probe", "answer": "123",
                      "response": "It is 123." if ok else "It is 999.",
                      "response_start": goal_end + step * i,
                      "gar": gar, "gar_norm": gar})  # fmt: skip
    return {"episode": episode, "task": "facts", "kind": "facts", "condition": condition,
            "window": window, "goal_end": goal_end, "turns": turns}  # fmt: skip


def test_observed_crossover_by_hand():
    recall = {1: 0.9, 2: 0.2, 3: 0.5, 4: 0.1, 5: 0.0}
    assert ev.observed_crossover(recall, 0.8, 0.5) == 4  # turn 3 bounces back above 0.4
    assert math.isnan(ev.observed_crossover({1: 0.9, 2: 0.9}, 0.9, 0.5))


def test_gar_trend_of_a_falling_series():
    rows = [trace("e", "full", None, [True] * 5, [0.5, 0.4, 0.3, 0.2, 0.1])]
    trend = ev.gar_trend(rows)
    assert trend["gar_tau"] == pytest.approx(-1.0)
    assert trend["gar_drop"] == pytest.approx(0.8)
    assert trend["gar_mk_p"] < 0.1


def test_fact_task_recall_after_the_crossover_and_its_reference():
    # Replies start at 30, 50, 70, 90 (goal ends at 10). W=40 closes at turn 2 (50-10 >= 40).
    rows = [
        trace("a", "full", None, [True, True, True, False], [0.4, 0.3, 0.2, 0.1]),
        trace("b", "full", None, [True, True, True, True], [0.4, 0.3, 0.2, 0.1]),
        trace("a", "w2", 40, [True, False, False, False], [0.4, 0.0, 0.0, 0.0]),
        trace("b", "w2", 40, [True, True, False, False], [0.4, 0.0, 0.0, 0.0]),
    ]
    metrics, summary = ev.fact_task(rows, SETTINGS)
    assert metrics["w2.predicted_cross"] == 2
    # After-crossover pairs (turns 2-4 of a and b): 1 of 6 recalled; full recalled 5 of 6.
    assert metrics["w2.recall_after"] == pytest.approx(1 / 6)
    assert metrics["w2.reference_recall_after"] == pytest.approx(5 / 6)
    assert metrics["w2.gar_after"] == 0.0
    # Full recall over all probes 7/8; w2 recall by turn 1, .5, 0, 0 -> stays <= 0.4375 from 3.
    assert metrics["w2.observed_cross"] == 3
    assert metrics["full.recall_turn1"] == 1.0 and math.isnan(metrics["full.predicted_cross"])
    assert summary["w2"]["recall"] == {"1": 1.0, "2": 0.5, "3": 0.0, "4": 0.0}


def test_probe_records_take_the_crossover_state_and_that_probe_as_label():
    # W=40 closes at turn 2 in every trace: a fails the turn-2 probe, b answers it.
    rows = [
        trace("a", "w2", 40, [True, False, True, False], [0.4, 0.0, 0.0, 0.0]),
        trace("b", "w2", 40, [True, True, False, False], [0.4, 0.0, 0.0, 0.0]),
        trace("a", "w1", 60, [True, True, True, True], [0.4, 0.3, 0.2, 0.1]),
        trace("a", "full", None, [True, True, True, True], [0.4, 0.3, 0.2, 0.1]),
    ]
    for row in rows:
        row["goal"] = "The code of the otter is 123.\nThe code of the lynx is 123."
        for t in row["turns"]:
            t["key"] = "lynx" if t["turn"] % 2 == 0 else "otter"
    hidden = {"a|w2|2": np.zeros((2, 3)), "b|w2|2": np.ones((2, 3))}
    records = ev.probe_records(rows, hidden, "w2")  # the other window and full: no sample
    assert [r["label"] for r in records] == [False, True]  # a answers turn 3, not read
    assert [r["state"][0, 0] for r in records] == [0.0, 1.0]
    assert [(r["cross"], r["remaining"], r["fact_position"]) for r in records] == [(2, 3, 1)] * 2
    with pytest.raises(ValueError, match="b\\|w2\\|2"):
        ev.probe_records(rows, {"a|w2|2": hidden["a|w2|2"]}, "w2")


def test_nuisance_auc_by_hand():
    labels = np.array([True, True, False, False])
    assert ev.nuisance_auc(labels, [5, 5, 5, 5]) == 0.5  # a constant carries nothing
    assert ev.nuisance_auc(labels, [1, 2, 3, 4]) == 1.0  # reversed order counts as well
    assert ev.nuisance_auc(labels, ["w", "w", "v", "w"]) == pytest.approx(0.75)


def test_crossover_sweep_fits_lines():
    summary = {
        "w1": {"window": 100, "predicted_cross": 3.0, "observed_cross": 4.0},
        "w2": {"window": 200, "predicted_cross": 5.0, "observed_cross": 6.0},
        "w3": {"window": 300, "predicted_cross": 7.0, "observed_cross": float("nan")},
    }
    metrics, _ = ev.crossover_sweep(summary, ["w1", "w2", "w3"])
    assert metrics["crossover.predicted_slope"] == pytest.approx(0.02)
    assert metrics["crossover.predicted_r2"] == pytest.approx(1.0)
    assert metrics["crossover.n_observed"] == 2
    assert metrics["crossover.mae_turns"] == pytest.approx(1.0)
    assert metrics["crossover.signed_error"] == pytest.approx(1.0)  # observed - predicted


def test_persona_violation_rates_by_hand():
    rules = ["opener", "no_exclamation"]
    row = {"episode": "p", "condition": "closed", "kind": "persona", "window": None,
           "rules": rules, "goal_end": 5,
           "turns": [{"turn": 1, "response": "Ahoy there.", "gar": 0.2, "gar_norm": 0.2,
                      "n_tokens": 3, "ended": True},
                     {"turn": 2, "response": "Hello!", "gar": 0.1, "gar_norm": 0.1,
                      "n_tokens": 9, "ended": False}]}  # fmt: skip
    row["turns"].append({"turn": 3, "response": "Hello!", "gar": 0.1, "gar_norm": 0.1,
                         "n_tokens": 3, "ended": True})  # fmt: skip
    metrics, _ = ev.persona([row])
    # Turn 2 hit the token cap: not scored. Turn 1 keeps both rules, turn 3 breaks both.
    assert metrics["persona.closed.violation_rate"] == pytest.approx(0.5)  # 2 of 4 checks
    assert metrics["persona.closed.violation_rate_late"] == pytest.approx(1.0)  # turn 3 only
    assert metrics["persona.closed.violation.opener"] == pytest.approx(0.5)
    assert metrics["persona.closed.ended"] == pytest.approx(2 / 3)

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
                      "response_start": goal_end + step * i, "n_tokens": 5,
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


def test_copyable_probes_by_hand():
    # Replies of 5 tokens start at 30, 50, 70, 90 (end 34, 54, 74, 94); W = 40 closes at turn 2.
    # a: only reply 1 holds the number, seen from turns 2 (50 - 34 < 40) and 3 (70 - 34 < 40),
    # not 4 (90 - 34 >= 40). b: replies 1 and 2 hold it, so turns 2, 3 and 4 (90 - 54) see one.
    rows = [
        trace("a", "full", None, [True, True, True, False], [0.4, 0.3, 0.2, 0.1]),
        trace("b", "full", None, [True, True, True, True], [0.4, 0.3, 0.2, 0.1]),
        trace("a", "w2", 40, [True, False, False, False], [0.4, 0.0, 0.0, 0.0]),
        trace("b", "w2", 40, [True, True, False, False], [0.4, 0.0, 0.0, 0.0]),
    ]
    assert ev.copyable(rows[2]) == {("a", 1): False, ("a", 2): True, ("a", 3): True,
                                    ("a", 4): False}  # fmt: skip
    assert all(ev.copyable(rows[3])[("b", t)] for t in (2, 3, 4))
    assert ev.copyable(rows[1])[("b", 4)]  # full attention sees every earlier reply
    metrics, _ = ev.fact_task(rows, SETTINGS)
    assert metrics["w2.copyable_after"] == pytest.approx(5 / 6)
    assert metrics["w2.recall_after_uncopyable"] == 0.0  # a's turn 4, unanswered


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


def copier_rows(task, windows, user=10, reply=10, goal_end=60):
    """Planted traces of a scripted model that reads the goal while its reply can see it and
    otherwise copies its own earlier answer to the same fact if that answer is still inside the
    window. The episodes are data.fact_episodes' (the real probe schedule); every user turn is
    `user` tokens and every reply `reply` tokens, so positions are known by hand."""
    from reprolab.papers.gar.data import fact_episodes

    rows = []
    for episode in fact_episodes(task, seed=0):
        for condition, window in windows.items():
            turns, said = [], {}  # key -> end of the last reply that stated its value
            for i, turn in enumerate(episode["turns"], 1):
                start = goal_end + 1 + (i - 1) * (user + reply) + user
                seen = window is None or start - goal_end < window
                copied = not seen and turn["key"] in said and start - said[turn["key"]] < window
                ok = seen or copied
                if ok:
                    said[turn["key"]] = start + reply - 1
                turns.append({"turn": i, "kind": "probe", "key": turn["key"],
                              "answer": turn["answer"], "response_start": start,
                              "response": f"It is {turn['answer'] if ok else 'unknown'}.",
                              "n_tokens": reply, "gar": 0.1, "gar_norm": 0.1})  # fmt: skip
            rows.append({"episode": episode["id"], "task": task["name"], "kind": "facts",
                         "condition": condition, "window": window, "goal_end": goal_end,
                         "goal": episode["goal"], "turns": turns})  # fmt: skip
    return rows


def fact_spec(n_facts, n_turns=12):
    return {"name": "facts", "kind": "facts", "n_episodes": 4, "n_turns": n_turns,
            "n_facts": n_facts, "probe_every": 1, "value_min": 100, "value_max": 999,
            "fact_template": "The code of the {key} is {value}.",
            "probe_template": "What is the code of the {key}?",
            "system_template": "{facts}", "restate_template": "{facts}"}  # fmt: skip


COPIER_WINDOWS = {"full": None, "w1": 70, "w2": 130}


def test_a_copier_cannot_recall_after_the_crossover_when_each_fact_is_asked_once():
    # Replies start 11 + 20 (t - 1) tokens after the goal's end: W = 70 closes at turn 4
    # (11 + 60 >= 70), W = 130 at turn 7 (11 + 120 >= 130). 12 facts for 12 probes: nothing
    # said before can be copied, so recall is 1 up to the crossover and 0 from it on.
    rows = copier_rows(fact_spec(n_facts=12), COPIER_WINDOWS)
    assert ev.reasked_facts(rows) == []
    metrics, summary = ev.fact_task(rows, SETTINGS)
    assert metrics["w1.predicted_cross"] == 4 and metrics["w2.predicted_cross"] == 7
    assert metrics["w2.recall_after"] == 0.0 and metrics["w2.reference_recall_after"] == 1.0
    assert summary["w2"]["recall"] == {str(t): float(t < 7) for t in range(1, 13)}
    assert metrics["w1.observed_cross"] == 4 and metrics["w2.observed_cross"] == 7
    sweep, _ = ev.crossover_sweep(summary, ["w1", "w2"])
    assert sweep["crossover.signed_error"] == 0.0  # the collapse falls on the crossover turn


def test_the_same_copier_hides_the_collapse_when_facts_come_back_inside_the_window():
    # The flawed schedule: 5 facts in turn, a probe every turn. Under W = 130 a fact asked at
    # turn t comes back at t + 5, 100 tokens later, so its answer (ending 9 tokens into the
    # 100) is still 91 < 130 tokens behind: the copier answers every probe after the crossover.
    rows = copier_rows(fact_spec(n_facts=5), COPIER_WINDOWS)
    assert len(ev.reasked_facts(rows)) == 4  # every episode
    metrics, _ = ev.fact_task(rows, SETTINGS)
    assert metrics["w2.recall_after"] == 1.0  # no collapse at all
    assert math.isnan(metrics["w2.observed_cross"])
    # W = 70 spans fewer than 5 turns: the earlier answer has left it, recall collapses.
    assert metrics["w1.recall_after"] == 0.0
    with pytest.raises(ValueError, match="probes a fact twice"):
        ev.evaluate({"facts": rows}, {}, SETTINGS)

"""The success checker and the paper's measures on hand-made trajectories."""

from __future__ import annotations

import copy
import math

from reprolab.papers.rein import evaluate as ev

DB = {"orders": {"W1": {"status": "pending"}, "W2": {"status": "pending"}}}
CANCELLED = {"orders": {"W1": {"status": "cancelled"}, "W2": {"status": "pending"}}}
WRONG = {"orders": {"W1": {"status": "pending"}, "W2": {"status": "cancelled"}}}


def result(error, calls, final, goal, expected, plan=None, label=None):
    turn = {"plan": plan}
    if label is not None:
        turn["inception_label"] = label
    return {
        "error": error,
        "category": None if error is None else "ambiguous",
        "expected": expected,
        "calls": [{"name": c, "arguments": {}} for c in calls],
        "database": copy.deepcopy(DB),
        "final": final,
        "goal": goal,
        "turns": [turn],
    }


def test_error_instance_passes_only_with_the_right_recovery_and_no_mutation():
    ok = result("polysemy", ["internal_error_report"], DB, DB, "internal_error_report")
    assert ev.success(ok)
    wrong_tool = result("polysemy", ["transfer_to_human_agents"], DB, DB, "internal_error_report")
    assert not ev.success(wrong_tool)
    acted = result("polysemy", ["cancel_pending_order"], CANCELLED, DB, "internal_error_report")
    assert not ev.success(acted) and ev.mutation_error(acted)
    both = result(
        "polysemy",
        ["cancel_pending_order", "internal_error_report"],
        CANCELLED,
        DB,
        "internal_error_report",
    )
    assert not ev.success(both)  # recovered, but after a wrong mutation
    silent = result("polysemy", ["respond"], DB, DB, "internal_error_report")
    assert not ev.success(silent) and not ev.mutation_error(silent)


def test_clean_instance_passes_at_its_goal_without_recovery():
    done = result(None, ["cancel_pending_order"], CANCELLED, CANCELLED, "cancel_pending_order")
    assert ev.success(done) and not ev.mutation_error(done)
    other = result(None, ["cancel_pending_order"], WRONG, CANCELLED, "cancel_pending_order")
    assert not ev.success(other) and ev.mutation_error(other)
    reported = result(None, ["internal_error_report"], DB, CANCELLED, "cancel_pending_order")
    assert not ev.success(reported) and not ev.mutation_error(reported)
    assert ev.recovery_called(reported) == "internal_error_report"


def test_inception_rates_count_first_turns():
    rows = [
        result("polysemy", [], DB, DB, "x", plan="p", label="polysemy"),
        result("polysemy", [], DB, DB, "x", plan=None, label="none"),
        result("polysemy", [], DB, DB, "x", plan="p", label="unsupported_operation"),
        result(None, [], DB, DB, "x", plan="p", label="polysemy"),
        result(None, [], DB, DB, "x", plan=None, label="none"),
    ]
    rates = ev.inception_rates(rows)
    assert rates["activation"] == 2 / 3
    assert rates["false_positive"] == 1 / 2
    assert rates["category_correct"] == 1 / 3  # only polysemy names the ambiguous category
    assert math.isnan(ev.inception_rates(rows[3:])["activation"])

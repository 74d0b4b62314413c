"""ATOD-Eval on hand-made goal lists and dialogues (every number computed by hand below)."""

from __future__ import annotations

import math

import pytest

from reprolab.papers.atod import atod_eval as ev


def goal(gid, intent, status, history, first=None, completion=None, deps=()):
    return {
        "id": gid,
        "intent": intent,
        "status": status,
        "status_history": [{"turn": t, "status": s} for t, s in history],
        "first_mentioned_turn": first,
        "completion_turn": completion,
        "dependencies": list(deps),
        "core_content": f"{intent.replace('_', ' ')} in Denver",
    }


GOALS = [
    goal("g1", "book_flight", "completed", [(0, "open"), (1, "pending"), (5, "completed")], 0, 5),
    goal("g2", "book_hotel", "failed", [(2, "open"), (3, "pending"), (9, "failed")], 2,
         deps=["g1"]),
    goal("g3", "rent_car", "abandoned", [(4, "open"), (6, "abandoned")], 4),
    goal("g4", "check_weather", "pending", [(7, "open"), (8, "pending")], 7),
]  # fmt: skip


def test_dgcr_counts_only_decided_goals():
    # completed 1, failed 1: abandoned and pending goals are left out -> 1/2
    assert ev.dgcr_counts(GOALS) == (1, 2)
    assert ev.ratio(*ev.dgcr_counts(GOALS)) == 0.5
    assert math.isnan(ev.ratio(*ev.dgcr_counts([GOALS[3]])))


def test_ntc_from_first_mention_to_the_decided_turn():
    # flight: 5 - 0 = 5 (completion_turn); hotel: 9 - 2 = 7 (the failed entry) -> 12 over 2
    assert ev.ntc_counts(GOALS) == (12, 2)
    assert ev.terminal_turn(GOALS[2]) is None  # abandoned goals are not decided


def test_prf_and_dependency_edges():
    assert ev.edges(GOALS) == {("book_flight", "book_hotel")}
    pred = {("book_flight", "book_hotel"), ("book_flight", "rent_car")}
    tp, fp, fn = ev.edge_counts(pred, ev.edges(GOALS))
    assert (tp, fp, fn) == (1, 1, 0)
    p, r, f = ev.prf(tp, fp, fn)
    assert (p, r) == (0.5, 1.0) and f == pytest.approx(2 * 0.5 / 1.5)
    assert ev.prf(0, 0, 0) == (0.0, 0.0, 0.0)


def test_goal_detection_counts_duplicates_as_false_positives():
    gold = ["book_flight", "book_hotel", "rent_car"]
    # flight twice (one tp, one fp), hotel, weather (fp); rent_car missed
    assert ev.detection_counts(["book_flight", "book_flight", "book_hotel", "check_weather"],
                               gold) == (2, 2, 1)  # fmt: skip


def test_status_accuracy_counts_undetected_goals_as_wrong():
    pred = {"book_flight": "completed", "book_hotel": "pending", "rent_car": "abandoned"}
    assert ev.status_accuracy(pred, GOALS) == pytest.approx(2 / 4)


def test_mra_is_the_share_of_matching_recalls():
    cps = [
        {"gold": "open", "pred": "open"},
        {"gold": "pending", "pred": None},
        {"gold": "completed", "pred": "completed"},
        {"gold": "failed", "pred": "pending"},
    ]
    assert ev.mra(cps) == 0.5
    assert math.isnan(ev.mra([]))


def _turn(i, speaker, text, changes=()):
    return {
        "turn_id": i,
        "speaker": speaker,
        "utterance": text,
        "goal_status_changes": [{"goal_id": g, "from": "x", "to": s} for g, s in changes],
    }


def test_proactive_turns_and_pe():
    dialogue = {
        "goal_list": [
            goal("g1", "book_flight", "completed", [], first=0),
            goal("g2", "book_hotel", "completed", [], first=2),
        ],
        "turns": [
            _turn(0, "USER", "I need a flight to Denver.", [("g1", "open")]),
            _turn(1, "SYSTEM", "Working on it.", [("g1", "pending")]),  # user named the flight
            _turn(2, "USER", "Also a room for two nights.", [("g2", "open")]),
            # the flight's words are absent from the user turn: proactive, grounded, completed
            _turn(3, "SYSTEM", "Your flight is confirmed.", [("g1", "completed")]),
            _turn(4, "USER", "Thanks.", []),
            # the hotel was never named by the user here: proactive but moves to pending only
            _turn(5, "SYSTEM", "Looking at hotels.", [("g2", "pending")]),
        ],
    }
    dialogue["goal_list"][0]["core_content"] = "flight"
    dialogue["goal_list"][1]["core_content"] = "hotel booking"
    found = [(t["turn_id"], g) for t, g in ev.proactive_turns(dialogue)]
    assert found == [(3, "g1"), (5, "g2")]
    assert ev.pe(dialogue) == 0.5  # 1 (grounded, completed) and 0 (not beneficial)

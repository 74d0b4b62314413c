"""Each alignment metric and the conflict detector on hand-made world graphs and logs."""

from __future__ import annotations

import pytest

from reprolab.papers.partnr_dialogue.grounding import ground
from reprolab.papers.partnr_dialogue.metrics import (
    belief_accuracy,
    belief_sensitivity,
    conflicts,
    curve_auc,
    information_novelty,
    observation_convergence,
)
from tests.papers.partnr_dialogue.cases import HOUSE, prop, snap

CUP_T = ("cup_0", "on", "table_0")
BOOK_B = ("book_0", "on", "bed_0")
LAMP_F = ("lamp_0", "inside", "fridge_0")
CUP_DIRTY = ("cup_0", "clean", "false")


def test_observation_convergence_is_jaccard():
    assert observation_convergence({CUP_T, BOOK_B}, {CUP_T, LAMP_F}) == pytest.approx(1 / 3)
    assert observation_convergence({CUP_T}, {CUP_T}) == 1.0
    assert observation_convergence({CUP_T}, {BOOK_B}) == 0.0
    assert observation_convergence(set(), set()) == 1.0


def test_auc_by_trapezoids_over_normalised_time():
    assert curve_auc([0.0, 1.0]) == 0.5
    assert curve_auc([0.0, 0.5, 1.0, 1.0]) == pytest.approx((0.25 + 0.75 + 1.0) / 3)
    assert curve_auc([0.4]) == 0.4


def test_belief_accuracy_is_the_share_of_true_facts():
    truth = {CUP_T, BOOK_B, LAMP_F}
    assert belief_accuracy({CUP_T, ("book_0", "on", "table_0")}, truth) == 0.5
    assert belief_accuracy(set(), truth) is None


def test_information_novelty_counts_facts_the_recipient_lacks():
    assert information_novelty({CUP_T, BOOK_B, LAMP_F}, {CUP_T}) == pytest.approx(2 / 3)
    assert information_novelty({CUP_T}, {CUP_T}) == 0.0
    assert information_novelty(set(), {CUP_T}) is None


def test_belief_sensitive_messaging_by_hand():
    # sender knows 4 facts; recipient holds 2 of them. The message mentions 1 of the 2 unknown
    # and 0 of the 2 known: BSM = 1/2 - 0/2.
    sender = {CUP_T, BOOK_B, LAMP_F, CUP_DIRTY}
    recipient = {CUP_T, BOOK_B}
    assert belief_sensitivity([({LAMP_F}, sender, recipient)]) == 0.5
    # mentioning only what the recipient knows is negative
    assert belief_sensitivity([({CUP_T, BOOK_B}, sender, recipient)]) == -1.0
    # pooled over messages: counts add up before the rates
    pooled = belief_sensitivity([({LAMP_F}, sender, recipient), ({CUP_T}, sender, recipient)])
    assert pooled == pytest.approx(1 / 4 - 1 / 4)
    assert belief_sensitivity([({CUP_T}, {CUP_T}, {CUP_T})]) is None  # no unknown fact


def test_grounding_by_entity_matching():
    text = (
        "cup_0 is on table_0; lamp_0 is inside fridge_0. The cup_0 is dirty! "
        "book_0 is held by human"
    )
    assert ground(text, HOUSE, ["robot", "human"]) == {
        CUP_T,
        LAMP_F,
        CUP_DIRTY,
        ("book_0", "held", "human"),
    }
    assert ground("I will help you soon.", HOUSE, ["robot", "human"]) == set()
    # a state word for an object without that state grounds nothing
    assert ground("book_0 is clean", HOUSE, ["robot", "human"]) == set()


def header(task_props, constraints=()):
    return {
        "house": HOUSE,
        "task": {"propositions": task_props, "dependencies": [], "constraints": list(constraints)},
    }


def step(actions, ok=None, **objects):
    ok = ok or {}
    return {
        "actions": actions,
        "results": {a: {"ok": ok.get(a, True)} for a in actions},
        "snapshot": snap(**objects),
    }


CUP_ON_BED = prop("is_on_top", object_handles=["cup_0"], receptacle_handles=["bed_0"])
HELD_BY_ROBOT = {"parent": "robot", "relation": "held"}


def test_no_conflict_when_agents_work_apart():
    steps = [
        step({}),
        step({"robot": "Pick[cup_0]", "human": "Explore[kitchen]"}, cup_0=HELD_BY_ROBOT),
    ]
    assert conflicts(header([CUP_ON_BED]), steps, window=1) == []


def test_same_target_within_the_window():
    steps = [
        step({}),
        step(
            {"robot": "Pick[cup_0]", "human": "Pick[cup_0]"},
            ok={"human": False},
            cup_0=HELD_BY_ROBOT,
        ),
    ]
    kinds = [e["kind"] for e in conflicts(header([CUP_ON_BED]), steps, window=1)]
    assert kinds == ["same_target"]
    # two steps apart is outside a window of 1
    apart = [
        step({}),
        step({"robot": "Pick[book_0]"}),
        step({"robot": "Wait[]"}),
        step({"human": "Pick[book_0]"}),
    ]
    assert conflicts(header([CUP_ON_BED]), apart, window=1) == []
    assert [e["kind"] for e in conflicts(header([CUP_ON_BED]), apart, window=2)] == ["same_target"]


def test_acting_on_what_the_partner_holds():
    steps = [
        step({}),
        step({"robot": "Pick[cup_0]"}, cup_0=HELD_BY_ROBOT),
        step({"robot": "Wait[]"}, cup_0=HELD_BY_ROBOT),
        step({"human": "Clean[cup_0]"}, ok={"human": False}, cup_0=HELD_BY_ROBOT),
    ]
    kinds = {e["kind"] for e in conflicts(header([CUP_ON_BED]), steps, window=1)}
    assert kinds == {"held_by_partner"}


def test_redoing_a_proposition_the_partner_satisfied():
    on_bed = {"parent": "bed_0", "relation": "on"}
    steps = [
        step({}),
        step({"robot": "Pick[cup_0]"}, cup_0=HELD_BY_ROBOT),
        step({"robot": "Place[cup_0, on, bed_0]"}, cup_0=on_bed),
        step({"robot": "Wait[]"}, cup_0=on_bed),
        step({"human": "Pick[cup_0]"}, cup_0={"parent": "human", "relation": "held"}),
    ]
    kinds = [e["kind"] for e in conflicts(header([CUP_ON_BED]), steps, window=1)]
    assert kinds == ["redo"]
    # a stepping stone (a later proposition waits on it) may be moved on from
    temporal = {"type": "TemporalConstraint", "dag_edges": [[0, 1]]}
    floor = prop("is_on_floor", object_handles=["cup_0"])
    assert conflicts(header([CUP_ON_BED, floor], [temporal]), steps, window=1) == []


def test_redo_needs_an_action_that_achieves_the_proposition():
    lamp_on = prop("is_powered_on", object_handles=["lamp_0"])
    powered = {"powered_on": True}
    steps = [step({}), step({"human": "PowerOn[lamp_0]"}, lamp_0=powered),
             step({"robot": "PowerOn[lamp_0]"}, lamp_0=powered),
             step({"robot": "Pick[lamp_0]"}, lamp_0=powered | HELD_BY_ROBOT)]  # fmt: skip
    events = conflicts(header([lamp_on]), steps, window=0)
    assert [(e["kind"], e["step"]) for e in events] == [("redo", 2)]  # the Pick moves, not redoes

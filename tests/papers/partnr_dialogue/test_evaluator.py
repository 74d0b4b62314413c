"""PARTNR's evaluator on hand-made episodes: every predicate, dependency and constraint kind."""

from __future__ import annotations

import pytest

from reprolab.papers.partnr_dialogue.evaluator import evaluate
from reprolab.papers.partnr_dialogue.predicates import check
from tests.papers.partnr_dialogue.cases import HOUSE, prop, snap

ON_BED = {"parent": "bed_0", "relation": "on"}
HELD_BY_HUMAN = {"parent": "human", "relation": "held"}


@pytest.mark.parametrize(
    ("proposition", "snapshot", "expected"),
    [
        (prop("is_on_top", object_handles=["cup_0"], receptacle_handles=["table_0"]), snap(), True),
        (prop("is_on_top", object_handles=["cup_0"], receptacle_handles=["bed_0"]), snap(), False),
        # OR-list of objects with number: two of the three on the bed
        (
            prop(
                "is_on_top",
                object_handles=["cup_0", "book_0", "lamp_0"],
                receptacle_handles=["bed_0"],
                number=2,
            ),
            snap(cup_0=ON_BED),
            True,
        ),
        (
            prop(
                "is_on_top",
                object_handles=["cup_0", "book_0"],
                receptacle_handles=["bed_0"],
                number=2,
            ),
            snap(),
            False,
        ),
        # is_same_receptacle: on two different receptacles of the list is not enough
        (
            prop(
                "is_on_top",
                object_handles=["cup_0", "book_0"],
                receptacle_handles=["bed_0", "table_0"],
                number=2,
                is_same_receptacle=True,
            ),
            snap(),
            False,
        ),
        (
            prop(
                "is_on_top",
                object_handles=["cup_0", "book_0"],
                receptacle_handles=["bed_0", "table_0"],
                number=2,
                is_same_receptacle=True,
            ),
            snap(cup_0=ON_BED),
            True,
        ),
        (
            prop("is_inside", object_handles=["lamp_0"], receptacle_handles=["fridge_0"]),
            snap(),
            True,
        ),
        (
            prop("is_inside", object_handles=["cup_0"], receptacle_handles=["fridge_0"]),
            snap(),
            False,
        ),
        (prop("is_in_room", object_handles=["book_0"], room_ids=["bedroom"]), snap(), True),
        (prop("is_in_room", object_handles=["cup_0"], room_ids=["bedroom"]), snap(), False),
        # a held object is in its holder's room
        (
            prop("is_in_room", object_handles=["cup_0"], room_ids=["bedroom"]),
            snap(cup_0=HELD_BY_HUMAN),
            True,
        ),
        (
            prop(
                "is_in_room",
                object_handles=["cup_0", "book_0"],
                room_ids=["kitchen", "bedroom"],
                number=2,
                is_same_room=True,
            ),
            snap(),
            False,
        ),
        (
            prop("is_on_floor", object_handles=["cup_0"]),
            snap(cup_0={"parent": "floor_kitchen"}),
            True,
        ),
        (prop("is_on_floor", object_handles=["cup_0"]), snap(), False),
        (
            prop("is_next_to", entity_handles_a=["cup_0"], entity_handles_b=["book_0"]),
            snap(cup_0=ON_BED),
            True,
        ),
        (
            prop("is_next_to", entity_handles_a=["cup_0"], entity_handles_b=["book_0"]),
            snap(),
            False,
        ),
        (
            prop(
                "is_clustered", entity_handles=[["cup_0"], ["book_0"], ["lamp_0"]], number=[1, 1, 1]
            ),
            snap(cup_0=ON_BED, lamp_0=ON_BED),
            True,
        ),
        (
            prop(
                "is_clustered", entity_handles=[["cup_0"], ["book_0"], ["lamp_0"]], number=[1, 1, 1]
            ),
            snap(cup_0=ON_BED),
            False,
        ),
        (prop("is_clean", object_handles=["cup_0"]), snap(), False),
        (prop("is_dirty", object_handles=["cup_0"]), snap(), True),
        (prop("is_filled", object_handles=["cup_0"]), snap(cup_0={"filled": True}), True),
        (prop("is_empty", object_handles=["cup_0"]), snap(cup_0={"filled": True}), False),
        (prop("is_powered_on", object_handles=["lamp_0"]), snap(), False),
        (prop("is_powered_off", object_handles=["lamp_0"]), snap(), True),
        # an object without the state never satisfies a state predicate
        (prop("is_clean", object_handles=["book_0"]), snap(), False),
    ],
)
def test_each_predicate_on_hand_made_snapshots(proposition, snapshot, expected):
    assert check(HOUSE, snapshot, proposition)[0] is expected


def test_unknown_predicate_is_named():
    with pytest.raises(ValueError, match="is_levitating"):
        check(HOUSE, snap(), prop("is_levitating", object_handles=["cup_0"]))


CUP_ON_BED = prop("is_on_top", object_handles=["cup_0"], receptacle_handles=["bed_0"])
BOOK_ON_TABLE = prop("is_on_top", object_handles=["book_0"], receptacle_handles=["table_0"])
BOOK_ON = {"parent": "table_0", "relation": "on"}


def task(props, dependencies=(), constraints=()):
    return {
        "propositions": props,
        "dependencies": list(dependencies),
        "constraints": list(constraints),
    }


def test_percent_complete_and_success():
    t = task([CUP_ON_BED, BOOK_ON_TABLE])
    half = evaluate(HOUSE, t, [snap(), snap(cup_0=ON_BED)])
    assert half["percent_complete"] == 0.5 and half["success"] == 0.0
    full = evaluate(HOUSE, t, [snap(), snap(cup_0=ON_BED, book_0=BOOK_ON)])
    assert full["percent_complete"] == 1.0 and full["success"] == 1.0
    assert full["satisfied_at"] == [1, 1]


def test_terminal_satisfaction_needs_the_last_state():
    t = task(
        [CUP_ON_BED],
        constraints=[{"type": "TerminalSatisfactionConstraint", "proposition_indices": [0]}],
    )
    undone = [snap(), snap(cup_0=ON_BED), snap()]
    assert evaluate(HOUSE, t, undone)["percent_complete"] == 0.0
    assert evaluate(HOUSE, task([CUP_ON_BED]), undone)["percent_complete"] == 1.0  # ever satisfied


def test_temporal_constraint_orders_first_satisfactions():
    t = task(
        [CUP_ON_BED, BOOK_ON_TABLE],
        constraints=[{"type": "TemporalConstraint", "dag_edges": [[0, 1]]}],
    )
    in_order = [snap(), snap(cup_0=ON_BED), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    reversed_ = [snap(), snap(book_0=BOOK_ON), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    together = [snap(), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    assert evaluate(HOUSE, t, in_order)["success"] == 1.0
    assert evaluate(HOUSE, t, reversed_)["percent_complete"] == 0.5  # the later one is invalid
    assert evaluate(HOUSE, t, together)["valid"] == [True, False]  # strictly earlier


SURFACES = ["table_0", "counter_0"]
CUP_SOMEWHERE = prop("is_on_top", object_handles=["cup_0"], receptacle_handles=SURFACES)
BOOK_SOMEWHERE = prop("is_on_top", object_handles=["book_0"], receptacle_handles=SURFACES)


@pytest.mark.parametrize(
    ("kind", "same_place_ok", "apart_ok"),
    [("SameArgConstraint", True, False), ("DifferentArgConstraint", False, True)],
)
def test_same_and_different_argument_constraints(kind, same_place_ok, apart_ok):
    c = {"type": kind, "proposition_indices": [0, 1], "arg_names": ["receptacle_handles"] * 2}
    t = task([CUP_SOMEWHERE, BOOK_SOMEWHERE], constraints=[c])
    same = [snap(), snap(book_0=BOOK_ON)]  # both on table_0
    apart = [snap(), snap(book_0={"parent": "counter_0", "relation": "on"})]
    assert evaluate(HOUSE, t, same)["success"] == float(same_place_ok)
    assert evaluate(HOUSE, t, apart)["success"] == float(apart_ok)


CUP_ON_FLOOR = prop("is_on_floor", object_handles=["cup_0"])
FLOOR = {"parent": "floor_kitchen", "relation": "on"}


def dep(kind, mode="all"):
    return {
        "proposition_indices": [1],
        "depends_on": [0],
        "relation_type": kind,
        "dependency_mode": mode,
    }


def test_after_satisfied_counts_only_once_the_dependency_held():
    # the cup must go to the bed first and only then to the floor
    t = task([CUP_ON_BED, CUP_ON_FLOOR], dependencies=[dep("after_satisfied")])
    assert evaluate(HOUSE, t, [snap(), snap(cup_0=FLOOR), snap(cup_0=ON_BED)])["done"] == [
        True,
        False,
    ]
    assert evaluate(HOUSE, t, [snap(), snap(cup_0=ON_BED), snap(cup_0=FLOOR)])["success"] == 1.0


def test_while_satisfied_counts_only_at_the_same_time():
    t = task([BOOK_ON_TABLE, CUP_ON_BED], dependencies=[dep("while_satisfied")])
    assert evaluate(HOUSE, t, [snap(), snap(cup_0=ON_BED)])["done"] == [False, False]
    assert evaluate(HOUSE, t, [snap(), snap(cup_0=ON_BED, book_0=BOOK_ON)])["success"] == 1.0


def test_after_unsatisfied_needs_the_dependency_undone():
    t = task([BOOK_ON_TABLE, CUP_ON_BED], dependencies=[dep("after_unsatisfied")])
    still = [snap(), snap(book_0=BOOK_ON), snap(book_0=BOOK_ON, cup_0=ON_BED)]
    undone = [snap(), snap(book_0=BOOK_ON), snap(cup_0=ON_BED)]
    assert evaluate(HOUSE, t, still)["done"][1] is False
    assert evaluate(HOUSE, t, undone)["done"][1] is True


def test_before_satisfied_counts_only_before_the_dependency():
    t = task([BOOK_ON_TABLE, CUP_ON_BED], dependencies=[dep("before_satisfied")])
    before = [snap(), snap(cup_0=ON_BED), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    after = [snap(), snap(book_0=BOOK_ON), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    assert evaluate(HOUSE, t, before)["satisfied_at"][1] == 1
    assert evaluate(HOUSE, t, after)["satisfied_at"][1] is None


def test_dependency_mode_any_needs_one_of_several():
    lamp_on = prop("is_powered_on", object_handles=["lamp_0"])
    dependency = {
        "proposition_indices": [2],
        "depends_on": [0, 1],
        "relation_type": "while_satisfied",
    }
    states = [snap(), snap(book_0=BOOK_ON, cup_0=ON_BED, lamp_0={"powered_on": True})]
    partial = [snap(), snap(book_0=BOOK_ON, lamp_0={"powered_on": True})]
    for mode, expected in (("all", False), ("any", True)):
        t = task(
            [BOOK_ON_TABLE, CUP_ON_BED, lamp_on],
            dependencies=[dependency | {"dependency_mode": mode}],
        )
        assert evaluate(HOUSE, t, partial)["done"][2] is expected
        assert evaluate(HOUSE, t, states)["done"][2] is True


def test_unknown_kinds_are_named():
    with pytest.raises(ValueError, match="SoonConstraint"):
        evaluate(HOUSE, task([CUP_ON_BED], constraints=[{"type": "SoonConstraint"}]), [snap()])
    with pytest.raises(ValueError, match="during_satisfied"):
        evaluate(
            HOUSE, task([CUP_ON_BED, CUP_ON_BED], dependencies=[dep("during_satisfied")]), [snap()]
        )

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


# Dependencies, by hand from partnr-planner's measures.py: at step t the gate reads the states
# recorded at 0..t-1 (update_metric gates before it appends the new state), and a gated
# proposition is recorded unsatisfied.


def test_while_satisfied_reads_the_state_before_the_step():
    t = task([BOOK_ON_TABLE, CUP_ON_BED], dependencies=[dep("while_satisfied")])
    assert evaluate(HOUSE, t, [snap(), snap(cup_0=ON_BED)])["done"] == [False, False]
    together = [snap(), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    # t=1 reads t=0, where the book was not yet on the table: the cup is not evaluated.
    assert evaluate(HOUSE, t, together)["done"] == [True, False]
    assert evaluate(HOUSE, t, together, semantics="final")["success"] == 1.0
    book_first = [snap(), snap(book_0=BOOK_ON), snap(book_0=BOOK_ON, cup_0=ON_BED)]
    assert evaluate(HOUSE, t, book_first)["satisfied_at"] == [1, 2]


def test_after_unsatisfied_needs_the_undoing_in_an_earlier_state():
    t = task([BOOK_ON_TABLE, CUP_ON_BED], dependencies=[dep("after_unsatisfied")])
    still = [snap(), snap(book_0=BOOK_ON), snap(book_0=BOOK_ON, cup_0=ON_BED)]
    undone = [snap(), snap(book_0=BOOK_ON), snap(cup_0=ON_BED)]
    assert evaluate(HOUSE, t, still)["done"][1] is False
    # t=2 reads states 0..1 (not yet undone): the cup counts only from t=3.
    assert evaluate(HOUSE, t, undone)["done"][1] is False
    assert evaluate(HOUSE, t, undone, semantics="final")["done"][1] is True
    assert evaluate(HOUSE, t, [*undone, snap(cup_0=ON_BED)])["satisfied_at"][1] == 3


def test_before_satisfied_counts_only_before_the_dependency():
    t = task([BOOK_ON_TABLE, CUP_ON_BED], dependencies=[dep("before_satisfied")])
    before = [snap(), snap(cup_0=ON_BED), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    after = [snap(), snap(book_0=BOOK_ON), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    together = [snap(), snap(cup_0=ON_BED, book_0=BOOK_ON)]
    assert evaluate(HOUSE, t, before)["satisfied_at"][1] == 1
    assert evaluate(HOUSE, t, after)["satisfied_at"][1] is None
    # t=1 reads t=0 (book not yet on the table): the cup counts (PARTNR), not in `final`.
    assert evaluate(HOUSE, t, together)["satisfied_at"][1] == 1
    assert evaluate(HOUSE, t, together, semantics="final")["satisfied_at"][1] is None


def test_a_gated_proposition_is_recorded_unsatisfied_for_its_dependents():
    # 1 after_satisfied 0, 2 while_satisfied 1: the cup on the bed at t=1 is gated (0 not yet
    # recorded before t=1), so at t=2 the lamp's gate reads 1 as unsatisfied.
    lamp_on = prop("is_powered_on", object_handles=["lamp_0"])
    deps = [
        {"proposition_indices": [1], "depends_on": [0], "relation_type": "after_satisfied"},
        {"proposition_indices": [2], "depends_on": [1], "relation_type": "while_satisfied"},
    ]
    t = task([BOOK_ON_TABLE, CUP_ON_BED, lamp_on], dependencies=deps)
    lamp = {"powered_on": True}
    states = [
        snap(),
        snap(book_0=BOOK_ON, cup_0=ON_BED),
        snap(book_0=BOOK_ON, cup_0=ON_BED, lamp_0=lamp),
    ]
    assert evaluate(HOUSE, t, states)["satisfied_at"] == [1, 2, None]
    assert evaluate(HOUSE, t, [*states, states[-1]])["satisfied_at"] == [1, 2, 3]


def test_dependency_mode_any_needs_one_of_several():
    lamp_on = prop("is_powered_on", object_handles=["lamp_0"])
    dependency = {
        "proposition_indices": [2],
        "depends_on": [0, 1],
        "relation_type": "while_satisfied",
    }
    lamp = {"powered_on": True}
    both = [
        snap(),
        snap(book_0=BOOK_ON, cup_0=ON_BED),
        snap(book_0=BOOK_ON, cup_0=ON_BED, lamp_0=lamp),
    ]
    partial = [snap(), snap(book_0=BOOK_ON), snap(book_0=BOOK_ON, lamp_0=lamp)]
    for mode, expected in (("all", False), ("any", True)):
        t = task(
            [BOOK_ON_TABLE, CUP_ON_BED, lamp_on],
            dependencies=[dependency | {"dependency_mode": mode}],
        )
        assert evaluate(HOUSE, t, partial)["done"][2] is expected
        assert evaluate(HOUSE, t, both)["done"][2] is True


COUNTER = {"parent": "counter_0", "relation": "on"}


def test_same_arg_binds_first_satisfactions_and_invalidates_only_the_later():
    # partnr-planner's SameArgConstraint: the cup (on table_0 from t=0) is the pivot; the book,
    # first satisfied on counter_0 at t=1, is invalid, the cup stays valid: 1/2.
    c = {"type": "SameArgConstraint", "proposition_indices": [0, 1],
         "arg_names": ["receptacle_handles"] * 2}  # fmt: skip
    t = task([CUP_SOMEWHERE, BOOK_SOMEWHERE], constraints=[c])
    apart = [snap(), snap(book_0=COUNTER)]
    assert evaluate(HOUSE, t, apart)["valid"] == [True, False]
    assert evaluate(HOUSE, t, apart)["percent_complete"] == 0.5
    assert evaluate(HOUSE, t, apart, semantics="final")["percent_complete"] == 0.0
    # The cup then joins the book on counter_0: first bindings still differ (PARTNR: 1/2);
    # the final bindings agree (the earlier variant: success).
    joined = [*apart, snap(book_0=COUNTER, cup_0=COUNTER)]
    assert evaluate(HOUSE, t, joined)["percent_complete"] == 0.5
    assert evaluate(HOUSE, t, joined, semantics="final")["success"] == 1.0


def test_different_arg_checks_each_later_one_against_all_earlier():
    # Three propositions on table_0 or counter_0: cup (t=0, table), book (t=1, counter),
    # lamp (t=2, table): the lamp shares table_0 with the cup, so only it is invalid: 2/3.
    lamp_somewhere = prop("is_on_top", object_handles=["lamp_0"], receptacle_handles=SURFACES)
    c = {"type": "DifferentArgConstraint", "proposition_indices": [0, 1, 2],
         "arg_names": ["receptacle_handles"] * 3}  # fmt: skip
    t = task([CUP_SOMEWHERE, BOOK_SOMEWHERE, lamp_somewhere], constraints=[c])
    lamp = {"parent": "table_0", "relation": "on"}
    states = [snap(), snap(book_0=COUNTER), snap(book_0=COUNTER, lamp_0=lamp)]
    assert evaluate(HOUSE, t, states)["valid"] == [True, True, False]
    assert evaluate(HOUSE, t, states)["percent_complete"] == 2 / 3
    assert evaluate(HOUSE, t, states, semantics="final")["percent_complete"] == 0.0


def test_no_proposition_scores_zero_as_in_partnr():
    assert evaluate(HOUSE, task([]), [snap()])["percent_complete"] == 0.0
    with pytest.raises(ValueError, match="semantics"):
        evaluate(HOUSE, task([CUP_ON_BED]), [snap()], semantics="latest")


def test_unknown_kinds_are_named():
    with pytest.raises(ValueError, match="SoonConstraint"):
        evaluate(HOUSE, task([CUP_ON_BED], constraints=[{"type": "SoonConstraint"}]), [snap()])
    with pytest.raises(ValueError, match="during_satisfied"):
        evaluate(
            HOUSE, task([CUP_ON_BED, CUP_ON_BED], dependencies=[dep("during_satisfied")]), [snap()]
        )

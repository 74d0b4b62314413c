"""Error injection and the instances' goal states."""

from __future__ import annotations

from reprolab.papers.rein import data, errors
from reprolab.tools import state_diff

CFG = {"domains": ["retail", "airline"], "n_tasks": 2, "clean": True,
       "error_types": list(errors.ERROR_TYPES)}  # fmt: skip


def test_every_task_gets_each_error_type_and_a_clean_version():
    rows = data.instances(CFG)
    assert len(rows) == 2 * 2 * 7
    assert sum(r["seen"] is True for r in rows) == 16
    assert sum(r["seen"] is False for r in rows) == 8
    assert len({r["id"] for r in rows}) == len(rows)
    by = {r["id"]: r for r in rows}
    assert by["r1.unsupported_operation"]["utterance"] == (
        "Please split order W2001 into two separate shipments."
    )
    assert by["a2.contradiction"]["utterance"] == (
        "Please add a checked bag to reservation R403, but keep it exactly as it is."
    )
    assert by["r1.vague_reference"]["expected"] == "internal_error_report"
    assert by["a1.unsupported_domain"]["expected"] == "transfer_to_human_agents"
    assert by["a1.unsupported_domain"]["seen"] is False


def test_a_vague_reference_leaves_two_candidates_of_the_tasks_status():
    source = data.materials()
    for domain, kind in (("retail", "orders"), ("airline", "reservations")):
        spec = source[domain]
        for task in spec["tasks"]:
            owned = spec["database"]["users"][task["user"]][kind]
            statuses = {spec["database"][kind][o]["status"] for o in owned}
            assert len(owned) == 2 and len(statuses) == 1, task["id"]
            assert task["object"] in owned


def test_goal_states():
    rows = {r["id"]: r for r in data.instances(CFG)}
    clean = rows["r1.clean"]
    assert state_diff(clean["database"], clean["goal"]) == [
        {"path": "orders.W2001.status", "op": "change", "before": "pending", "after": "cancelled"}
    ]
    bag = rows["a2.clean"]
    assert state_diff(bag["database"], bag["goal"]) == [
        {"path": "reservations.R403.bags", "op": "change", "before": 0, "after": 1}
    ]
    for error in errors.ERROR_TYPES:  # an error instance's goal: nothing changes
        assert rows[f"r2.{error}"]["goal"] == rows[f"r2.{error}"]["database"]


def test_categories_and_seen_split():
    assert set(errors.SEEN) | set(errors.UNSEEN) == set(errors.ERROR_TYPES)
    assert {errors.CATEGORY[e] for e in errors.UNSEEN} == {"ambiguous", "unsupported"}
    assert errors.recovery_tool("contradiction") == "internal_error_report"
    assert errors.recovery_tool("unsupported_parameter") == "transfer_to_human_agents"

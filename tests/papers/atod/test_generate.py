"""The generator: graph, walk, goal counts, dependencies, and gold labels that agree with the
dialogue they were written with."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from reprolab.papers.atod import generate as gen
from reprolab.papers.atod import lifecycle as lc
from reprolab.papers.atod import ontology

CFG = {
    "exploration": 0.3,
    "goal_counts": {"p_low": 0.65, "low": [2, 8], "high": [7, 12]},
    "goal_grid": [2, 5, 9, 12],
    "per_count": 3,
    "min_turns": 4,
    "grammar": {
        "outcomes": {"failed": 0.2, "abandoned": 0.15},
        "p_async": 0.4,
        "p_proactive": 0.5,
        "p_interleave": 0.4,
        "max_pairs": 80,
        "complex_above": 4,
    },
}


@pytest.fixture(scope="module")
def dialogues():
    return gen.generate(CFG, 3)


def test_graph_counts_consecutive_goals():
    nodes, edges = gen.cooccurrence_graph([["a", "b", "c"], ["a", "b"]])
    assert nodes == Counter({"a": 2, "b": 2, "c": 1})
    assert edges == Counter({("a", "b"): 2, ("b", "c"): 1})


def test_walk_without_exploration_follows_edges():
    nodes, edges = gen.cooccurrence_graph([["a", "b", "c"], ["c", "d"]])
    for seed in range(20):
        walk = gen.random_walk(random.Random(seed), nodes, edges, 4, 0.0)
        assert len(set(walk)) == len(walk) == 4
        for x, y in zip(walk, walk[1:], strict=False):  # an edge whenever one is left
            if any(a == x and b not in walk[: walk.index(y)] for a, b in edges):
                assert (x, y) in edges


def test_goal_count_follows_the_note():
    rng = random.Random(0)
    counts = [gen.goal_count(rng, CFG["goal_counts"]) for _ in range(4000)]
    assert min(counts) == 2 and max(counts) == 12
    # P(<= 6) = 0.65 * 5/7 (low range 2-8) = 0.464; 7-8 come from both ranges
    assert sum(c <= 6 for c in counts) / len(counts) == pytest.approx(0.65 * 5 / 7, abs=0.03)


def test_rule_dependencies_need_both_goals_in_order():
    rules = ontology.load()["dependencies"]
    deps = gen.dependencies(["book_flight", "check_weather", "book_hotel"], rules)
    assert deps["book_hotel"] == ["book_flight"] and deps["check_weather"] == []
    assert gen.dependencies(["book_hotel", "book_flight"], rules)["book_hotel"] == []


def test_the_grid_gives_known_goal_numbers(dialogues):
    assert sorted(d["n_goals"] for d in dialogues) == sorted([2, 5, 9, 12] * 3)
    assert {d["complexity_class"] for d in dialogues if d["n_goals"] > 4} == {"complex"}
    assert gen.generate(CFG, 3) == dialogues  # seeded


def test_gold_labels_agree_with_the_turns(dialogues):
    for d in dialogues:
        goals = {g["id"]: g for g in d["goal_list"]}
        replay = {gid: lc.NOT_MENTIONED for gid in goals}
        history = {gid: [] for gid in goals}
        for t in d["turns"]:
            for ch in t["goal_status_changes"]:
                assert ch["from"] == replay[ch["goal_id"]]
                assert lc.allowed(ch["from"], ch["to"])
                replay[ch["goal_id"]] = ch["to"]
                history[ch["goal_id"]].append({"turn": t["turn_id"], "status": ch["to"]})
            assert t["all_goals"] == replay  # the per-turn snapshot
        for gid, g in goals.items():
            assert g["status"] == replay[gid] and g["status_history"] == history[gid]
            lc.check_history(g["status_history"])
            # every goal is introduced by the user, by an utterance that names it
            first = d["turns"][g["first_mentioned_turn"]]
            assert first["speaker"] == "USER"
            assert ontology.patterns()[g["intent"]].search(first["utterance"])


def test_dependent_goals_wait_for_their_prerequisites(dialogues):
    seen = 0
    for d in dialogues:
        goals = {g["id"]: g for g in d["goal_list"]}
        for g in goals.values():
            for pre in g["dependencies"]:
                seen += 1
                if g["status"] == lc.COMPLETED:
                    assert goals[pre]["status"] == lc.COMPLETED
                    assert goals[pre]["completion_turn"] < g["completion_turn"]
    assert seen > 0


def test_async_completions_are_proactive_turns(dialogues):
    from reprolab.papers.atod.atod_eval import proactive_turns

    announced = [(t, gid) for d in dialogues for t in d["turns"] for gid in t["proactive_goals"]]
    assert announced  # the grammar writes asynchronous completions
    for t, gid in announced:
        assert t["speaker"] == "SYSTEM"
        assert {"goal_id": gid, "from": lc.PENDING, "to": lc.COMPLETED} in t["goal_status_changes"]
    assert sum(len(proactive_turns(d)) for d in dialogues) > 0


def test_outcomes_cover_the_lifecycle(dialogues):
    finals = Counter(g["status"] for d in dialogues for g in d["goal_list"])
    assert {lc.COMPLETED, lc.FAILED, lc.ABANDONED} <= set(finals)

"""Set selection and the pooled per-item values behind the claims."""

from __future__ import annotations

import pytest

from reprolab.papers.acqsynth import sets, summary

CFG = {
    "data": {"family": "math"},
    "student": {"n_train": 2, "model": "s"},
    "generator": {"acquisitions": ["confidence", "gradient"]},
    "baselines": {"filtered": ["confidence"]},
    "control": {"acquisitions": ["gradient"], "null_acquisition": "gradient"},
    "transfer": {"students": [], "sets": []},
}
POOL = [{"id": f"p{k}", "family": "math"} for k in range(6)]
SCORES = [{"id": f"p{k}", "gradient": float(v)} for k, v in enumerate([5, 1, 9, 3, 9, 0])]


def test_names_and_sources():
    assert sets.names(CFG) == [
        "gen_confidence", "gen_gradient", "untrained", "random", "filtered_confidence",
        "pool_gradient", "pool_random", "pool_planted", "pool_null",
    ]  # fmt: skip
    assert sets.sources("filtered_confidence") == ["synth/untrained.jsonl", "acq/untrained.jsonl"]
    assert sets.sources("pool_planted") == ["data/test.jsonl"]
    with pytest.raises(ValueError):
        sets.sources("nothing")


def test_top_selection_takes_the_highest_values_ties_in_order():
    files = {"data/pool.jsonl": POOL, "acq/pool.jsonl": SCORES}
    assert [r["id"] for r in sets.select("pool_gradient", files, CFG, 0)] == ["p2", "p4"]


def test_null_selection_shuffles_the_values_and_random_is_seeded():
    files = {"data/pool.jsonl": POOL, "acq/pool.jsonl": SCORES}
    nulls = {tuple(r["id"] for r in sets.select("pool_null", files, CFG, s)) for s in range(20)}
    assert len(nulls) > 3  # not the acquisition ranking every time
    a = sets.select("pool_random", files, CFG, 3)
    assert a == sets.select("pool_random", files, CFG, 3) and len(a) == 2


def test_planted_set_is_every_test_item_of_the_target_family():
    test = [
        {"id": "f0", "family": "mcq"},
        {"id": "t0", "family": "math"},
        {"id": "t1", "family": "math"},
        {"id": "t2", "family": "math"},
    ]
    got = sets.select("pool_planted", {"data/test.jsonl": test}, CFG, 0)
    assert [r["id"] for r in got] == ["t0", "t1", "t2"]  # all three, though N is 2


def test_per_set_pools_the_acquisition_students_item_by_item():
    def rows(values):
        return [{"id": f"t{k}", "family": "math", "correct": v} for k, v in enumerate(values)] + [
            {"id": "f0", "family": "mcq", "correct": 1.0}
        ]

    by = {("s", "gen_confidence"): rows([1.0, 0.0]), ("s", "gen_gradient"): rows([0.0, 0.0]),
          ("s", "base"): rows([0.5, 0.5]), ("other", "base"): rows([1.0, 1.0])}  # fmt: skip
    table = summary.per_set(by, CFG)
    assert table["primary.gen_all"]["correct"] == (["t0", "t1"], [0.5, 0.0])
    assert table["primary.gen_all"]["other"] == (["f0"], [1.0])
    assert "transfer.base" not in table  # not a configured student

"""acqsynth's smoke run through Snakemake: what is particular to this paper (the generic
outputs are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_run_trains_the_generator_synthesises_and_scores_every_set(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "acqsynth"
    metrics = json.loads((paper / "metrics.json").read_text())
    for name in ("base", "gen_variance", "untrained", "random", "pool_random", "pool_planted",
                 "pool_null"):  # fmt: skip
        assert 0.0 <= metrics[f"primary.{name}.accuracy"] <= 1.0, name
        assert f"primary.{name}.forgetting_family_accuracy" in metrics
    # Raw acquisition values are logged beside the rewards, every completion a row.
    rows = [json.loads(x) for x in (paper / "rewards" / "variance.jsonl").read_text().splitlines()]
    assert rows and all({"raw", "reward", "r_xml", "parseable"} <= set(r) for r in rows)
    assert all(0.0 <= r["reward"] <= 2.0 for r in rows)
    # The prefilled item parses: synthesis reached N items and the labels were checked.
    assert metrics["synth.gen_all_complete"] == 1.0
    assert metrics["synth.untrained.checkable"] > 0
    synth = [json.loads(x) for x in (paper / "synth" / "untrained.jsonl").read_text().splitlines()]
    assert all({"generator_answer", "label_support", "checkable"} <= set(r) for r in synth)
    units = json.loads((paper / "units.json").read_text())["samples"]
    assert units["primary.gen_all.correct"]["ids"] == units["primary.untrained.correct"]["ids"]
    assert units["primary.base.other"]["unit"] == "item"

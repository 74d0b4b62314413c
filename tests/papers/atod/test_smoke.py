"""atod's smoke run through Snakemake: what is particular to this paper (the generic outputs are
checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_run_scores_every_evaluator_arm(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "atod"
    metrics = json.loads((paper / "metrics.json").read_text())
    arms = ["memory-lm", "full_context-lm", "summary-lm", "memory-cue", "full_context-cue",
            "full_context_unbounded-cue"]  # fmt: skip
    for arm in arms:
        for name in ("status_accuracy", "detection_f1", "mra"):
            assert 0 <= metrics[f"{arm}.{name}"] <= 1, (arm, name)
        assert metrics[f"{arm}.tokens_per_turn"] > 0
    assert metrics["data.illegal_transitions"] == 0
    # the cue reader over the whole dialogue reads what the grammar wrote
    assert metrics["full_context_unbounded-cue.status_accuracy"] >= 0.95
    # the smoke window (96 tokens) is shorter than every smoke dialogue: the windowed judge
    # reads fewer tokens than the whole-dialogue one
    assert metrics["data.long_dialogues"] == metrics["data.n_dialogues"]
    assert (
        metrics["full_context-cue.tokens_per_turn"]
        < metrics["full_context_unbounded-cue.tokens_per_turn"]
    )
    rows = [json.loads(x) for x in (paper / "eval" / "episodes.jsonl").read_text().splitlines()]
    kinds = {(r["system"], r["kind"]) for r in rows}
    assert ("memory-lm", "embed") in kinds and ("memory-lm", "score_calibrated") in kinds
    assert ("summary-lm", "generate") in kinds
    assert not [k for s, k in kinds if s.endswith("-cue") and k == "score_calibrated"]
    units = json.loads((paper / "units.json").read_text())["samples"]
    assert units["memory-lm.status_accuracy"]["unit"] == "dialogue"
    assert (
        units["memory-lm.status_accuracy"]["ids"] == units["full_context-lm.status_accuracy"]["ids"]
    )

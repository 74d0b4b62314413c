"""vars's smoke run through Snakemake: what is particular to this paper (the generic outputs
are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_run_steps_every_method_in_lockstep(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "vars"
    metrics = json.loads((paper / "metrics.json").read_text())
    for method in ("vanilla", "rag", "reflection", "vars"):
        assert 0 <= metrics[f"collab.{method}.success"] <= 1
        assert metrics[f"collab.{method}.profiles"] == 3
    # the oracle drafts are right: a session ends in success unless style keeps it open
    assert metrics["control.rag.success"] == 1
    assert metrics["control.vars.success"] > 0
    # z_S resets each session; z_L moves only for the methods with vectors
    assert metrics["collab.vars.z_short_norm_start_max"] == 0
    assert metrics["collab.rag.z_long_norm_final"] == 0
    assert metrics["control.vars.z_long_norm_final"] > 0
    rows = [
        json.loads(x) for x in (paper / "eval" / "collab.episodes.jsonl").read_text().splitlines()
    ]
    assert {r["kind"] for r in rows} >= {"embed", "generate", "score_candidates"}
    assert {r["role"] for r in rows} >= {"embed", "rerank", "agent"}
    units = json.loads((paper / "units.json").read_text())["samples"]
    assert units["collab.vars.timeout"]["unit"] == "profile"
    assert units["collab.vars.timeout"]["ids"] == units["collab.reflection.timeout"]["ids"]

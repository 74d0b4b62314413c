"""psibench's smoke run through Snakemake: what is particular to this paper (the generic
outputs are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_run_scores_every_system(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "psibench"
    metrics = json.loads((paper / "metrics.json").read_text())
    systems = [
        "patientpsi-tiny-random-llama",
        "roleplaydoh-tiny-random-llama",
        *(
            f"control_{c}"
            for c in ("replay", "verbose", "diverse", "trajectory", "low_variability")
        ),
    ]
    for system in systems:
        assert 0 <= metrics[f"{system}.verbosity"] <= 100
        assert f"{system}.aggregate" in metrics
    assert metrics["judge.valence.n"] > 0  # the judge ran on the reference turns
    episodes = (
        (paper / "eval" / "run" / "tiny-random-llama.episodes.jsonl").read_text().splitlines()
    )
    rows = [json.loads(x) for x in episodes]
    assert {r["role"] for r in rows} == {"patient", "therapist"}
    assert {r["kind"] for r in rows} == {"generate"}  # one shared model: one batched call a step
    units = json.loads((paper / "units.json").read_text())["samples"]
    assert units["control_replay.valence"]["unit"] == "held-out session"
    assert units["real.valence"]["unit"] == "reference session"
    assert units["real.words"]["ids"] == units["primary.patientpsi.words"]["ids"]

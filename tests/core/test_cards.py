"""Every paper's card and its committed verdicts: readable, complete, thresholds with sources."""

from __future__ import annotations

import json

import pytest
import yaml

from reprolab.claims import (
    SANITY_VERDICTS,
    SCIENCE_VERDICTS,
    near_threshold_without_reason,
    validate_paper_card,
)
from tests.conftest import REPO

PAPERS = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["papers"]
COMMITTED = sorted((REPO / "results").glob("*/*/claims.json"))


@pytest.mark.parametrize("paper", PAPERS)
def test_every_card_is_readable_before_any_job(paper):
    validate_paper_card(paper, str(REPO / "seeds" / f"{paper}.yaml"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_committed_verdicts_match_their_card_and_carry_evidence(path):
    claims = json.loads(path.read_text())
    card = yaml.safe_load((REPO / "seeds" / f"{path.parent.name}.yaml").read_text())
    assert [c["id"] for c in claims["claims"]] == [c["id"] for c in card["claims"]]
    assert {"commit", "packages", "seeds"} <= set(claims["provenance"])
    for c in claims["claims"]:
        verdicts = SCIENCE_VERDICTS if c["kind"] == "science" else SANITY_VERDICTS
        assert c["verdict"] in verdicts, c["id"]
        if c["kind"] == "science" and c["verdict"] in ("reproduced", "contradicted"):
            assert "ci" in c or "p" in c, f"{c['id']}: a verdict without evidence"
    # A card threshold within the interval's half-width of the measurement needs a reason.
    assert near_threshold_without_reason(claims) == []


def test_every_paper_has_committed_verdicts_at_tiny_and_smoke():
    for scale in ("smoke", "tiny"):
        for paper in PAPERS:
            assert (REPO / "results" / scale / paper / "claims.json").exists(), (scale, paper)

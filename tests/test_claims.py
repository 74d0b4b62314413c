"""Claim verdicts from metrics, and the stats they rest on."""

from __future__ import annotations

import pytest

from reprolab.claims import check_claims
from reprolab.stats import bootstrap_ci

CARD = {
    "paper": "p",
    "claims": [
        {"id": "a", "text": "x below 1", "metric": "x", "op": "<", "expected": {"tiny": 1.0}},
        {
            "id": "b",
            "text": "x above y",
            "metric": "x",
            "op": ">=",
            "expected": {"tiny": "y"},
            "margin": -0.1,
        },
        {"id": "c", "text": "full only", "metric": "x", "op": ">", "expected": {"full": 0}},
        {"id": "d", "text": "missing", "metric": "z", "op": ">", "expected": {"tiny": 0}},
    ],
}


def test_verdicts():
    result = check_claims(CARD, {"x": 0.5, "y": 0.55}, "tiny")
    verdicts = {c["id"]: c["verdict"] for c in result["claims"]}
    assert verdicts == {
        "a": "reproduced",
        "b": "reproduced",  # 0.5 >= 0.55 - 0.1
        "c": "not checked at this scale",
        "d": "metric missing",
    }
    assert result["summary"] == {
        "reproduced": 2,
        "not checked at this scale": 1,
        "metric missing": 1,
    }
    again = check_claims(CARD, {"x": 2.0, "y": 2.5}, "tiny")
    assert [c["verdict"] for c in again["claims"][:2]] == ["not reproduced", "not reproduced"]


def test_bootstrap_ci():
    assert bootstrap_ci([1, 1, 1, 1]) == (1.0, 1.0)
    low, high = bootstrap_ci([0, 1] * 50, resamples=2000, seed=1)
    # The normal approximation gives 0.5 +- 1.96 * 0.05 = (0.402, 0.598).
    assert low == pytest.approx(0.40, abs=0.02)
    assert high == pytest.approx(0.60, abs=0.02)
    assert bootstrap_ci([0, 1, 1], seed=3) == bootstrap_ci([0, 1, 1], seed=3)

"""Checking a paper's claims (seeds/<paper>.yaml) against its measured metrics.

A claim compares one metric with a threshold or with another metric:
    metric: grpo_sgd.updated_fraction_bf16
    op: "<"
    expected: {full: 0.0002, tiny: 0.05}   # threshold per scale; absent scales are not checked
A string threshold names another metric ("grpo_adamw.accuracy"); `margin` is added to it.
"""

from __future__ import annotations

import math
import operator

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_CHECKED = "not checked at this scale"
MISSING = "metric missing"


def check_claim(claim: dict, metrics: dict[str, float], scale: str) -> dict:
    result = {
        "id": claim["id"],
        "text": claim["text"],
        "metric": claim["metric"],
        "op": claim["op"],
        "paper_value": claim.get("paper_value"),
        "expected": None,
        "measured": metrics.get(claim["metric"]),
    }
    if claim["op"] not in OPS:
        raise ValueError(f"claim '{claim['id']}': op '{claim['op']}'; expected one of {list(OPS)}")
    if scale not in claim.get("expected", {}):
        return {**result, "verdict": NOT_CHECKED}
    threshold = claim["expected"][scale]
    if isinstance(threshold, str):
        if threshold not in metrics:
            return {**result, "expected": threshold, "verdict": MISSING}
        result["expected"] = f"{threshold} ({metrics[threshold]:.4g})"
        threshold = metrics[threshold] + claim.get("margin", 0.0)
    else:
        result["expected"] = threshold
    measured = result["measured"]
    if measured is None or (isinstance(measured, float) and math.isnan(measured)):
        return {**result, "verdict": MISSING}
    ok = OPS[claim["op"]](measured, threshold)
    return {**result, "verdict": REPRODUCED if ok else NOT_REPRODUCED}


def check_claims(card: dict, metrics: dict[str, float], scale: str) -> dict:
    """claims.json: every claim of the card with expected, measured and verdict."""
    claims = [check_claim(c, metrics, scale) for c in card.get("claims", [])]
    counts: dict[str, int] = {}
    for c in claims:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return {"paper": card.get("paper"), "scale": scale, "summary": counts, "claims": claims}

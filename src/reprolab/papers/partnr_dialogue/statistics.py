"""partnr_dialogue's statistics for the claims engine: measures pooled over messages, with the
episode (the sampled unit) resampled whole; an arm's against another's on the same episodes."""

from __future__ import annotations

import numpy as np


def pooled_ratio(counts: np.ndarray) -> float:
    """Column 0's sum over column 1's sum of the resampled (episodes, 2) counts: information
    novelty pooled over the messages that ground a fact, from per-episode [sum of IN(m),
    messages grounding a fact] (metrics.evidence_units). NaN when the resampled episodes hold
    no such message."""
    total = counts[:, 1].sum()
    return float(counts[:, 0].sum() / total) if total else float("nan")


def pooled_ratio_diff(a: np.ndarray, b: np.ndarray) -> float:
    """pooled_ratio of one arm's episodes minus another's (paired on episodes when both ran
    the same ones): information novelty of LLM messages against the random messenger's."""
    return pooled_ratio(a) - pooled_ratio(b)


def pooled_bsm(counts: np.ndarray) -> float:
    """BSM pooled over the resampled episodes' (episodes, 4) counts [mentioned facts the
    recipient lacked, facts it lacked, mentioned facts it held, facts it held] (metrics.
    bsm_counts per episode): P(mentioned | lacked) - P(mentioned | held). NaN when either
    conditional is undefined."""
    m_new, new, m_known, known = counts.sum(axis=0)
    if not new or not known:
        return float("nan")
    return float(m_new / new - m_known / known)


def pooled_bsm_diff(a: np.ndarray, b: np.ndarray) -> float:
    """pooled_bsm of one arm minus another's: how much more belief-sensitive its messages are."""
    return pooled_bsm(a) - pooled_bsm(b)


STATISTICS = {
    "pooled_ratio": pooled_ratio,
    "pooled_ratio_diff": pooled_ratio_diff,
    "pooled_bsm": pooled_bsm,
    "pooled_bsm_diff": pooled_bsm_diff,
}

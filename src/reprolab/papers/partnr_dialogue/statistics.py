"""partnr_dialogue's statistics for the claims engine: measures pooled over messages, with the
episode (the sampled unit) resampled whole."""

from __future__ import annotations

import numpy as np


def pooled_ratio(counts: np.ndarray) -> float:
    """Column 0's sum over column 1's sum of the resampled (episodes, 2) counts: information
    novelty pooled over the messages that ground a fact, from per-episode [sum of IN(m),
    messages grounding a fact] (metrics.evidence_units). NaN when the resampled episodes hold
    no such message."""
    total = counts[:, 1].sum()
    return float(counts[:, 0].sum() / total) if total else float("nan")


STATISTICS = {"pooled_ratio": pooled_ratio}

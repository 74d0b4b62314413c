"""sgd_rlvr's own statistics for the claims engine (seeds/sgd_rlvr.yaml, `estimate.stat`)."""

from __future__ import annotations

import numpy as np


def gap_difference(
    rl_adamw: np.ndarray, rl_sgd: np.ndarray, sft_adamw: np.ndarray, sft_sgd: np.ndarray
) -> float:
    """How much less the optimizer matters in RL than in SFT: the AdamW-minus-SGD accuracy gap
    in RL minus the same gap in SFT. Negative when SGD loses less ground in RL. Where all four
    arms are scored on the same items (full) the engine resamples them jointly; where each task
    has its own items (tiny) each pair is resampled on its own items, independently."""
    rl_gap = np.mean(rl_adamw) - np.mean(rl_sgd)
    sft_gap = np.mean(sft_adamw) - np.mean(sft_sgd)
    return float(rl_gap - sft_gap)


STATISTICS = {"gap_difference": gap_difference}

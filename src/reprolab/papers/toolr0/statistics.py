"""toolr0's own statistic for the claims engine: the paper's relative gain over the base model."""

from __future__ import annotations

import numpy as np


def relative_gain(variant: np.ndarray, base: np.ndarray) -> float:
    """(mean(variant) - mean(base)) / mean(base): the paper's "+92.5% over the base model" (on
    AST accuracy, per-item 1/0). Undefined (NaN) when the base mean is 0; the engine drops such
    bootstrap replicates, which matters only when the base solves almost nothing."""
    a, b = float(np.mean(variant)), float(np.mean(base))
    return (a - b) / b if b > 0.0 else float("nan")


STATISTICS = {"relative_gain": relative_gain}

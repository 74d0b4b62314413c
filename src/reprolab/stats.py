"""Statistics shared by the papers."""

from __future__ import annotations

import math

import numpy as np


def bootstrap_ci(
    values, resamples: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of values."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts b and c.

    Under the null each discordant pair goes either way with probability 1/2, so the smaller
    count is Binomial(b + c, 1/2); the p-value doubles its lower tail (capped at 1).
    """
    if b < 0 or c < 0:
        raise ValueError(f"McNemar: discordant counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2.0 * tail)


def discordant_pairs(before, after) -> tuple[int, int]:
    """(b, c) of paired binary outcomes: b = right before and wrong after, c = the reverse."""
    x, y = np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)
    if x.shape != y.shape:
        raise ValueError(f"paired outcomes differ in length: {x.shape} vs {y.shape}")
    return int((x & ~y).sum()), int((~x & y).sum())


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h effect size between two proportions: 2 asin(sqrt p1) - 2 asin(sqrt p2)."""
    for p in (p1, p2):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Cohen's h: proportion {p} outside [0, 1]")
    return 2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p2))

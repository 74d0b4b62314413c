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
    """Two-sided exact McNemar p-value from the discordant pair counts b and c: under the null
    each discordant pair goes either way with probability 1/2 (scipy's exact binomial test)."""
    from scipy.stats import binomtest

    if b < 0 or c < 0:
        raise ValueError(f"McNemar: discordant counts must be >= 0, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    return float(binomtest(min(b, c), b + c, 0.5).pvalue)


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


def kendall_tau(x, y) -> float:
    """Kendall's tau-b between x and y (ties handled); NaN with fewer than two points."""
    from scipy.stats import kendalltau

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"Kendall tau: x and y differ in length: {x.shape} vs {y.shape}")
    if x.size < 2:
        return float("nan")
    return float(kendalltau(x, y).statistic)


def mann_kendall(series) -> dict[str, float]:
    """Mann-Kendall trend test of a series in time order: S, its variance, Z and two-sided p.

    S counts later-minus-earlier signs over all pairs; its variance under no trend is
    n(n-1)(2n+5)/18 less the tie correction sum t(t-1)(2t+5)/18 over groups of equal values;
    Z applies the continuity correction (S -/+ 1).
    """
    from scipy.stats import norm

    x = np.asarray(series, dtype=float)
    n = x.size
    if n < 3:
        return {"s": float("nan"), "var_s": float("nan"), "z": float("nan"), "p": float("nan")}
    s = float(sum(np.sign(x[j] - x[i]) for i in range(n - 1) for j in range(i + 1, n)))
    _, counts = np.unique(x, return_counts=True)
    ties = sum(t * (t - 1) * (2 * t + 5) for t in counts if t > 1)
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    if var_s <= 0:
        return {"s": s, "var_s": var_s, "z": 0.0, "p": 1.0}
    z = (s - 1) / math.sqrt(var_s) if s > 0 else (s + 1) / math.sqrt(var_s) if s < 0 else 0.0
    return {"s": s, "var_s": var_s, "z": z, "p": float(2 * norm.sf(abs(z)))}


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (scikit-learn's): P(score of a positive > score of a negative),
    ties count 1/2. NaN when one class is absent."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    if y.shape != s.shape:
        raise ValueError(f"AUC: labels and scores differ in length: {y.shape} vs {s.shape}")
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s))


def linear_fit(x, y) -> dict[str, float]:
    """Least-squares line y = slope * x + intercept and its coefficient of determination R^2."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"linear fit: x and y differ in length: {x.shape} vs {y.shape}")
    if x.size < 2 or np.ptp(x) == 0:
        return {"slope": float("nan"), "intercept": float("nan"), "r2": float("nan")}
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - (residual**2).sum() / total if total > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": float(r2)}


def bootstrap_replicates(
    statistic,
    groups: list[list[np.ndarray]],
    resamples: int,
    rng: np.random.Generator,
    vectorized: bool = False,
) -> np.ndarray:
    """Replicates of statistic(*arrays) under resampling of units.

    `groups` lists the arrays in groups that share their units: the arrays of one group are
    indexed by the same draw (a paired design), different groups are resampled independently.
    The statistic receives the arrays in group order, flattened. A `vectorized` statistic takes
    (resamples, n) arrays and reduces the last axis, all replicates in one call.
    """
    if vectorized:
        drawn = []
        for group in groups:
            n = len(group[0])
            idx = rng.integers(0, n, size=(resamples, n))
            drawn += [a[idx] for a in group]
        return np.asarray(statistic(*drawn), dtype=float)
    out = np.empty(resamples)
    for r in range(resamples):
        drawn = []
        for group in groups:
            n = len(group[0])
            idx = rng.integers(0, n, size=n)
            drawn += [a[idx] for a in group]
        out[r] = statistic(*drawn)
    return out


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The central `level` interval of bootstrap replicates (NaN replicates dropped)."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def permutation_p(observed: float, null, greater: bool = True) -> float:
    """One-sided p of an observed statistic against null draws, (1 + #as extreme) / (1 + N)."""
    draws = np.asarray(null, dtype=float)
    if draws.size == 0:
        return float("nan")
    extreme = (draws >= observed).sum() if greater else (draws <= observed).sum()
    return float((1 + extreme) / (1 + draws.size))


def detectable_effect(standard_error: float, level: float, power: float) -> float:
    """Smallest true effect a two-sided `level` interval excludes from its null with `power`:
    (z_{1-alpha/2} + z_power) * SE, the usual design-stage minimum detectable effect."""
    from scipy.stats import norm

    alpha = 1.0 - level
    return float((norm.ppf(1 - alpha / 2) + norm.ppf(power)) * standard_error)

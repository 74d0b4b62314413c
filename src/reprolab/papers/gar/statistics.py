"""gar's statistics for the claims engine: each receives the resampled per-episode arrays of a
claim's `of` samples (units.py), in order, and returns the claim's estimate.

Each one recomputes a number of metrics.json from those arrays, so on the original episodes it
gives exactly the metric; the engine's bootstrap resamples the episodes.
"""

from __future__ import annotations

import math

import numpy as np

from reprolab.papers.gar.evaluate import observed_crossover
from reprolab.stats import kendall_tau, linear_fit


def pooled_recall(counts: np.ndarray) -> float:
    """Recall pooled over probes from per-episode (answered, asked) rows."""
    total = counts[:, 1].sum()
    return float(counts[:, 0].sum() / total) if total > 0 else math.nan


def pooled_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Pooled recall of a minus pooled recall of b (per-episode (answered, asked) rows)."""
    return pooled_recall(a) - pooled_recall(b)


def _mean_curve(curves: np.ndarray) -> np.ndarray:
    return np.asarray(curves, dtype=float).mean(axis=0)


def gar_tau(curves: np.ndarray) -> float:
    """Kendall tau of the per-turn mean GAR against the turn (metrics' gar_tau, gar_norm_tau)."""
    mean = _mean_curve(curves)
    return kendall_tau(np.arange(1, mean.size + 1), mean)


def gar_drop(curves: np.ndarray) -> float:
    """1 - mean GAR at the last turn / mean GAR at turn 1 (metrics' gar_drop)."""
    mean = _mean_curve(curves)
    return float(1.0 - mean[-1] / mean[0]) if mean[0] > 0 else math.nan


def observed_crossover_slope(reference: np.ndarray, *windows: np.ndarray) -> float:
    """Slope of the observed collapse turn against W over the window sweep (metrics'
    crossover.observed_slope).

    `reference`: per episode rows (turn, answered, collapse fraction) of full attention;
    each window: per episode rows (turn, answered, W). A window's observed crossover is the
    first probe turn from which its recall stays at or below fraction x full recall.
    """
    full_recall = float(reference[:, :, 1].mean())
    fraction = float(reference[0, 0, 2])
    widths, observed = [], []
    for rows in windows:
        turns = rows[0, :, 0]
        recall = dict(zip(turns.tolist(), rows[:, :, 1].mean(axis=0).tolist(), strict=True))
        cross = observed_crossover(recall, full_recall, fraction)
        if not math.isnan(cross):
            widths.append(float(rows[0, 0, 2]))
            observed.append(cross)
    return linear_fit(widths, observed)["slope"] if len(widths) > 1 else math.nan


def crossover_signed_error(reference: np.ndarray, *windows: np.ndarray) -> float:
    """Mean over the sweep's windows of observed - predicted crossover turn (metrics'
    crossover.signed_error); windows where recall never collapses are left out.

    Rows as in observed_crossover_slope, with each episode's predicted crossover as a 4th
    column (0 where it never closed); a window's predicted crossover is the median over the
    episodes that closed.
    """
    full_recall = float(reference[:, :, 1].mean())
    fraction = float(reference[0, 0, 2])
    errors = []
    for rows in windows:
        turns = rows[0, :, 0]
        recall = dict(zip(turns.tolist(), rows[:, :, 1].mean(axis=0).tolist(), strict=True))
        cross = observed_crossover(recall, full_recall, fraction)
        predicted = rows[:, 0, 3]
        crossed = predicted[predicted > 0]  # 0: the episode's channel never closed
        if not math.isnan(cross) and crossed.size:
            errors.append(cross - float(np.median(crossed)))
    return float(np.mean(errors)) if errors else math.nan


STATISTICS = {
    "crossover_signed_error": crossover_signed_error,
    "pooled_diff": pooled_diff,
    "gar_tau": gar_tau,
    "gar_drop": gar_drop,
    "observed_crossover_slope": observed_crossover_slope,
}

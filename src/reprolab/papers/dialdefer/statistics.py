"""dialdefer's statistics for the claims engine, over per-item values (units.json).

The paper averages over domains (macro); every statistic here takes the items' domain codes as
its last array and averages within domains first. The engine resamples items (paired: all the
arrays of a claim are indexed by the same draw), so a domain can be thin in a draw; one absent
from a draw is left out of that draw's average.

Shapes: a per-item array has one value per item; `paras` has one column per paraphrase.
"""

from __future__ import annotations

import numpy as np

from reprolab.papers.dialdefer.evaluate import domain_means


def macro(values: np.ndarray, domain: np.ndarray) -> np.ndarray:
    """The mean over domains of the within-domain mean (per column when values is 2-D)."""
    return domain_means(np.asarray(values, dtype=float).T, np.asarray(domain)).mean(axis=-1)


def macro_mean(values: np.ndarray, domain: np.ndarray) -> float:
    """Macro mean of a per-item quantity (DDS, accuracy change)."""
    return float(macro(values, domain))


def abs_macro_beyond_floor(dds: np.ndarray, shifts: np.ndarray, domain: np.ndarray) -> float:
    """|macro DDS| minus the paraphrase noise floor on the same items: the mean over paraphrases
    and framings of |macro format-only shift| (the project's noise_floor.mean_abs, continuous)."""
    return float(abs(macro(dds, domain)) - np.mean(np.abs(macro(shifts, domain))))


def _floor(base: np.ndarray, paras: np.ndarray, domain: np.ndarray) -> float:
    """How far a rewording of the prompt moves the macro DDS: mean_k |DDS(para_k) - DDS(base)|."""
    return float(np.mean(np.abs(macro(paras, domain) - macro(base, domain))))


def abs_change_beyond_floor(
    arm: np.ndarray, base: np.ndarray, paras: np.ndarray, domain: np.ndarray
) -> float:
    """Change of |macro DDS| from the paper prompt to an arm (a mitigation), plus the paraphrase
    floor: below 0 only when |DDS| falls by more than a rewording moves the DDS."""
    change = abs(macro(arm, domain)) - abs(macro(base, domain))
    return float(change + _floor(base, paras, domain))


def swing_beyond_floor(
    first: np.ndarray,
    second: np.ndarray,
    base: np.ndarray,
    paras: np.ndarray,
    domain: np.ndarray,
) -> float:
    """macro DDS(first) - macro DDS(second) (the speaker-label swing) less the paraphrase floor:
    above 0 only when the swing exceeds what a rewording moves the DDS."""
    swing = macro(first, domain) - macro(second, domain)
    return float(swing - _floor(base, paras, domain))


def _by_domain(values: np.ndarray, domain: np.ndarray) -> np.ndarray:
    """Within-domain means: one per domain present (per column, columns first, when 2-D)."""
    return domain_means(np.asarray(values, dtype=float).T, np.asarray(domain))


def _largest(means: np.ndarray) -> np.ndarray:
    return np.abs(means).max(axis=-1)


def _opposite(means: np.ndarray) -> np.ndarray:
    return np.minimum(means.max(axis=-1), (-means).max(axis=-1))


def max_domain_beyond_floor(dds: np.ndarray, shifts: np.ndarray, domain: np.ndarray) -> float:
    """Largest |domain DDS| less the paraphrase null built the same way: the largest |domain
    format-only shift| over the same domains, for each paraphrase and framing, averaged. Both
    are maxima over the same domains of the same summed P(yes) shifts, so a judge without a
    framing effect sits at 0 (the maximum over domains is not compared with one domain's floor,
    which a maximum of noise would beat)."""
    return float(_largest(_by_domain(dds, domain)) - _largest(_by_domain(shifts, domain)).mean())


def opposite_signs_beyond_floor(dds: np.ndarray, shifts: np.ndarray, domain: np.ndarray) -> float:
    """min(most deferent domain's DDS, minus the most skeptical one's) less the same statistic
    of the format-only shifts (each paraphrase and framing, averaged): above 0 only when one
    domain defers and another is skeptical by more than rewording the prompt spreads them."""
    return float(_opposite(_by_domain(dds, domain)) - _opposite(_by_domain(shifts, domain)).mean())


def abs_dds_beyond_abs_acc(dds: np.ndarray, acc_change: np.ndarray, domain: np.ndarray) -> float:
    """|macro DDS| - |macro accuracy change|: DDS large while accuracy stays flat."""
    return float(abs(macro(dds, domain)) - abs(macro(acc_change, domain)))


STATISTICS = {
    "macro_mean": macro_mean,
    "abs_macro_beyond_floor": abs_macro_beyond_floor,
    "abs_change_beyond_floor": abs_change_beyond_floor,
    "swing_beyond_floor": swing_beyond_floor,
    "abs_dds_beyond_abs_acc": abs_dds_beyond_abs_acc,
    "max_domain_beyond_floor": max_domain_beyond_floor,
    "opposite_signs_beyond_floor": opposite_signs_beyond_floor,
}

"""psibench's statistics for the claims engine (seeds/psibench.yaml, `estimate.stat`).

PSI-Bench's scores are population statistics (per-turn label distributions, MTLD
distributions, pooled marker rates), so each claim's statistic recomputes the scores from the
per-session rows in units.json on every bootstrap draw. Two samples: the reference sessions
(unit "reference session": the k-th one and the sessions simulated from its profile, paired)
and the held-out sessions (unit "held-out session": the k-th one replayed and perturbed by each
control, paired). They are independent samples of different sizes (8 and 32 at tiny), so the
claims engine draws them independently, each with its pairs kept.

Encodings (evaluate.units): valence codes 0 negative, 1 positive, -1 neutral / failed / no turn;
PTC codes 0 P, 1 T, 2 C, -1 F / failed / no turn; words and words-per-sentence per turn, -1 for
no turn; MTLD one value, -1 when undefined (< min tokens); markers [combined, tokens, messages,
messages with a marker]; first_positive one value.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance


def js_score_codes(real: np.ndarray, sim: np.ndarray, k: int) -> float:
    """(1 - mean over turn indices of the JS distance) * 100 from (sessions, turns) codes."""
    js = []
    for t in range(real.shape[1]):
        r = np.bincount(real[:, t][real[:, t] >= 0].astype(int), minlength=k)[:k]
        s = np.bincount(sim[:, t][sim[:, t] >= 0].astype(int), minlength=k)[:k]
        if r.sum() and s.sum():
            js.append(jensenshannon(r / r.sum(), s / s.sum()))
    return (1 - float(np.mean(js))) * 100 if js else float("nan")


def _turn_means(values: np.ndarray) -> float:
    means = [
        values[:, t][values[:, t] >= 0].mean()
        for t in range(values.shape[1])
        if (values[:, t] >= 0).any()
    ]
    return float(np.mean(means)) if means else float("nan")


def _closeness(sim: float, real: float) -> float:
    if not (sim > 0 and real > 0):
        return float("nan")
    return 100 * math.exp(-abs(math.log(sim / real)))


def verbosity_codes(rw, rs, sw, ss) -> float:
    return float(
        np.mean(
            [
                _closeness(_turn_means(sw), _turn_means(rw)),
                _closeness(_turn_means(ss), _turn_means(rs)),
            ]
        )
    )


def _mtld(values: np.ndarray) -> np.ndarray:
    return values[values >= 0]


def _w(real: np.ndarray, sim: np.ndarray) -> float:
    r, s = _mtld(real), _mtld(sim)
    return float(wasserstein_distance(r, s)) if len(r) and len(s) else float("nan")


def _sd(values: np.ndarray) -> float:
    v = _mtld(values)
    return float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")


# --- planted controls: the replay (a) against a control (b) ------------------------------------


def valence_gap(real, replay, control) -> float:
    """Valence score of the replay minus the control's (> 0: the control is detected)."""
    return js_score_codes(real, replay, 2) - js_score_codes(real, control, 2)


def ptc_gap(real, replay, control) -> float:
    return js_score_codes(real, replay, 3) - js_score_codes(real, control, 3)


def verbosity_gap(rw, rs, aw, as_, bw, bs) -> float:
    return verbosity_codes(rw, rs, aw, as_) - verbosity_codes(rw, rs, bw, bs)


def mtld_distance_gap(real, replay, control) -> float:
    """Wasserstein distance to the real MTLD values, the control's minus the replay's."""
    return _w(real, control) - _w(real, replay)


def mtld_sd_ratio(base, other) -> float:
    """SD of MTLD across sessions, `other` over `base` (< 1: `other` varies less)."""
    a, b = _sd(base), _sd(other)
    return b / a if a > 0 else float("nan")


# --- the paper's findings: the simulators (one or more frameworks) against the reference --------


def words_ratio(real, *sims) -> float:
    """Mean words per turn (averaged over turn indices), simulators over real, averaged over
    the frameworks given."""
    r = _turn_means(real)
    return float(np.mean([_turn_means(s) / r for s in sims]))


def mtld_diff(real, *sims) -> float:
    """Mean MTLD of the simulated sessions minus the real sessions', averaged over frameworks."""
    r = _mtld(real)
    diffs = [_mtld(s).mean() - r.mean() for s in sims if len(_mtld(s)) and len(r)]
    return float(np.mean(diffs)) if diffs else float("nan")


def mtld_sd_ratio_sims(real, *sims) -> float:
    return float(np.mean([mtld_sd_ratio(real, s) for s in sims]))


def first_positive_diff(real, *sims) -> float:
    """Where sessions first turn positive (fraction of their turns), simulated minus real."""
    return float(np.mean([np.mean(s) - np.mean(real) for s in sims]))


# --- the null control: the replay against every other system --------------------------------

SYSTEM_ARRAYS = ("valence", "ptc", "words", "wps", "mtld", "markers")


def _marker_totals(rows: np.ndarray) -> dict[str, float]:
    combined, tokens, messages, with_marker = rows.sum(axis=0)
    return {
        "combined": combined,
        "tokens": tokens,
        "messages": messages,
        "messages_with_marker": with_marker,
        "first_person": 0.0,
        "social": 0.0,
    }


def aggregates(*arrays) -> list[float]:
    """PSI-Bench's aggregate (equal weights, as config metrics.weights) of each system given
    after the reference, from `SYSTEM_ARRAYS` per system (reference first): valence, PTC,
    verbosity and marker scores against the reference, MTLD min-max over these systems."""
    from reprolab.papers.psibench import measures

    k = len(SYSTEM_ARRAYS)
    blocks = [arrays[i : i + k] for i in range(0, len(arrays), k)]
    rv, rp, rw, rs, rm, rk = blocks[0]
    real_markers = _marker_totals(rk)
    scores, distances = [], {"real": 0.0}
    for i, (v, p, w, s, m, markers) in enumerate(blocks[1:]):
        scores.append(
            {
                "valence": js_score_codes(rv, v, 2),
                "ptc": js_score_codes(rp, p, 3),
                "verbosity": verbosity_codes(rw, rs, w, s),
                "markers": measures.marker_score(real_markers, _marker_totals(markers)),
            }
        )
        distances[i] = _w(rm, m)
    mtld = measures.minmax_scores(distances)
    weights = dict.fromkeys(("mtld", "valence", "ptc", "verbosity", "markers"), 1.0)
    return [measures.aggregate({**sc, "mtld": mtld[i]}, weights) for i, sc in enumerate(scores)]


def replay_lead(*arrays) -> float:
    """The replay's aggregate (the first system after the reference) minus the best aggregate of
    the other systems: >= 0 when the replay ranks first, the gap to the leader otherwise."""
    agg = aggregates(*arrays)
    others = [a for a in agg[1:] if not math.isnan(a)]
    return agg[0] - max(others) if others else float("nan")


STATISTICS = {
    "valence_gap": valence_gap,
    "ptc_gap": ptc_gap,
    "verbosity_gap": verbosity_gap,
    "mtld_distance_gap": mtld_distance_gap,
    "mtld_sd_ratio": mtld_sd_ratio,
    "words_ratio": words_ratio,
    "mtld_diff": mtld_diff,
    "mtld_sd_ratio_sims": mtld_sd_ratio_sims,
    "first_positive_diff": first_positive_diff,
    "replay_lead": replay_lead,
}

"""Every system scored against the reference sessions: PSI-Bench's five scores, the aggregate,
the paper's descriptive quantities, the judge's agreement with the stand-ins, and the per-session
evidence (units.json) behind each claim."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from reprolab.papers.psibench import measures

SCORES = ("mtld", "valence", "ptc", "verbosity", "markers")


def first_positive(valence: Sequence[str | None]) -> float:
    """Where a session first turns positive, as a fraction of its patient turns (0 = the first
    turn, 1 = never) [recon: the note's 'emotion resolution speed' without its formula]."""
    n = len(valence)
    for t, v in enumerate(valence):
        if v == "positive":
            return t / n
    return 1.0


def describe(messages: list[list[str]], labels: list[dict], mcfg: dict) -> dict[str, float]:
    """A system's own quantities (no reference needed)."""
    mtlds = [
        measures.session_mtld(m, mcfg["mtld_threshold"], mcfg["mtld_min_tokens"]) for m in messages
    ]
    defined = [v for v in mtlds if not math.isnan(v)]
    wpt, wps = measures.per_turn_means(messages, mcfg["max_turns"])
    rates = measures.marker_rates(measures.marker_totals(messages))
    return {
        "sessions": float(len(messages)),
        "patient_turns": float(sum(len(m) for m in messages)),
        "mtld_sessions": float(len(defined)),
        "mtld_mean": float(np.mean(defined)) if defined else float("nan"),
        "mtld_sd": float(np.std(defined, ddof=1)) if len(defined) > 1 else float("nan"),
        "words_per_turn": wpt,
        "words_per_sentence": wps,
        "combined_ptk": rates["combined_ptk"],
        "combined_msg": rates["combined_msg"],
        "self_focus_ratio": rates["self_focus_ratio"],
        "first_positive": float(np.mean([first_positive(lab["valence"]) for lab in labels])),
        "positive_share": _share(labels, "valence", "positive"),
        "change_share": _share(labels, "ptc", "C"),
    }


def _share(labels: list[dict], key: str, value: str) -> float:
    flat = [x for lab in labels for x in lab[key] if x is not None]
    return sum(x == value for x in flat) / len(flat) if flat else float("nan")


def scores(real: tuple[list, list], sim: tuple[list, list], mcfg: dict) -> dict[str, float]:
    """Valence, PTC, verbosity and marker scores of one system against the reference, and its
    MTLD Wasserstein distance (the MTLD score needs every system: `mtld_scores`)."""
    (rm, rl), (sm, sl) = real, sim
    turns = mcfg["max_turns"]
    th, low = mcfg["mtld_threshold"], mcfg["mtld_min_tokens"]
    return {
        "valence": measures.js_score(
            [x["valence"] for x in rl], [x["valence"] for x in sl], measures.VALENCE_LABELS, turns
        ),
        "ptc": measures.js_score(
            [x["ptc"] for x in rl], [x["ptc"] for x in sl], measures.PTC_LABELS, turns
        ),
        "verbosity": measures.verbosity_score(rm, sm, turns),
        "markers": measures.marker_score(measures.marker_totals(rm), measures.marker_totals(sm)),
        "mtld_wasserstein": measures.wasserstein(
            [measures.session_mtld(m, th, low) for m in rm],
            [measures.session_mtld(m, th, low) for m in sm],
        ),
    }


def mtld_scores(by_system: dict[str, dict]) -> None:
    """The MTLD score of every system, min-max over the run's systems and Real (W = 0)."""
    distances = {"real": 0.0, **{k: v["mtld_wasserstein"] for k, v in by_system.items()}}
    for k, v in measures.minmax_scores(distances).items():
        if k != "real":
            by_system[k]["mtld"] = v


def with_aggregate(by_system: dict[str, dict], weights: dict[str, float]) -> None:
    for v in by_system.values():
        v["aggregate"] = measures.aggregate({k: v[k] for k in SCORES if k in v}, weights)


# --- per-session evidence (units.json) ----------------------------------------------------------

VALENCE_CODES = {"negative": 0, "positive": 1}
PTC_CODES = {"P": 0, "T": 1, "C": 2}


def _codes(seq, table, width: int) -> list[float]:
    out = [float(table.get(x, -1)) if x is not None else -1.0 for x in seq[:width]]
    return out + [-1.0] * (width - len(out))


def session_units(messages: list[str], labels: dict, mcfg: dict) -> dict[str, list | float]:
    """One session's rows for units.json (see statistics.py for the encodings)."""
    width = mcfg["max_turns"]
    words = [float(measures.n_words(m)) for m in messages[:width]]
    wps = [measures.n_words(m) / max(measures.n_sentences(m), 1) for m in messages[:width]]
    value = measures.session_mtld(messages, mcfg["mtld_threshold"], mcfg["mtld_min_tokens"])
    totals = measures.marker_totals([messages])
    return {
        "valence": _codes(labels["valence"], VALENCE_CODES, width),
        "ptc": _codes(labels["ptc"], PTC_CODES, width),
        "words": words + [-1.0] * (width - len(words)),
        "wps": [float(x) for x in wps] + [-1.0] * (width - len(wps)),
        "mtld": -1.0 if math.isnan(value) else float(value),
        "markers": [
            totals["combined"],
            totals["tokens"],
            totals["messages"],
            totals["messages_with_marker"],
        ],
        "first_positive": first_positive(labels["valence"]),
    }

"""PSI-Bench's measures, as the authors' code computes them (nguyenkhoihoang/PSI-bench,
psibench/eval/*.py): pure functions of patient messages and their labels.

Conventions (the note's and the code's): the patient is the `assistant` role, the therapist the
`user`; patient turns are the non-empty assistant messages in order, turn indices t < 16.

- PTC / valence: per turn index, the distribution of labels over conversations (F or neutral
  dropped, renormalised); JS_t = scipy.spatial.distance.jensenshannon(real_t, sim_t) (a distance,
  natural log); turns where either side has no label are skipped; score = (1 - mean_t JS_t) * 100.
- MTLD: lexicalrichness's MTLD (itself the mean of a forward and a backward pass) on a
  conversation's patient text, averaged with the same on the text with its words reversed
  (the authors' `calculate_bidirectional_mtld`, threshold 0.72); conversations under 100
  whitespace tokens are dropped; score from the Wasserstein distance to the real MTLD values,
  min-max rescaled over the systems of the run including Real (W = 0).
- Verbosity: words per turn and words per sentence, each averaged over messages at a turn index
  and then over turn indices; score = mean of 100 * exp(-|ln(x_sim / x_real)|).
- Depressive markers: the authors' regex lexicons (word-boundary patterns); combined = absolutist
  + depressive words + non-fluencies; combined_ptk = count per 1000 "tokens" (len(text) // 4 of
  each conversation's joined patient text, pooled); combined_msg = % of messages with any
  combined marker; score = 100 - (min(100, |d ptk| / ptk_real * 100) + |d msg|) / 2.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

PTC_LABELS = ("P", "T", "C")  # F (filler) is dropped before the distributions
VALENCE_LABELS = ("negative", "positive")  # neutral is dropped before the distributions
MAX_TURNS = 16


# --- lexical diversity --------------------------------------------------------------------------


def lr_tokenize(text: str) -> list[str]:
    """lexicalrichness's default preprocessing and tokenizer: lower case, digits and dashes
    removed, every punctuation character replaced by a space, split on whitespace."""
    text = re.sub(r"[0-9]+", "", text.lower())
    for dash in ("–", "—", "-"):
        text = text.replace(dash, "")
    for p in string.punctuation:
        text = text.replace(p, " ")
    return text.split()


def mtld_pass(words: Sequence[str], threshold: float = 0.72) -> float:
    """One pass of MTLD (McCarthy and Jarvis 2010) as lexicalrichness computes it: count factors
    (segments whose running TTR falls to the threshold), add the partial factor of the last
    segment, and divide the number of words by the factors."""
    terms: set[str] = set()
    counter = 0
    factors = 0.0
    ttr = 1.0
    for word in words:
        counter += 1
        terms.add(word)
        ttr = len(terms) / counter
        if ttr <= threshold:
            counter = 0
            terms = set()
            factors += 1
    if counter > 0:
        factors += (1 - ttr) / (1 - threshold)
    if factors == 0:  # the TTR never left 1: lexicalrichness counts one factor
        whole = len(set(words)) / len(words)
        factors += 1 if whole == 1 else (1 - whole) / (1 - threshold)
    return len(words) / factors


def mtld(words: Sequence[str], threshold: float = 0.72) -> float:
    """lexicalrichness.LexicalRichness(...).mtld(): the mean of the forward and backward pass."""
    if not words:
        return float("nan")
    return (mtld_pass(words, threshold) + mtld_pass(list(reversed(words)), threshold)) / 2


def bidirectional_mtld(text: str, threshold: float = 0.72) -> float:
    """The authors' calculate_bidirectional_mtld: MTLD of the text and of the text with its
    whitespace-separated words reversed, averaged (NaN for an empty text)."""
    if not text or not text.split():
        return float("nan")
    forward = mtld(lr_tokenize(text), threshold)
    backward = mtld(lr_tokenize(" ".join(text.split()[::-1])), threshold)
    if math.isnan(forward) or math.isnan(backward):
        return float("nan")
    return (forward + backward) / 2


def session_mtld(messages: Sequence[str], threshold: float, min_tokens: int) -> float:
    """A conversation's MTLD over its joined patient messages, NaN under `min_tokens` tokens."""
    text = " ".join(messages)
    if len(text.split()) < min_tokens:
        return float("nan")
    return bidirectional_mtld(text, threshold)


def wasserstein(real: Sequence[float], sim: Sequence[float]) -> float:
    from scipy.stats import wasserstein_distance

    real = [v for v in real if not math.isnan(v)]
    sim = [v for v in sim if not math.isnan(v)]
    if not real or not sim:
        return float("nan")
    return float(wasserstein_distance(real, sim))


def minmax_scores(distances: dict[str, float]) -> dict[str, float]:
    """100 * (1 - (W - W_min) / (W_max - W_min)) over the systems of the run, Real (W = 0)
    included by the caller; 100 for all when every distance is equal (the authors' rule)."""
    defined = {k: v for k, v in distances.items() if not math.isnan(v)}
    if not defined:
        return {k: float("nan") for k in distances}
    low, high = min(defined.values()), max(defined.values())
    out = {}
    for k, v in distances.items():
        if math.isnan(v):
            out[k] = float("nan")
        elif high == low:
            out[k] = 100.0
        else:
            out[k] = 100 * (1 - (v - low) / (high - low))
    return out


# --- per-turn distributions -------------------------------------------------------------------


def turn_distributions(
    sessions: Sequence[Sequence[str | None]], labels: Sequence[str], max_turns: int = MAX_TURNS
) -> list[np.ndarray | None]:
    """Per turn index, the share of each label over the sessions that have a kept label there
    (labels outside `labels`, F or neutral or a failed judgement, are dropped); None where
    no session has one."""
    out: list[np.ndarray | None] = []
    for t in range(max_turns):
        counts = Counter(s[t] for s in sessions if t < len(s) and s[t] in labels)
        total = sum(counts.values())
        out.append(np.array([counts[x] / total for x in labels]) if total else None)
    return out


def js_per_turn(real: list, sim: list) -> list[float]:
    """scipy's Jensen-Shannon distance at each turn index where both sides have a distribution."""
    from scipy.spatial.distance import jensenshannon

    return [
        float(jensenshannon(r, s))
        for r, s in zip(real, sim, strict=True)
        if r is not None and s is not None
    ]


def js_score(real_sessions, sim_sessions, labels, max_turns: int = MAX_TURNS) -> float:
    """(1 - mean_t JS_t) * 100; NaN when no turn index has labels on both sides."""
    js = js_per_turn(
        turn_distributions(real_sessions, labels, max_turns),
        turn_distributions(sim_sessions, labels, max_turns),
    )
    return (1 - float(np.mean(js))) * 100 if js else float("nan")


# --- verbosity ----------------------------------------------------------------------------------

SENTENCE_END = re.compile(r"[.!?…]+(?:\s+|$)")


def n_words(text: str) -> int:
    return len(text.split())


def n_sentences(text: str) -> int:
    """Sentences as runs of text closed by . ! ? or an ellipsis (a last unclosed run counts)
    [recon: the note does not name the splitter]."""
    parts = [p for p in SENTENCE_END.split(text.strip()) if p.strip()]
    return max(len(parts), 1) if text.strip() else 0


def per_turn_means(sessions: Sequence[Sequence[str]], max_turns: int = MAX_TURNS):
    """(words per turn, words per sentence), each averaged over the messages at a turn index,
    then over the turn indices that have messages."""
    wpt, wps = [], []
    for t in range(max_turns):
        at = [s[t] for s in sessions if t < len(s)]
        if not at:
            continue
        wpt.append(np.mean([n_words(m) for m in at]))
        wps.append(np.mean([n_words(m) / max(n_sentences(m), 1) for m in at]))
    if not wpt:
        return float("nan"), float("nan")
    return float(np.mean(wpt)), float(np.mean(wps))


def closeness(sim: float, real: float) -> float:
    """100 * exp(-|ln(sim / real)|): 100 when equal, 50 at half or double."""
    if not (sim > 0 and real > 0):
        return float("nan")
    return 100 * math.exp(-abs(math.log(sim / real)))


def verbosity_score(real_sessions, sim_sessions, max_turns: int = MAX_TURNS) -> float:
    real_wpt, real_wps = per_turn_means(real_sessions, max_turns)
    sim_wpt, sim_wps = per_turn_means(sim_sessions, max_turns)
    return float(np.mean([closeness(sim_wpt, real_wpt), closeness(sim_wps, real_wps)]))


# --- depressive markers ---------------------------------------------------------------------------

# The authors' lexicons (psibench/eval/depressive_linguistic_markers.py, DEPRESSIVE_MARKERS),
# word-boundary patterns, case-insensitive, except the first person "I": with IGNORECASE
# `\bI\b` also matches the letter "i" (the note's pitfall), so it is matched case-sensitively
# here. Only absolutist words, depression words and non-fluencies enter the score.
MARKERS: dict[str, list[str]] = {
    "absolutist": [
        r"\b(absolutely|all|always|complete|completely|constant|constantly)\b",
        r"\b(definitely|entire|ever|every|everyone|everything|full)\b",
        r"\b(must|never|nothing|totally|whole)\b",
    ],
    "depressive_words": [
        r"\b(depression|collapse|stress|suicide|apastia|anxious|sad|tired)\b",
        r"\b(death|lonely|insomnia|bad|desperate|give up|low|leave)\b",
        r"\b(fear|danger|close|sensitive|lost|shadow|destroy|suspect)\b",
        r"\b(crash|dark|helpless|guilt|negative|frustration|nervous)\b",
        r"\b(melancholy|rubbish|jump|forget|goodbye|cut wrist|edge|haze)\b",
        r"\b(antidepressant)\b",
    ],
    "non_fluencies": [
        r"\b(uh|um|er|ah|eh|oh|hmm|mm|mmm|hm|huh|mhm)\b",
        r"\b(you know|yknow|y'know|i mean|lets see|let's see)\b",
        r"\.\.\.|…",
    ],
    "first_person_singular": [r"(?-i:\bI\b)", r"\bme\b", r"\bmine\b", r"\bmy\b", r"\bmyself\b"],
    "social_pronouns": [r"\bwe\b", r"\bus\b", r"\bour\b", r"\bours\b", r"\bourselves\b"],
}
COMBINED = ("absolutist", "depressive_words", "non_fluencies")
_COMPILED = {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in MARKERS.items()}


def marker_counts(text: str) -> dict[str, int]:
    return {k: sum(len(p.findall(text)) for p in pats) for k, pats in _COMPILED.items()}


def marker_totals(sessions: Sequence[Sequence[str]]) -> dict[str, float]:
    """Pooled over conversations: combined marker count, tokens (len // 4 of each joined text),
    messages, messages with a combined marker, first-person and social pronoun counts."""
    totals = Counter()
    for messages in sessions:
        messages = [m.strip() for m in messages if m.strip()]
        if not messages:
            continue
        text = " ".join(messages)
        counts = marker_counts(text)
        totals["combined"] += sum(counts[k] for k in COMBINED)
        totals["first_person"] += counts["first_person_singular"]
        totals["social"] += counts["social_pronouns"]
        totals["tokens"] += len(text) // 4
        totals["messages"] += len(messages)
        for m in messages:
            c = marker_counts(m)
            totals["messages_with_marker"] += any(c[k] > 0 for k in COMBINED)
    return {
        k: float(totals[k])
        for k in (
            "combined",
            "tokens",
            "messages",
            "messages_with_marker",
            "first_person",
            "social",
        )
    }


def marker_rates(totals: dict[str, float]) -> dict[str, float]:
    ptk = totals["combined"] / totals["tokens"] * 1000 if totals["tokens"] else 0.0
    msg = totals["messages_with_marker"] / totals["messages"] * 100 if totals["messages"] else 0.0
    social = totals["social"]
    focus = totals["first_person"] / social if social else float("nan")
    return {"combined_ptk": ptk, "combined_msg": msg, "self_focus_ratio": focus}


def marker_score(real: dict[str, float], sim: dict[str, float]) -> float:
    """100 - (ptk distance in % of the real rate, capped at 100, + |d msg| in points) / 2."""
    r, s = marker_rates(real), marker_rates(sim)
    if r["combined_ptk"] <= 0:
        ptk_distance = 0.0 if s["combined_ptk"] <= 0 else 100.0
    else:
        ptk_distance = min(
            100.0, abs(s["combined_ptk"] - r["combined_ptk"]) / r["combined_ptk"] * 100
        )
    return 100.0 - (ptk_distance + abs(s["combined_msg"] - r["combined_msg"])) / 2


# --- aggregate ----------------------------------------------------------------------------------


def aggregate(scores: dict[str, float], weights: dict[str, float]) -> float:
    """The weighted mean of the defined scores (the authors' aggregate_metrics)."""
    pairs = [
        (scores[k], w) for k, w in weights.items() if k in scores and not math.isnan(scores[k])
    ]
    if not pairs:
        return float("nan")
    return float(np.average([s for s, _ in pairs], weights=[w for _, w in pairs]))

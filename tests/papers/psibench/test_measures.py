"""psibench's measures against the reference packages (lexicalrichness, scipy) and hand-computed
cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reprolab.papers.psibench import measures as m

TEXTS = [
    "The cat sat on the mat and the dog sat on the log quite happily today.",
    "I don't know. I really don't know what to do anymore, I just feel tired and sad all the time, "
    "and every day is the same as the day before, the same room, the same couch, the same "
    "thoughts.",
    "Um, well, my mother has dementia, it was diagnosed two years ago -- and since last winter she "
    "lives with me because she kept leaving the stove on and wandering out at night at 3 a.m.",
    "yes yes yes yes yes no no no maybe maybe",
    "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_mtld_matches_lexicalrichness(text):
    from lexicalrichness import LexicalRichness

    lex = LexicalRichness(text)
    assert m.lr_tokenize(text) == lex.wordlist
    assert m.mtld(lex.wordlist) == pytest.approx(lex.mtld(threshold=0.72), rel=1e-12)


@pytest.mark.parametrize("text", TEXTS)
def test_bidirectional_mtld_is_the_authors(text):
    """calculate_bidirectional_mtld: the package's MTLD of the text and of its reversed words."""
    from lexicalrichness import LexicalRichness

    reversed_text = " ".join(text.split()[::-1])
    expected = (LexicalRichness(text).mtld(0.72) + LexicalRichness(reversed_text).mtld(0.72)) / 2
    assert m.bidirectional_mtld(text) == pytest.approx(expected, rel=1e-12)


def test_mtld_by_hand():
    # "a b a b": TTR 1, 1, 2/3 <= 0.72 -> one factor after 3 words; "b" alone leaves TTR 1, a
    # partial factor of 0; 4 words / 1 factor = 4 both ways.
    assert m.mtld_pass(["a", "b", "a", "b"]) == pytest.approx(4.0)
    # All distinct: TTR stays 1, lexicalrichness counts one factor: MTLD = number of words.
    assert m.mtld(["a", "b", "c"]) == pytest.approx(3.0)


def test_session_mtld_drops_short_sessions():
    assert math.isnan(m.session_mtld(["too short"], 0.72, 100))
    assert not math.isnan(m.session_mtld([TEXTS[1]], 0.72, 10))


def test_js_matches_scipy_and_score_by_hand():
    from scipy.spatial.distance import jensenshannon

    real = [["P", "P"], ["T", "C"]]
    sim = [["P", "C"], ["P", "C"]]
    # turn 0: real (1/2, 1/2, 0) vs sim (1, 0, 0); turn 1: real (1/2, 0, 1/2) vs sim (0, 0, 1)
    dists = m.turn_distributions(real, m.PTC_LABELS)
    assert np.allclose(dists[0], [0.5, 0.5, 0]) and dists[2] is None
    js0 = jensenshannon([0.5, 0.5, 0], [1, 0, 0])
    js1 = jensenshannon([0.5, 0, 0.5], [0, 0, 1])
    assert m.js_per_turn(dists, m.turn_distributions(sim, m.PTC_LABELS)) == pytest.approx(
        [js0, js1]
    )
    assert m.js_score(real, sim, m.PTC_LABELS) == pytest.approx((1 - (js0 + js1) / 2) * 100)
    # By hand: JS((1/2,1/2),(1,0)) = sqrt((KL(p||m) + KL(q||m)) / 2) with m = (3/4, 1/4).
    kl_p = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    kl_q = math.log(1 / 0.75)
    assert js0 == pytest.approx(math.sqrt((kl_p + kl_q) / 2))


def test_filler_and_neutral_are_dropped():
    dists = m.turn_distributions([["F", "neutral"], ["P"]], m.PTC_LABELS)
    assert np.allclose(dists[0], [1, 0, 0])
    assert dists[1] is None


def test_minmax_scores_by_hand():
    scores = m.minmax_scores({"real": 0.0, "a": 5.0, "b": 10.0})
    assert scores == {"real": 100.0, "a": 50.0, "b": 0.0}
    assert m.minmax_scores({"real": 0.0, "a": 0.0}) == {"real": 100.0, "a": 100.0}


def test_wasserstein_matches_scipy():
    from scipy.stats import wasserstein_distance

    assert m.wasserstein([1, 2, 3], [2, 4, float("nan")]) == pytest.approx(
        wasserstein_distance([1, 2, 3], [2, 4])
    )


def test_verbosity_by_hand():
    real = [["one two three four. five six seven eight."]]  # 8 words, 4 per sentence
    sim = [
        [
            "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen."
        ]
    ]  # 16 words, 16 per sentence
    # words per turn: 16/8 -> 100 e^-ln2 = 50; words per sentence 16/4 -> 25; mean 37.5
    assert m.verbosity_score(real, sim) == pytest.approx(37.5)
    assert m.closeness(3.0, 3.0) == 100.0
    assert m.n_sentences("Hi. How are you? Fine...") == 3
    assert m.n_sentences("no closing mark") == 1


@pytest.mark.parametrize(
    "sentence, marker, count",
    [
        ("I always feel like nothing works", "absolutist", 2),
        ("It is all over, totally", "absolutist", 2),
        ("Overall it was fine", "absolutist", 0),  # word boundary: not "all" in "Overall"
        ("Evermore and everyday", "absolutist", 0),  # not "ever" / "every" inside a word
        ("I feel sad and tired, I want to give up", "depressive_words", 3),
        ("The badge was closer to the ledge", "depressive_words", 0),  # bad, close, edge inside
        ("Um, you know, I mean... it's hard", "non_fluencies", 4),
        ("The umbrella was erased", "non_fluencies", 0),  # um, er inside words
        ("I told my friend about me", "first_person_singular", 3),
        ("i think it is fine", "first_person_singular", 0),  # lower-case i: not the pronoun here
        ("We went with our friends, just us", "social_pronouns", 3),
        ("Welcome to the museum", "social_pronouns", 0),  # "we", "us" inside words
    ],
)
def test_marker_regexes(sentence, marker, count):
    assert m.marker_counts(sentence)[marker] == count


def test_marker_score_by_hand():
    real = {
        "combined": 10,
        "tokens": 1000,
        "messages": 10,
        "messages_with_marker": 5,
        "first_person": 0,
        "social": 0,
    }
    sim = {
        "combined": 15,
        "tokens": 1000,
        "messages": 10,
        "messages_with_marker": 8,
        "first_person": 0,
        "social": 0,
    }
    # ptk 10 vs 15: 50% distance; msg 50% vs 80%: 30 points; 100 - (50 + 30) / 2 = 60
    assert m.marker_score(real, sim) == pytest.approx(60.0)
    far = {**sim, "combined": 100}
    assert m.marker_score(real, far) == pytest.approx(100 - (100 + 30) / 2)  # capped at 100
    totals = m.marker_totals([["I feel sad.", "Fine."], ["Um, always."]])
    assert (
        totals["combined"] == 3 and totals["messages"] == 3 and totals["messages_with_marker"] == 2
    )
    assert totals["tokens"] == len("I feel sad. Fine.") // 4 + len("Um, always.") // 4


def test_aggregate_weights():
    scores = {"mtld": 80, "valence": 60, "ptc": 40, "verbosity": 20, "markers": 100}
    equal = {k: 1.0 for k in scores}
    assert m.aggregate(scores, equal) == pytest.approx(60.0)
    half = {**equal, "verbosity": 0.5}
    assert m.aggregate(scores, half) == pytest.approx((80 + 60 + 40 + 10 + 100) / 4.5)
    assert m.aggregate({**scores, "mtld": float("nan")}, equal) == pytest.approx(55.0)

"""The VARS arithmetic against hand-computed cases: the update, the gate table, the keyword
reward (word-level), global detection, the exact zero update, the PCA projection."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.papers.vars import agent as ag


def test_update_matches_a_hand_computed_step():
    # two candidates, the first injected; r = 1, g = 0.5, b: 0 -> 0.05 (the note's order)
    v = np.array([[1.0, 0.0], [0.0, 1.0]])
    probs = np.array([0.25, 0.75])
    state = ag.UserState(np.array([0.1, 0.0]), np.array([0.0, 0.2]))
    step = ag.update(state, v, [0], probs, r=1.0, g=0.5, h=ag.Hyper())
    # A = 0.5 * (1 - 0.05) = 0.475; v_bar - mu = (1, 0) - (0.25, 0.75) = (0.75, -0.75)
    assert state.baseline == pytest.approx(0.05)
    assert step == pytest.approx([0.35625, -0.35625])
    assert state.z_long == pytest.approx([0.1 + 0.01 * 0.35625, -0.01 * 0.35625])
    # z_S <- 0.9 z_S + 0.05 step
    assert state.z_short == pytest.approx([0.05 * 0.35625, 0.9 * 0.2 - 0.05 * 0.35625])


def test_the_authors_baseline_order_uses_the_previous_baseline():
    v = np.array([[1.0, 0.0], [0.0, 1.0]])
    state = ag.UserState.zeros(2)
    step = ag.update(state, v, [0], np.array([0.5, 0.5]), 1.0, 1.0, ag.Hyper(baseline="previous"))
    assert step == pytest.approx([0.5, -0.5])  # A = 1 * (1 - 0)
    assert state.baseline == pytest.approx(0.05)


def test_the_update_is_exactly_zero_when_every_candidate_is_injected():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 4))
    probs = ag.softmax(rng.normal(size=3), 1.0)  # not uniform
    state = ag.UserState(rng.normal(size=4), rng.normal(size=4))
    z_long = state.z_long.copy()
    step = ag.update(state, v, [0, 1, 2], probs, r=-1.0, g=0.9, h=ag.Hyper())
    assert np.all(step == 0.0)
    assert np.array_equal(state.z_long, z_long)


def test_no_gate_credits_the_whole_advantage():
    v = np.array([[1.0], [0.0]])
    a, b = ag.UserState.zeros(1), ag.UserState.zeros(1)
    sa = ag.update(a, v, [0], np.array([0.5, 0.5]), 1.0, 0.3, ag.Hyper())
    sb = ag.update(b, v, [0], np.array([0.5, 0.5]), 1.0, 0.3, ag.Hyper(use_gate=False))
    assert sb[0] / sa[0] == pytest.approx(1 / 0.3)


@pytest.mark.parametrize(
    ("r", "max_cos", "g"),
    [(-1.0, 0.1, 0.9), (-1.0, 0.6, 0.2), (-1.0, 0.3, 0.5), (-0.5, 0.1, 0.5), (1.0, 0.5, 0.6),
     (1.0, 0.4, 0.3), (0.75, 0.1, 0.3), (0.5, 0.9, 0.5), (0.0, 0.0, 0.5)],
)  # fmt: skip
def test_gate_table(r, max_cos, g):
    assert ag.gate(r, max_cos) == g


NEG, POS = ["no", "that's not", "again", "wrong"], ["thanks", "great"]


@pytest.mark.parametrize(
    ("text", "cos", "r"),
    [
        ("I know this one, now do the next", 0.5, 0.0),  # "know", "now": not "no"
        ("No, please follow my preferences.", 0.5, -1.0),
        ("No, please follow my preferences.", 0.1, -0.5),  # topic shift halves
        ("Thanks, great.", 0.5, 1.0),
        ("Thanks, great.", 0.25, 0.5),  # positive, cos not above 0.3
        ("Thanks, great.", 0.1, 0.25),
        ("That's not right. Thanks anyway", 0.5, 0.0),  # -1 + 0.5 + 0.5
        ("Try it againstwise", 0.5, 0.0),  # "again" inside a word
        ("wrong again", 0.9, -1.0),  # clipped once, not -2
    ],
)
def test_keyword_reward_matches_words(text, cos, r):
    assert ag.keyword_reward(text, cos, NEG, POS) == pytest.approx(r)


@pytest.mark.parametrize(
    ("condition", "is_global"),
    [("in general", True), ("always", True), ("working on any task", True), ("replying", True),
     ("math", False), ("answering a math question", False), ("you reply to my question", False)],
)  # fmt: skip
def test_global_preferences(condition, is_global):
    assert ag.is_global(condition) is is_global


def test_scores_add_the_user_vectors():
    v = np.array([[1.0, 0.0], [0.0, 1.0]])
    state = ag.UserState(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    s = ag.scores(np.array([0.5, 0.5]), v, state, ag.Hyper())
    assert s == pytest.approx([0.5 + 2.0, 0.5 + 5.0])


def test_projection_is_fitted_not_the_first_dims():
    rng = np.random.default_rng(1)
    # variance lives in the last two of six dims: a first-k cut would keep none of it
    e = np.zeros((50, 6))
    e[:, 4] = rng.normal(scale=3.0, size=50)
    e[:, 5] = rng.normal(scale=1.0, size=50)
    p = ag.Projection.fit(e, 2)
    assert p.explained.sum() == pytest.approx(1.0)
    v = p(e)
    assert v.shape == (50, 2)
    assert np.abs(v[:, 0]).std() > np.abs(v[:, 1]).std()
    assert ag.Projection.fit(e[:3], 10).components.shape[0] == 3  # k capped by the corpus

"""The VARS agent's arithmetic, ported from the note: global-preference detection, the VARS
score and policy, the keyword reward (matched on words: "no" does not fire on "know"), the
retrieval gate, the REINFORCE update of the long- and short-term user vectors, and the PCA
projection of card embeddings (fitted and stored: never the first k raw dimensions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

GLOBAL_WORDS = ("general", "always", "any task", "every task", "all tasks", "in all cases")
DOMAIN_TERMS = ("math", "code", "coding", "python", "function", "equation", "arithmetic",
                "program", "proof", "number")  # fmt: skip


def _has(text: str, phrase: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text.lower()) is not None


def is_global(condition: str) -> bool:
    """A preference that holds for every task: injected without retrieval."""
    if any(_has(condition, w) for w in GLOBAL_WORDS):
        return True
    words = re.findall(r"\w+", condition.lower())
    return len(words) <= 2 and not any(_has(condition, t) for t in DOMAIN_TERMS)


def keyword_reward(
    next_turn: str, topic_cos: float, negative: list[str], positive: list[str]
) -> float:
    """r from the next user turn: -1 with a negative keyword; +0.5 with a positive one, +0.5
    more when cos(e_t, e_t+1) > 0.3; halved when that cosine < 0.2; clipped to [-1, 1]."""
    r = 0.0
    if any(_has(next_turn, k) for k in negative):
        r -= 1.0
    if any(_has(next_turn, k) for k in positive):
        r += 0.5
        if topic_cos > 0.3:
            r += 0.5
    if topic_cos < 0.2:
        r *= 0.5
    return float(max(-1.0, min(1.0, r)))


def gate(r: float, max_cos: float) -> float:
    """g: how much the turn's reward is credited to retrieval."""
    if r < -0.5 and max_cos < 0.2:
        return 0.9
    if r < -0.5 and max_cos > 0.5:
        return 0.2
    if r > 0.5:
        return 0.6 if max_cos > 0.4 else 0.3
    return 0.5


def softmax(s: np.ndarray, tau: float) -> np.ndarray:
    x = s / tau
    e = np.exp(x - x.max())
    return e / e.sum()


@dataclass
class UserState:
    """z_L (kept across sessions), z_S (reset each session), the reward baseline b."""

    z_long: np.ndarray
    z_short: np.ndarray
    baseline: float = 0.0
    history: list[float] = field(default_factory=list)  # rewards seen (the shuffled control)

    @classmethod
    def zeros(cls, k: int) -> UserState:
        return cls(np.zeros(k), np.zeros(k))

    def new_session(self) -> None:
        self.z_short = np.zeros_like(self.z_short)


@dataclass(frozen=True)
class Hyper:
    eta_long: float = 0.01
    eta_short: float = 0.05
    beta_long: float = 2.0
    beta_short: float = 5.0
    tau: float = 1.0
    decay: float = 0.1  # lambda
    ema: float = 0.05
    use_gate: bool = True
    # "updated": b <- 0.95 b + 0.05 r, then A = g (r - b) (the note); "previous": A with the
    # baseline before this reward (the authors' reinforce.py), then b updated.
    baseline: str = "updated"


def scores(s0: np.ndarray, vectors: np.ndarray, state: UserState, h: Hyper) -> np.ndarray:
    """s = s0 + <z_eff, v_m>, z_eff = beta_L z_L + beta_S z_S."""
    z_eff = h.beta_long * state.z_long + h.beta_short * state.z_short
    return s0 + vectors @ z_eff


def update(
    state: UserState,
    vectors: np.ndarray,
    chosen: list[int],
    probs: np.ndarray,
    r: float,
    g: float,
    h: Hyper,
) -> np.ndarray:
    """One REINFORCE step on z_L and z_S; returns the step direction (A/tau)(v_bar - mu).
    When every candidate was injected (the policy had no choice), mu = v_bar: the step is 0."""
    g = g if h.use_gate else 1.0
    if h.baseline == "updated":
        state.baseline = (1 - h.ema) * state.baseline + h.ema * r
        advantage = g * (r - state.baseline)
    else:
        advantage = g * (r - state.baseline)
        state.baseline = (1 - h.ema) * state.baseline + h.ema * r
    if not chosen:
        step = np.zeros_like(state.z_long)
    else:
        v_bar = vectors[chosen].mean(axis=0)
        mu = v_bar if len(chosen) == len(vectors) else probs @ vectors
        step = (advantage / h.tau) * (v_bar - mu)
    state.z_long = state.z_long + h.eta_long * step
    state.z_short = (1 - h.decay) * state.z_short + h.eta_short * step
    return step


@dataclass(frozen=True)
class Projection:
    """v = P (e - mu): the top-k principal directions of a corpus of card embeddings."""

    mean: np.ndarray
    components: np.ndarray  # k x d
    explained: np.ndarray  # variance ratio of each kept component

    def __call__(self, e: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(e) - self.mean) @ self.components.T

    @classmethod
    def fit(cls, embeddings: np.ndarray, k: int) -> Projection:
        mean = embeddings.mean(axis=0)
        x = embeddings - mean
        _, sv, vt = np.linalg.svd(x, full_matrices=False)
        k = min(k, len(sv))
        var = sv**2
        return cls(mean, vt[:k], var[:k] / var.sum())

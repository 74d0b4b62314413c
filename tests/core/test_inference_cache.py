"""The response cache: same answers as the backend, misses batched, sampling never cached."""

from __future__ import annotations

import pytest

from reprolab.inference import InferenceBackend, SamplingParams, get_backend
from reprolab.inference.cache import CachedBackend

ASK = [[{"role": "user", "content": q}] for q in ("a", "b", "c")]


class Counting(InferenceBackend):
    """A backend whose answers are known: the calls it receives are recorded."""

    def __init__(self):
        self.calls = []

    def generate(self, conversations, params):
        self.calls.append(("generate", len(conversations)))
        return [c[-1]["content"] * 2 + str(params.seed) for c in conversations]

    def score(self, contexts, continuations):
        self.calls.append(("score", len(contexts)))
        return [-float(len(x)) for x in continuations]


def test_hits_skip_the_backend_and_misses_go_in_one_batch(tmp_path):
    inner = Counting()
    cached = CachedBackend(inner, tmp_path / "cache.sqlite", "model-a")
    greedy = SamplingParams(temperature=0.0)
    assert cached.generate(ASK[:2], greedy) == ["aa0", "bb0"]
    assert cached.generate(ASK, greedy) == ["aa0", "bb0", "cc0"]
    assert inner.calls == [("generate", 2), ("generate", 1)]
    assert cached.score(ASK, ["x", "yy", "zzz"]) == [-1.0, -2.0, -3.0]
    assert cached.score(ASK, ["x", "yy", "zzz"]) == [-1.0, -2.0, -3.0]
    assert inner.calls[-1] == ("score", 3) and len(inner.calls) == 3
    assert (cached.hits, cached.misses) == (5, 6)
    # Another model, or other parameters, never hit these answers; a reopened file does.
    other = CachedBackend(Counting(), tmp_path / "cache.sqlite", "model-b")
    other.generate(ASK[:1], greedy)
    assert other.misses == 1
    reopened = CachedBackend(Counting(), tmp_path / "cache.sqlite", "model-a")
    reopened.generate(ASK[:1], SamplingParams(temperature=0.0, max_new_tokens=3))
    reopened.generate(ASK[:1], greedy)
    assert (reopened.hits, reopened.misses) == (1, 1)


def test_identical_requests_in_one_call_reach_the_backend_once(tmp_path):
    inner = Counting()
    cached = CachedBackend(inner, tmp_path / "cache.sqlite", "model-a")
    twice = [ASK[0], ASK[1], ASK[0], ASK[2], ASK[1]]
    assert cached.score(twice, ["x", "yy", "x", "zzz", "yy"]) == [-1.0, -2.0, -1.0, -3.0, -2.0]
    assert inner.calls == [("score", 3)]
    assert cached.generate(twice, SamplingParams()) == ["aa0", "bb0", "aa0", "cc0", "bb0"]
    assert inner.calls[-1] == ("generate", 3)


def test_sampled_generation_is_never_cached(tmp_path):
    inner = Counting()
    cached = CachedBackend(inner, tmp_path / "cache.sqlite", "m")
    params = SamplingParams(temperature=1.0, seed=4)
    cached.generate(ASK, params)
    cached.generate(ASK, params)
    assert inner.calls == [("generate", 3), ("generate", 3)] and cached.hits == 0


def test_cached_transformers_backend_answers_as_the_backend(tiny_model, tmp_path):
    plain = get_backend("transformers", str(tiny_model), batch_size=2)
    cached = get_backend("transformers", str(tiny_model), cache=str(tmp_path / "c.sqlite"))
    params = SamplingParams(max_new_tokens=5)
    assert cached.generate(ASK, params) == plain.generate(ASK, params)
    assert cached.generate(ASK, params) == plain.generate(ASK, params)
    for a, b in zip(
        cached.choice_logprobs(ASK, ["A", "B"]), plain.choice_logprobs(ASK, ["A", "B"]), strict=True
    ):
        assert a == pytest.approx(b, abs=1e-5)
    assert cached.hits == 3
    assert cached.tokenizer.pad_token == plain.tokenizer.pad_token  # the inner backend's

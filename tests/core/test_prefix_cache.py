"""Reusing the keys and values of a conversation's earlier turns changes no reply."""

from __future__ import annotations

import pytest

from reprolab.inference import SamplingParams, get_backend

OPENERS = ["Hi.", "Tell me a long story about a red boat on the sea.", "Count to five.", "Why?"]


def three_turns(backend, params, replies_from=None):
    """Run three turns; the next turn's history uses replies_from's replies when given, so two
    backends see identical prompts. Returns the replies of every turn."""
    chats = [
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": o}]
        for o in OPENERS
    ]
    turns = []
    for turn in range(3):
        replies = backend.generate(chats, params)
        turns.append(replies)
        used = replies_from[turn] if replies_from else replies
        for chat, reply in zip(chats, used, strict=True):
            chat += [
                {"role": "assistant", "content": reply},
                {"role": "user", "content": f"And then? ({turn})"},
            ]
    return turns


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_cached_turns_give_the_replies_of_whole_prompts(tiny_model, temperature):
    params = SamplingParams(max_new_tokens=12, temperature=temperature, seed=3)
    whole = get_backend("transformers", str(tiny_model), batch_size=3)
    cached = get_backend("transformers", str(tiny_model), batch_size=3, prefix_cache_tokens=10_000)
    expected = three_turns(whole, params)
    assert three_turns(cached, params, replies_from=expected) == expected
    cache = cached.prefix_cache
    # Turns 2 and 3 reuse the history; what is read new is the last reply's tail and one turn.
    assert cache.reused_tokens > cache.read_tokens / 2
    if temperature == 0:
        # A conversation keeps one row: each turn's row replaces the row it extended whole.
        # (Sampled byte-level replies need not re-encode to the tokens generated: the old row
        # then stays until evicted.)
        assert len(cache.rows) == len(OPENERS)


def test_the_cache_keeps_at_most_its_token_budget(tiny_model):
    backend = get_backend("transformers", str(tiny_model), prefix_cache_tokens=400)
    three_turns(backend, SamplingParams(max_new_tokens=8))
    rows = [len(row.tokens) for row in backend.prefix_cache.rows.values()]
    # Byte-level tokens: a conversation's row is 130-180 tokens by turn 3, so some are evicted.
    assert 0 < sum(rows) <= 400
    assert len(rows) < len(OPENERS)


def test_a_prompt_shorter_than_the_reuse_floor_is_read_whole(tiny_model):
    backend = get_backend("transformers", str(tiny_model), prefix_cache_tokens=10_000)
    cache = backend.prefix_cache
    assert cache.longest_prefix([1, 2, 3]) == (None, 0)


def test_scoring_candidates_on_a_kept_prefix_gives_the_same_scores(tiny_model):
    """An agent's contexts share their instructions; later steps read only what follows."""
    system = {"role": "system", "content": "You are an agent in a house. " * 4}
    contexts = [
        [system, {"role": "user", "content": f"Step {t}. You hold nothing. Answer:"}]
        for t in range(4)
    ]
    options = [["Pick[cup_0]", "Wait[]", "Navigate[table_0]"]] * len(contexts)
    whole = get_backend("transformers", str(tiny_model))
    cached = get_backend("transformers", str(tiny_model), prefix_cache_tokens=10_000)
    expected = whole.score_candidates(contexts, options)
    got = cached.score_candidates(contexts, options)
    for row, want in zip(got, expected, strict=True):
        assert row == pytest.approx(want, abs=1e-4)
    # Steps 2-4 read the shared system prompt from the cache.
    assert cached.prefix_cache.reused_tokens > 3 * 40

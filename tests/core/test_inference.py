"""The transformers backend: batched generation and continuation scoring."""

from __future__ import annotations

import pytest
import torch

from reprolab.inference import SamplingParams, get_backend, render_chat

CONVERSATIONS = [
    [{"role": "user", "content": "hi"}],
    [{"role": "user", "content": "What is a rather longer question?"}],
    [{"role": "system", "content": "be brief"}, {"role": "user", "content": "ok"}],
]


@pytest.fixture(scope="module")
def backend(tiny_model):
    return get_backend("transformers", str(tiny_model), batch_size=2)


def test_unknown_backend_is_a_clear_error(tiny_model):
    with pytest.raises(ValueError, match="unknown inference backend 'nope'"):
        get_backend("nope", str(tiny_model))


def test_greedy_generation_matches_one_sequence_at_a_time(backend):
    params = SamplingParams(max_new_tokens=6, temperature=0.0)
    batched = backend.generate(CONVERSATIONS, params)
    assert len(batched) == 3
    for conversation, reply in zip(CONVERSATIONS, batched, strict=True):
        assert backend.generate([conversation], params) == [reply]


def test_sampling_repeats_with_the_same_seed(backend):
    a = backend.generate(CONVERSATIONS, SamplingParams(max_new_tokens=8, temperature=1.0, seed=5))
    b = backend.generate(CONVERSATIONS, SamplingParams(max_new_tokens=8, temperature=1.0, seed=5))
    c = backend.generate(CONVERSATIONS, SamplingParams(max_new_tokens=8, temperature=1.0, seed=6))
    assert a == b
    assert a != c


def test_score_equals_a_hand_computed_log_probability(backend):
    tok, model = backend.tokenizer, backend.model
    context, continuation = CONVERSATIONS[1], "abc"
    prompt = tok.apply_chat_template(context, tokenize=False, add_generation_prompt=True)
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    cont_ids = tok(continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([prompt_ids + cont_ids])).logits[0]
    logprobs = torch.log_softmax(logits.float(), -1)
    expected = sum(
        float(logprobs[len(prompt_ids) + i - 1, token]) for i, token in enumerate(cont_ids)
    )
    scores = backend.score([CONVERSATIONS[0], context, CONVERSATIONS[2]], ["x", continuation, "yz"])
    assert scores[1] == pytest.approx(expected, abs=1e-4)
    assert backend.score([context], [continuation])[0] == pytest.approx(expected, abs=1e-4)


def test_single_pass_choice_logprobs_equal_scoring_each_choice(backend):
    from reprolab.inference import InferenceBackend

    choices = ['{"chosen_answer": "1', '{"chosen_answer": "2']
    fast = backend.choice_logprobs(CONVERSATIONS, choices)
    slow = InferenceBackend.choice_logprobs(backend, CONVERSATIONS, choices)  # one score each
    assert torch.allclose(torch.tensor(fast), torch.tensor(slow), atol=1e-4)
    # One token each (nothing shared): one pass too, the same numbers.
    single = [c for c in ("1", "2", "3") if len(backend._ids(c)) == 1]
    assert len(single) >= 2
    calls = []
    original = backend._forward
    backend._forward = lambda rows: calls.append(len(rows)) or original(rows)
    try:
        fast = backend.choice_logprobs(CONVERSATIONS, single)
    finally:
        backend._forward = original
    assert sum(calls) == len(CONVERSATIONS)  # one row a context, not one a (context, choice)
    slow = InferenceBackend.choice_logprobs(backend, CONVERSATIONS, single)
    assert torch.allclose(torch.tensor(fast), torch.tensor(slow), atol=1e-4)
    # Choices that differ before their last token fall back to scoring every pair.
    fallback = backend.choice_logprobs(CONVERSATIONS, ["ab", "cde"])
    assert fallback == InferenceBackend.choice_logprobs(backend, CONVERSATIONS, ["ab", "cde"])


def test_shared_context_scoring_equals_scoring_each_pair(backend):
    """score_candidates reads each context once; its numbers must be score's on every pair."""
    conv = [{"role": "user", "content": "You are at table_0."}]
    other = [{"role": "user", "content": "Elsewhere."}]
    actions = ["Pick[cup_0]", "Wait[]", "Navigate[bed_0]"]
    shared = backend.score_candidates([conv, other], [actions, ["x"]])
    single = backend.score([conv] * 3 + [other], [*actions, "x"])
    assert shared[0] + shared[1] == pytest.approx(single, abs=1e-4)


def test_contexts_offering_one_pass_choices_are_batched_with_the_same_numbers(backend):
    """score_candidates answers contexts that share choices differing in their last token
    through choice_logprobs (batched) and the rest on their shared context; the numbers are
    score's on every pair, in the caller's order."""
    conv, other = CONVERSATIONS[0], CONVERSATIONS[1]
    yes_no = ['{"chosen_answer": "1', '{"chosen_answer": "2']  # differ in the last token
    actions = ["Pick[cup_0]", "Wait[]"]
    assert backend._one_pass(yes_no) is not None and backend._one_pass(actions) is None
    mixed = backend.score_candidates([conv, other, conv], [yes_no, actions, yes_no])
    pairs = [(conv, c) for c in yes_no] + [(other, c) for c in actions]
    pairs += [(conv, c) for c in yes_no]
    single = backend.score([c for c, _ in pairs], [x for _, x in pairs])
    assert [x for row in mixed for x in row] == pytest.approx(single, abs=1e-4)


def test_a_prefilled_reply_is_rendered_open(backend):
    tok = backend.tokenizer
    conversation = CONVERSATIONS[1]
    prefilled = [*conversation, {"role": "assistant", "content": "<think>"}]
    # The reply's header, then the prefill, with nothing closing the turn after it.
    assert render_chat(tok, prefilled) == render_chat(tok, conversation) + "<think>"


def test_a_prefilled_reply_is_continued_where_it_stops(backend):
    # Greedy decoding is deterministic: prefill the first characters of the greedy reply and the
    # continuation is the rest of that reply.
    conversation = CONVERSATIONS[1]
    whole = backend.generate([conversation], SamplingParams(max_new_tokens=8))[0]
    assert len(whole) >= 4, whole
    prefill = whole[:3]
    rest = backend.generate(
        [[*conversation, {"role": "assistant", "content": prefill}]],
        SamplingParams(max_new_tokens=5),
    )[0]
    assert prefill + rest == whole


def test_n_samples_are_seeded_and_distinct(backend):
    params = SamplingParams(max_new_tokens=8, temperature=1.0, seed=3)
    first = backend.sample(CONVERSATIONS, params, n=3)
    assert [len(s) for s in first] == [3, 3, 3]
    assert backend.sample(CONVERSATIONS, params, n=3) == first
    assert len({c.text for c in first[1]}) > 1  # three draws of a random model differ
    with_logprobs = backend.sample(CONVERSATIONS, params, n=3, top_logprobs=2)
    assert with_logprobs == backend.sample(CONVERSATIONS, params, n=3, top_logprobs=2)


def test_token_logprobs_add_up_to_the_score_of_the_reply(backend):
    """Greedy: the reply is generate()'s, its token log-probabilities sum to score(reply), and
    each chosen token is the top alternative."""
    params = SamplingParams(max_new_tokens=6, temperature=0.0)
    samples = backend.sample(CONVERSATIONS, params, n=1, top_logprobs=3)
    replies = backend.generate(CONVERSATIONS, params)
    scores = backend.score(CONVERSATIONS, replies)
    for (completion,), reply, score in zip(samples, replies, scores, strict=True):
        assert completion.text == reply
        assert sum(t.logprob for t in completion.tokens) == pytest.approx(score, abs=1e-3)
        for token in completion.tokens:
            assert len(token.top) == 3
            assert token.top[0][1] >= token.top[1][1] >= token.top[2][1]
            assert token.logprob == pytest.approx(token.top[0][1], abs=1e-5)
        assert all(0.0 <= m <= 1.0 for m in completion.top_margins())

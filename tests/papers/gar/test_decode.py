"""GAR on a planted attention pattern, the goal span, and the lockstep loop on a tiny model."""

from __future__ import annotations

import math

import pytest
import torch

from reprolab.inference.transformers_backend import ChatGlue
from reprolab.models import load_model
from reprolab.papers.gar.decode import LockstepDecoder, Script, goal_token_span
from reprolab.papers.gar.mask import crossover_turn


def test_gar_of_a_planted_attention_pattern():
    # Two layers, two heads, four keys; goal = keys 1 and 2.
    layer1 = torch.tensor([[[[0.1, 0.2, 0.3, 0.4]], [[0.0, 0.5, 0.5, 0.0]]]])
    layer2 = torch.tensor([[[[0.25, 0.25, 0.25, 0.25]], [[1.0, 0.0, 0.0, 0.0]]]])
    goal = torch.tensor([[False, True, True, False]])
    allowed = torch.ones((1, 4), dtype=torch.bool)
    raw, norm = LockstepDecoder._goal_mass((layer1, layer2), allowed, goal)
    # Goal mass per (layer, head): 0.5, 1.0, 0.5, 0.0 -> mean 0.5; goal share 2/4 -> 1.0.
    assert float(raw[0]) == pytest.approx(0.5)
    assert float(norm[0]) == pytest.approx(1.0)
    hidden_goal = torch.tensor([[True, False, False, True]])  # goal keys 1, 2 masked out
    raw, norm = LockstepDecoder._goal_mass((layer1, layer2), hidden_goal, goal)
    assert math.isnan(float(norm[0]))


@pytest.fixture(scope="module")
def eager(tiny_model):
    model, tokenizer = load_model(tiny_model, attn="eager")
    return model.eval(), tokenizer


def test_goal_span_covers_the_goal_and_no_template_token(eager):
    _, tokenizer = eager
    glue = ChatGlue(tokenizer)
    text = glue.first("Rules:\nFACT ONE\nFACT TWO", "Hi")
    ids, g0, g1 = goal_token_span(tokenizer, text, "FACT ONE\nFACT TWO")
    assert tokenizer.decode(ids[g0 : g1 + 1]) == "FACT ONE\nFACT TWO"
    assert "<|im_start|>" not in tokenizer.decode(ids[g0 : g1 + 1])
    with pytest.raises(ValueError, match="goal text not found"):
        goal_token_span(tokenizer, text, "ABSENT")


def _scripts(window):
    goal = "The code of the otter is 123.\nThe code of the lynx is 456."
    return [
        Script(
            episode=f"e{i}",
            condition="c",
            system=f"Remember:\n{goal}",
            goal=goal,
            users=[f"Question {i} one?", "Tell me more about rivers please.", "And now?"],
            window=window,
            keep_crossover_state=True,
        )
        for i in range(3)
    ]


def test_closure_zeroes_goal_attention_after_the_crossover(eager):
    model, tokenizer = eager
    decoder = LockstepDecoder(model, tokenizer, max_new_tokens=3)
    full = decoder.run(_scripts(None))
    assert all(t.gar > 0 for trace in full for t in trace.turns)
    window = 60
    closed = decoder.run(_scripts(window))
    crossed = 0
    for trace in closed:
        starts = [t.response_start for t in trace.turns]
        cross = crossover_turn(starts, trace.goal_end, window)
        for number, turn in enumerate(trace.turns, 1):
            if cross is not None and number >= cross:
                crossed += 1
                assert turn.gar == 0.0 and math.isnan(turn.gar_norm)
        # The residual state is kept at the crossover turn and nowhere else.
        assert list(trace.hidden) == ([cross] if cross is not None else [])
        for states in trace.hidden.values():
            assert states.shape == (model.config.num_hidden_layers + 1, model.config.hidden_size)
    assert crossed > 0
    # Same episodes, same greedy decoder: the run is deterministic.
    again = decoder.run(_scripts(window))
    assert [t.response for t in again[0].turns] == [t.response for t in closed[0].turns]


def test_batched_rows_match_rows_run_alone(eager):
    model, tokenizer = eager
    decoder = LockstepDecoder(model, tokenizer, max_new_tokens=3)
    scripts = _scripts(80)
    scripts[1].users = ["A much longer first question to shift the padding?", *scripts[1].users[1:]]
    together = decoder.run(scripts)
    alone = decoder.run([scripts[1]])
    for a, b in zip(together[1].turns, alone[0].turns, strict=True):
        assert a.response == b.response and a.response_start == b.response_start
        assert a.gar == pytest.approx(b.gar, abs=1e-4)


def test_random_span_skips_goal_and_template_tokens_and_closes_like_a_window():
    from reprolab.papers.gar.decode import _State

    T = 0  # a special (template) token id
    #        T  a  a  g  g  g  T  role nl c1 c2 c3 c4 c5
    ids = [[T, 1, 1, 5, 5, 5, T, 2, 3, 7, 7, 7, 7, 7]]
    goal = torch.tensor([[False] * 3 + [True] * 3 + [False] * 8])
    script = Script(episode="e", condition="c", system="", goal="", users=[], span=(1, 3, 4))
    state = _State([script], "cpu", template_ids={T})
    state.extend(torch.tensor(ids), torch.ones((1, 14), dtype=torch.bool), goal)
    # Eligible after the goal: not T, not the two tokens after it: c1.. at 9; skip 1 -> 10-12.
    assert state.spans.keys == [[10, 11, 12]]
    state.extend(torch.full((1, 4), 7), torch.ones((1, 4), dtype=torch.bool))
    allowed = state.allowed(4)[0]  # queries at 14..17 over keys 0..17
    for q, query in enumerate(range(14, 18)):
        for key in (10, 11, 12):
            assert bool(allowed[q, key]) == (query - key < 4)  # closed once i - j >= width
        assert bool(allowed[q, :10].all()) and bool(allowed[q, 13 : query + 1].all())

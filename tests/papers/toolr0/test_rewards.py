"""The paper's rewards on hand-made cases, each value computed by hand from the definitions."""

from __future__ import annotations

import math

import pytest

from reprolab.papers.toolr0.parse import parse_generator, parse_solver
from reprolab.papers.toolr0.rewards import (
    generator_reward,
    grounded,
    placeholder_gate,
    r_curr,
    r_diff,
    r_format,
    r_valid,
    solver_reward,
)
from reprolab.papers.toolr0.tools import TOOLS


def gen(question="What is 12 plus 30?", tools='["add", "multiply"]', gold=None, drop=()):
    gold = gold or '[{"name": "add", "arguments": {"a": 12, "b": 30}}]'
    parts = {
        "think": "plan",
        "question": question,
        "available_tools": tools,
        "tool_call_answer": gold,
    }
    return parse_generator("".join(f"<{t}>{v}</{t}>" for t, v in parts.items() if t not in drop))


# r_diff: 0 below 1/8, 1 in [0.25, 0.75], exp(-(p - edge)^2 / (2 * 0.12^2)) otherwise.
@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, 0.0),
        (0.1, 0.0),
        (0.124, 0.0),
        (0.125, 0.58127),  # exp(-(0.125)^2 / 0.0288) = exp(-0.54253)
        (0.2, 0.91688),  # exp(-(0.05)^2 / 0.0288) = exp(-0.08681)
        (0.25, 1.0),  # band edges are inside the band
        (0.5, 1.0),
        (0.75, 1.0),
        (0.875, 0.58127),  # symmetric about the upper edge
        (1.0, 0.11417),  # exp(-(0.25)^2 / 0.0288) = exp(-2.17014)
    ],
)
def test_r_diff_band_and_gaussian_edges(p, expected):
    assert r_diff(p) == pytest.approx(expected, abs=1e-4)


def test_r_diff_is_continuous_at_the_band_edges():
    assert r_diff(0.25 - 1e-9) == pytest.approx(1.0, abs=1e-6)
    assert r_diff(0.75 + 1e-9) == pytest.approx(1.0, abs=1e-6)
    assert r_diff(1 / 8) == pytest.approx(math.exp(-(0.125**2) / (2 * 0.12**2)))


def test_r_curr_mixes_difficulty_and_judge_score():
    assert r_curr(0.5, 5) == pytest.approx(1.0)
    assert r_curr(0.5, 1) == pytest.approx(0.5)
    assert r_curr(0.0, 3) == pytest.approx(0.25)
    assert r_curr(0.5, 3, use_difficulty=False) == pytest.approx(0.25)  # the no-r_diff ablation
    with pytest.raises(ValueError, match="judge score"):
        r_curr(0.5, 0)


def test_r_format_counts_tags_tools_and_gold_json():
    assert r_format(gen()) == pytest.approx(1.0)
    assert r_format(gen(drop=("think",))) == pytest.approx(2 / 3)  # tags fail, both JSONs parse
    assert r_format(gen(tools="[add, multiply]")) == pytest.approx(2 / 3)  # not valid JSON
    assert r_format(gen(gold='{"name": "add", "arguments": 3}')) == pytest.approx(2 / 3)
    assert r_format(parse_generator("no tags at all")) == 0.0


def test_r_valid_menu_required_and_grounding():
    assert r_valid(gen(), TOOLS) == pytest.approx(1.0)
    wrong_value = '[{"name": "add", "arguments": {"a": 12, "b": 31}}]'
    assert r_valid(gen(gold=wrong_value), TOOLS) == pytest.approx(0.8)
    not_in_menu = '[{"name": "subtract", "arguments": {"a": 12, "b": 30}}]'
    assert r_valid(gen(gold=not_in_menu), TOOLS) == pytest.approx(0.2)
    missing_arg = '[{"name": "add", "arguments": {"a": 12}}]'
    assert r_valid(gen(gold=missing_arg), TOOLS) == pytest.approx(0.6)
    two = (
        '[{"name": "add", "arguments": {"a": 12, "b": 30}},'
        ' {"name": "multiply", "arguments": {"a": 5, "b": 30}}]'
    )
    assert r_valid(gen(gold=two), TOOLS) == pytest.approx((1.0 + 0.8) / 2)  # 5 is not grounded


def test_grounding_uses_word_boundaries():
    assert grounded(12, "What is 12 plus 30?")
    assert not grounded(2, "What is 12 plus 30?")
    assert grounded("Paris", "Is paris big?")
    assert not grounded("par", "Is paris big?")
    assert grounded(30.0, "add 30 and 1")


def test_placeholder_gate_zeroes_every_term():
    assert placeholder_gate("What is 12 plus 30?") == 1.0
    for question in ("<question>", "What is ... plus ...?", "{a} plus {b}", "hi", None):
        assert placeholder_gate(question) == 0.0
    gated = generator_reward(gen(question="Your question here about 12 and 30"), TOOLS, 0.5, 5)
    assert gated == {"r_format": 0.0, "r_valid": 0.0, "r_curr": 0.0, "total": 0.0}
    full = generator_reward(gen(), TOOLS, 0.5, 5)
    assert full["total"] == pytest.approx(1.0 + 1.0 + 1.0)


def solver(text_calls: str, think: bool = True) -> str:
    return (
        "<think>t</think>" if think else ""
    ) + f"<tool_call_answer>{text_calls}</tool_call_answer>"


ADD = {"name": "add", "arguments": {"a": 2, "b": 3}}


def test_solver_reward_exact_call():
    out = parse_solver(solver('[{"name": "add", "arguments": {"a": 2, "b": 3.0}}]'))
    assert solver_reward(out, [ADD]) == {"r_fmt": 1.0, "r_acc": 1.0, "total": 2.0}


def test_solver_reward_partial_matches():
    one_value_wrong = parse_solver(solver('[{"name": "add", "arguments": {"a": 2, "b": 4}}]'))
    assert solver_reward(one_value_wrong, [ADD])["r_acc"] == pytest.approx(0.2 + 0.3 + 0.25)
    other_key = parse_solver(solver('[{"name": "add", "arguments": {"a": 2, "c": 3}}]'))
    # keys: precision 1/2, recall 1/2, F1 1/2; the one shared key matches.
    assert solver_reward(other_key, [ADD])["r_acc"] == pytest.approx(0.2 + 0.15 + 0.5)
    extra = parse_solver(
        solver('[{"name": "add", "arguments": {"a": 2, "b": 3}}, {"name": "x", "arguments": {}}]')
    )
    assert solver_reward(extra, [ADD])["r_acc"] == pytest.approx(1.0 / 1.25)


def test_solver_reward_greedy_matching_in_gold_order():
    gold = [ADD, {"name": "multiply", "arguments": {"a": 3, "b": 4}}]
    out = parse_solver(solver('[{"name": "multiply", "arguments": {"a": 3, "b": 4}}]'))
    # The first gold call takes the only prediction (0.3 for the keys), the second has none left.
    assert solver_reward(out, gold)["r_acc"] == pytest.approx(0.3 / 2)
    both = parse_solver(
        solver(
            '[{"name": "multiply", "arguments": {"a": 3, "b": 4}},'
            ' {"name": "add", "arguments": {"a": 2, "b": 3}}]'
        )
    )
    assert solver_reward(both, gold)["r_acc"] == pytest.approx(1.0)  # every gold call scored


def test_solver_format_terms_and_think_requirement():
    no_think = parse_solver(solver('[{"name": "add", "arguments": {"a": 2, "b": 3}}]', False))
    assert solver_reward(no_think, [ADD]) == {"r_fmt": 1.0, "r_acc": 0.0, "total": 1.0}
    bad_json = parse_solver("<think>t</think><tool_call_answer>[{name: add}]</tool_call_answer>")
    assert solver_reward(bad_json, [ADD])["r_fmt"] == pytest.approx(0.3)
    empty = parse_solver("<think>t</think><tool_call_answer>[]</tool_call_answer>")
    assert solver_reward(empty, [ADD])["r_fmt"] == pytest.approx(0.6)
    assert solver_reward(parse_solver("I do not know"), [ADD])["total"] == 0.0

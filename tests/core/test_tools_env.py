"""Tool environments: schemas, call parsing, state-bound execution in the sandbox, diffs."""

from __future__ import annotations

import sys
import textwrap

import pytest

from reprolab.sandbox import Sandbox
from reprolab.tools import ToolEnv, ToolOutcome, ToolSpec, parse_tool_calls, state_diff

RETAIL = textwrap.dedent(
    """
    def cancel_order(state, order_id):
        order = state["orders"].get(order_id)
        if order is None:
            return {"result": "no such order", "state": state}
        order["status"] = "cancelled"
        return {"result": "ok", "state": state}

    def get_order(state, order_id):
        return {"result": state["orders"].get(order_id), "state": state}

    def broken(state):
        return 42
    """
)
SPECS = [
    ToolSpec("cancel_order", "Cancel an order", {"order_id": {"type": "string"}}, ("order_id",)),
    ToolSpec("get_order", "Look up an order", {"order_id": {"type": "string"}}, ("order_id",)),
    ToolSpec("broken", "Returns the wrong shape"),
]
STATE = {"orders": {"A1": {"status": "paid", "items": ["mug"]}, "B2": {"status": "paid"}}}


@pytest.fixture
def env(tmp_path, monkeypatch):
    (tmp_path / "retail_tools.py").write_text(RETAIL)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    with Sandbox(modules=["retail_tools"]) as box:
        yield ToolEnv("retail_tools", SPECS, STATE, box)
    sys.modules.pop("retail_tools", None)


def test_a_call_mutates_the_state_and_reports_exactly_its_diff(env):
    outcome = env.call("cancel_order", {"order_id": "A1"})
    assert outcome.ok and outcome.value == "ok"
    assert outcome.diff == (
        {"path": "orders.A1.status", "op": "change", "before": "paid", "after": "cancelled"},
    )
    assert env.state["orders"]["A1"]["status"] == "cancelled"
    assert STATE["orders"]["A1"]["status"] == "paid"  # the caller's dict is never touched
    read = env.call("get_order", {"order_id": "B2"})
    assert read.value == {"status": "paid"} and read.diff == ()


def test_wrong_tools_and_arguments_are_refused_before_running(env):
    assert env.call("drop_tables", {}).error == "unknown tool 'drop_tables'"
    missing = env.call("cancel_order", {})
    assert not missing.ok and "'order_id' is a required property" in missing.error
    extra = env.call("cancel_order", {"order_id": "A1", "refund": True})
    assert not extra.ok and "refund" in extra.error
    assert env.call("broken", {}).error == "broken: tool must return result and state"
    assert env.state == STATE and [h["ok"] for h in env.history] == [False] * 4


def test_schemas_are_in_the_chat_template_format():
    schema = SPECS[0].schema()
    assert schema["type"] == "function"
    assert schema["function"]["parameters"]["required"] == ["order_id"]


def test_parse_tool_calls_by_hand():
    tagged = '<tool_call>{"name": "get_order", "arguments": {"order_id": "A1"}}</tool_call>'
    assert parse_tool_calls(tagged) == [{"name": "get_order", "arguments": {"order_id": "A1"}}]
    encoded = '{"name": "cancel_order", "arguments": "{\\"order_id\\": \\"B2\\"}"}'
    two = f"{tagged}\n<tool_call>{encoded}</tool_call>"
    assert [c["name"] for c in parse_tool_calls(two)] == ["get_order", "cancel_order"]
    assert parse_tool_calls('Sure! [{"name": "x", "parameters": {}}]') == [
        {"name": "x", "arguments": {}}
    ]
    assert parse_tool_calls("The order is on its way.") is None
    assert parse_tool_calls('{"name": "x", "arguments": {') is None


def test_state_diff_by_hand():
    before = {"a": 1, "b": {"c": [1, 2]}, "gone": True}
    after = {"a": 1, "b": {"c": [1, 3, 4]}, "new": "x"}
    assert state_diff(before, after) == [
        {"path": "b.c[1]", "op": "change", "before": 2, "after": 3},
        {"path": "b.c[2]", "op": "add", "after": 4},
        {"path": "gone", "op": "remove", "before": True},
        {"path": "new", "op": "add", "after": "x"},
    ]


CALCULATOR = textwrap.dedent(
    """
    def factorial(n):
        out = 1
        for k in range(2, int(n) + 1):
            out *= k
        return out
    """
)
CALC_SPECS = [ToolSpec("factorial", "n!", {"n": {"type": "integer"}}, ("n",))]


@pytest.fixture
def calculator(tmp_path, monkeypatch):
    (tmp_path / "calc_tools.py").write_text(CALCULATOR)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    with Sandbox(modules=["calc_tools"]) as box:
        yield box
    sys.modules.pop("calc_tools", None)


def test_a_stateless_env_returns_values_and_can_leave_checks_to_the_tools(calculator):
    strict = ToolEnv("calc_tools", CALC_SPECS, state=None, sandbox=calculator)
    assert strict.call("factorial", {"n": 5}) == ToolOutcome(True, 120)
    assert not strict.call("factorial", {"n": "5"}).ok  # the schema refuses a string
    lenient = ToolEnv("calc_tools", CALC_SPECS, None, calculator, validate=False)
    outcomes = lenient.call_many(
        [{"name": "factorial", "arguments": {"n": "5"}}, {"name": "nope", "arguments": {}}]
    )
    assert outcomes[0] == ToolOutcome(True, 120)  # the tool coerces it itself
    assert outcomes[1].error == "unknown tool 'nope'"  # names are always checked on the host
    assert not lenient.call("factorial", {"m": 5}).ok  # the tool's own TypeError
    assert lenient.state is None and lenient.history[0]["ok"]


def test_strict_parsing_takes_calls_only_as_the_format_says():
    call = '[{"name": "f", "arguments": {"n": 1}}]'
    assert parse_tool_calls(call, strict=True) == [{"name": "f", "arguments": {"n": 1}}]
    assert parse_tool_calls('{"name": "f"}', strict=True) == [{"name": "f", "arguments": {}}]
    no_arguments = [{"name": "f", "arguments": {}}]
    for lenient_only, strictly in (
        (f"Sure: {call}", None),  # JSON inside prose
        ('{"name": "f", "parameters": {"n": 1}}', no_arguments),  # the alias is not read
        ('{"name": "f", "arguments": "{\\"n\\": 1}"}', None),  # string-encoded arguments
    ):
        assert parse_tool_calls(lenient_only) == [{"name": "f", "arguments": {"n": 1}}]
        assert parse_tool_calls(lenient_only, strict=True) == strictly
    assert parse_tool_calls('{"name": "f", "arguments": [1]}') is None  # arguments: an object
    assert parse_tool_calls("[" * 100_000) is None  # too deep for json: no call, no crash


def test_the_json_in_prose_is_cut_where_the_old_backtracking_regexes_cut_it():
    import re

    from reprolab.tools import _outermost

    texts = [
        "no json",
        "Sure: [1, 2] and {3}",
        "}{",
        "] then [",
        "{",
        "[]",
        'a {"name": "f"} b ] c',
        "x\n[\n{\n}\ny",
        "{[}",
        "} {a} {",
    ]
    for pattern, openers, closers in ((r"[\[{].*[\]}]", "[{", "]}"), (r"\{.*\}", "{", "}")):
        regex = re.compile(pattern, re.DOTALL)
        for text in texts:
            match = regex.search(text)
            expected = match.group(0) if match else None
            assert _outermost(text, openers, closers) == expected, (pattern, text)


def test_json_object_reads_the_outermost_object_of_a_reply():
    from reprolab.tools import json_object

    assert json_object('Sure!\n```json\n{"a": {"b": 1}}\n```') == {"a": {"b": 1}}
    assert json_object("[1, 2]") is None  # a list, not an object
    assert json_object("{not json}") is None
    assert json_object("no braces") is None
    assert json_object("{" * 100_000 + "}" * 100_000) is None  # too deep for json: no crash

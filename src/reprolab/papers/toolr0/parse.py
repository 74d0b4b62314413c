"""Parsing the two roles' outputs and canonical forms of tool calls.

Generator: <think>..</think><question>..</question><available_tools>[..]</available_tools>
<tool_call_answer>[{"name": .., "arguments": {..}}]</tool_call_answer>.
Solver: <think>..</think><tool_call_answer>[{"name": .., "arguments": {..}}]</tool_call_answer>
(the authors' solver tag: step3_solver.py, SYSTEM_PROMPT_SOLVER).

The tags are the paper's format (its format rewards score them); the calls inside a tag are read
by the core's `reprolab.tools.parse_tool_calls` in strict mode (JSON as a whole, `arguments` an
object), on the first tag's content only and with no tags looked for inside it, as the paper's
parser does.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from reprolab.tools import parse_tool_calls

GENERATOR_TAGS = ("think", "question", "available_tools", "tool_call_answer")
# The solver answers in the same tag as the generator's gold call, as in the authors' code.
SOLVER_TAG = "tool_call_answer"


def tag_content(text: str, tag: str) -> str | None:
    """The text inside the first <tag>...</tag>, or None if the pair is missing."""
    match = re.search(rf"<{tag}>(.*?)</{tag}>", text, flags=re.DOTALL)
    return match.group(1).strip() if match else None


def load_json(text: str | None):
    """JSON value or None (not valid JSON)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def read_calls(text: str | None) -> list[dict] | None:
    """The {"name", "arguments"} calls of a tag's content (one object counts as a list), or
    None when it is missing, not JSON, or not calls."""
    return None if text is None else parse_tool_calls(text, strict=True, tag=None)


@dataclass
class GeneratorOutput:
    tags_ok: bool
    question: str | None
    tools: list | None  # the parsed <available_tools> JSON (names or schema objects)
    calls: list[dict] | None  # the gold calls, None when not valid JSON calls
    tools_json_ok: bool = False
    gold_json_ok: bool = False
    missing: list[str] = field(default_factory=list)


def parse_generator(text: str) -> GeneratorOutput:
    contents = {tag: tag_content(text, tag) for tag in GENERATOR_TAGS}
    missing = [tag for tag, value in contents.items() if value is None]
    tools = load_json(contents["available_tools"])
    tools_ok = isinstance(tools, list) and bool(tools)
    calls = read_calls(contents["tool_call_answer"])
    return GeneratorOutput(
        tags_ok=not missing,
        question=contents["question"],
        tools=tools if tools_ok else None,
        calls=calls,
        tools_json_ok=tools_ok,
        gold_json_ok=calls is not None,
        missing=missing,
    )


@dataclass
class SolverOutput:
    has_think: bool
    has_tag: bool
    parses: bool
    calls: list[dict]


def parse_solver(text: str) -> SolverOutput:
    has_think = tag_content(text, "think") is not None
    body = tag_content(text, SOLVER_TAG)
    return SolverOutput(
        has_think=has_think,
        has_tag=body is not None,
        parses=load_json(body) is not None,
        calls=read_calls(body) or [],
    )


def canonical_value(value):
    """Numbers compare by value (5 == 5.0), strings without case or outer spaces."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return int(value) if float(value).is_integer() else round(float(value), 6)
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, list):
        return [canonical_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in sorted(value.items())}
    return value


def canonical_call(call: dict) -> dict:
    return {"name": call["name"].strip(), "arguments": canonical_value(call["arguments"])}


def canonical_json(calls: list[dict]) -> str:
    """The canonical JSON of a call list: the unit of exact matching (order of calls kept)."""
    return json.dumps([canonical_call(c) for c in calls], sort_keys=True)


def values_equal(a, b) -> bool:
    return canonical_value(a) == canonical_value(b)

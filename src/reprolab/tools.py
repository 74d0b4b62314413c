"""Tool environments: JSON-schema tools bound to a state, model calls parsed, run in the sandbox.

A tool module (importable by the sandbox worker) defines functions `tool(state, **arguments)`
that return `{"result": ..., "state": new_state}`: the state is a plain JSON database (orders,
users, flights) that tools read and mutate. The host keeps the state; each call sends it in and
takes the new one back, so a call's effect is exactly the state diff, and model-written
arguments only ever run in the sandbox (this module imports only the standard library, so a tool
module may declare its `ToolSpec`s beside its functions):

    env = ToolEnv("mypkg.retail_tools", SPECS, state={"orders": {...}}, sandbox=box)
    calls = parse_tool_calls(reply)          # [{"name": ..., "arguments": {...}}] or None
    outcome = env.call(**calls[0])           # ToolOutcome(ok, value, error, diff)

A stateless env (`state=None`) calls pure functions `tool(**arguments)` (calculators, lookups):
the value is what the tool returns and the diff is always empty.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reprolab.sandbox import Sandbox


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: name, description, and a JSON schema of its arguments."""

    name: str
    description: str
    properties: dict[str, dict] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    def schema(self) -> dict:
        """The OpenAI / chat-template tool format (`tools=[...]`)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": self.properties,
                    "required": list(self.required),
                    "additionalProperties": False,
                },
            },
        }

    def argument_errors(self, arguments: Any) -> list[str]:
        """Why these arguments do not fit the schema (empty when they do)."""
        import jsonschema  # here, so that tool modules the sandbox imports stay light

        validator = jsonschema.Draft202012Validator(self.schema()["function"]["parameters"])
        return [e.message for e in validator.iter_errors(arguments)]


@dataclass(frozen=True)
class ToolOutcome:
    ok: bool
    value: Any = None
    error: str | None = None
    diff: tuple[dict, ...] = ()


def _load(chunk: str):
    try:
        return json.loads(chunk)
    except (json.JSONDecodeError, RecursionError):
        return None


def parse_tool_calls(
    text: str, strict: bool = False, tag: str | None = "tool_call"
) -> list[dict] | None:
    """Tool calls in a model reply: JSON inside <tool_call> tags (the Hermes/Qwen chat format;
    `tag` names another, None reads the text as the calls' JSON, e.g. a tag's content the caller
    took out), else the reply's one JSON object or list. Each call is {"name", "arguments"}
    with an object of arguments; None when the reply holds no readable call (a plain answer,
    or broken JSON).

    Lenient by default: JSON embedded in prose is recovered, `parameters` stands for
    `arguments`, and arguments encoded as a JSON string are decoded. `strict` takes the calls
    exactly as the format says: each chunk is JSON as a whole and every call's `arguments`
    (absent: none) is an object."""
    tagged = (
        re.compile(rf"<{re.escape(tag)}>\s*(.*?)\s*</{re.escape(tag)}>", re.DOTALL) if tag else None
    )
    chunks = (tagged.findall(text) if tagged else []) or [text.strip()]
    calls = []
    for chunk in chunks:
        data = _load(chunk)
        if data is None and not strict:
            span = _outermost(chunk, "[{", "]}")
            data = _load(span) if span else None
        if data is None:
            return None
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                return None
            if strict:
                arguments = item.get("arguments", {})
            else:
                arguments = item.get("arguments", item.get("parameters", {}))
                if isinstance(arguments, str):
                    arguments = _load(arguments)
            if not isinstance(arguments, dict):
                return None
            calls.append({"name": item["name"], "arguments": arguments})
    return calls or None


def _outermost(text: str, openers: str, closers: str) -> str | None:
    """From the first opener to the last closer after it (the JSON a reply wraps in prose).
    Two scans, not a backtracking regex, which took quadratic time on a reply of many openers
    and no closer (36 s for 100,000 '[')."""
    starts = [i for i in map(text.find, openers) if i >= 0]
    if not starts:
        return None
    start = min(starts)
    end = max(map(text.rfind, closers))
    return text[start : end + 1] if end > start else None


def json_object(reply: str) -> dict | None:
    """The outermost {...} of a model reply as a dict (fences and prose around it ignored);
    None when there is none or it is not JSON."""
    span = _outermost(reply, "{", "}")
    data = _load(span) if span else None
    return data if isinstance(data, dict) else None


def state_diff(before: Any, after: Any, path: str = "") -> list[dict]:
    """Every difference between two JSON values: {"path", "op": add|remove|change, ...}, in a
    stable order; lists compare position by position."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in after:
                out.append({"path": where, "op": "remove", "before": before[key]})
            elif key not in before:
                out.append({"path": where, "op": "add", "after": after[key]})
            else:
                out += state_diff(before[key], after[key], where)
        return out
    if isinstance(before, list) and isinstance(after, list):
        out = []
        for i in range(max(len(before), len(after))):
            where = f"{path}[{i}]"
            if i >= len(after):
                out.append({"path": where, "op": "remove", "before": before[i]})
            elif i >= len(before):
                out.append({"path": where, "op": "add", "after": after[i]})
            else:
                out += state_diff(before[i], after[i], where)
        return out
    if before != after:
        return [{"path": path, "op": "change", "before": before, "after": after}]
    return []


class ToolEnv:
    """Tools of one module bound to a state; calls validated on the host, run in the sandbox.

    `state=None` makes a stateless env of pure functions (no state in, the return value out).
    `validate=False` leaves argument checking to the tools themselves (a tool that coerces
    "5" to 5 then runs); the tool name is always checked on the host."""

    def __init__(
        self,
        module: str,
        specs: list[ToolSpec],
        state: dict | None,
        sandbox: Sandbox,
        validate: bool = True,
    ):
        if module not in sandbox.modules:
            raise ValueError(f"tool module '{module}' is not loaded in the sandbox")
        self.module = module
        self.specs = {spec.name: spec for spec in specs}
        self.stateful = state is not None
        self.state = copy.deepcopy(state)
        self.sandbox = sandbox
        self.validate = validate
        self.history: list[dict] = []

    def schemas(self) -> list[dict]:
        return [spec.schema() for spec in self.specs.values()]

    def call(self, name: str, arguments: Any) -> ToolOutcome:
        """One call: refused on the host when the tool or arguments are wrong, else run in the
        sandbox on the current state; a successful call moves the state and reports its diff."""
        spec = self.specs.get(name)
        if spec is None:
            outcome = ToolOutcome(False, error=f"unknown tool '{name}'")
        elif self.validate and (errors := spec.argument_errors(arguments)):
            outcome = ToolOutcome(False, error=f"{name}: {'; '.join(errors)}")
        elif not self.stateful:
            result = self.sandbox.call(self.module, name, copy.deepcopy(arguments))
            outcome = ToolOutcome(result.ok, result.value, result.error)
        else:
            result = self.sandbox.call(
                self.module, name, {"state": self.state, **copy.deepcopy(arguments)}
            )
            reply = result.value
            if not result.ok:
                outcome = ToolOutcome(False, error=result.error)
            elif not isinstance(reply, dict) or set(reply) != {"result", "state"}:
                outcome = ToolOutcome(False, error=f"{name}: tool must return result and state")
            else:
                diff = state_diff(self.state, reply["state"])
                self.state = reply["state"]
                outcome = ToolOutcome(True, reply["result"], diff=tuple(diff))
        self.history.append({"name": name, "arguments": arguments, "ok": outcome.ok})
        return outcome

    def call_many(self, calls: list[dict]) -> list[ToolOutcome]:
        """Each {"name", "arguments"} call in order, on the state the previous ones left."""
        return [self.call(c["name"], c["arguments"]) for c in calls]

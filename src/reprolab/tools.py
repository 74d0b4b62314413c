"""Tool environments: JSON-schema tools bound to a state, model calls parsed, run in the sandbox.

A tool module (importable by the sandbox worker) defines functions `tool(state, **arguments)`
that return `{"result": ..., "state": new_state}`: the state is a plain JSON database (orders,
users, flights) that tools read and mutate. The host keeps the state; each call sends it in and
takes the new one back, so a call's effect is exactly the state diff, and model-written
arguments only ever run in the sandbox:

    env = ToolEnv("mypkg.retail_tools", SPECS, state={"orders": {...}}, sandbox=box)
    calls = parse_tool_calls(reply)          # [{"name": ..., "arguments": {...}}] or None
    outcome = env.call(**calls[0])           # ToolOutcome(ok, value, error, diff)
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema

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
        validator = jsonschema.Draft202012Validator(self.schema()["function"]["parameters"])
        return [e.message for e in validator.iter_errors(arguments)]


@dataclass(frozen=True)
class ToolOutcome:
    ok: bool
    value: Any = None
    error: str | None = None
    diff: tuple[dict, ...] = ()


_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


def parse_tool_calls(text: str) -> list[dict] | None:
    """Tool calls in a model reply: JSON inside <tool_call> tags (the Hermes/Qwen chat format),
    else the reply's one JSON object or list. Each call is {"name", "arguments"}; None when the
    reply holds no readable call (a plain answer, or broken JSON)."""
    chunks = _TAGGED.findall(text) or [text.strip()]
    calls = []
    for chunk in chunks:
        try:
            data = json.loads(chunk)
        except json.JSONDecodeError:
            match = re.search(r"[\[{].*[\]}]", chunk, re.DOTALL)
            if not match:
                return None
            try:
                data = json.loads(match.group(0))
            except json.JSONDecodeError:
                return None
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                return None
            arguments = item.get("arguments", item.get("parameters", {}))
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except json.JSONDecodeError:
                    return None
            calls.append({"name": item["name"], "arguments": arguments})
    return calls or None


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
    """Tools of one module bound to a state; calls validated on the host, run in the sandbox."""

    def __init__(self, module: str, specs: list[ToolSpec], state: dict, sandbox: Sandbox):
        if module not in sandbox.modules:
            raise ValueError(f"tool module '{module}' is not loaded in the sandbox")
        self.module = module
        self.specs = {spec.name: spec for spec in specs}
        self.state = copy.deepcopy(state)
        self.sandbox = sandbox
        self.history: list[dict] = []

    def schemas(self) -> list[dict]:
        return [spec.schema() for spec in self.specs.values()]

    def call(self, name: str, arguments: Any) -> ToolOutcome:
        """One call: refused on the host when the tool or arguments are wrong, else run in the
        sandbox on the current state; a successful call moves the state and reports its diff."""
        spec = self.specs.get(name)
        if spec is None:
            outcome = ToolOutcome(False, error=f"unknown tool '{name}'")
        elif errors := spec.argument_errors(arguments):
            outcome = ToolOutcome(False, error=f"{name}: {'; '.join(errors)}")
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

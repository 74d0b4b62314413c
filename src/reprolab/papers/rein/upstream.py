"""tau-bench's files read at run time from sierra-research/tau-bench at a pinned commit (full
scale), never retyped: the retail and airline JSON data, the base tasks (a Python list of
`Task(...)` calls, taken from the file's syntax tree as literals) and the LLM user's system
prompt (the `build_system_prompt` method of the user simulator, compiled alone from that tree so
that its own wording builds the prompt). Each file is cached on disk under its commit: a rerun
reads no network.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path

from reprolab import upstream as core
from reprolab.upstream import UpstreamError

__all__ = ["UpstreamError", "label", "read_json", "read_text", "tasks", "user", "user_prompt"]

STOP = re.compile(r"'(###[A-Z]+###)'")


def read_text(up: dict, path: str, cache: Path | None) -> str:
    """`path` of `up` = {repo, commit[, base]} at its commit, kept under `cache` once read;
    `base` (absent: GitHub's raw files) may be a file:// folder <base>/<repo>/<commit>/<path>."""
    return core.read(up["repo"], up["commit"], path, up.get("base"), cache)


def label(up: dict, path: str) -> str:
    """A file's name in messages: repo@commit:path."""
    return core.label(up["repo"], up["commit"], path)


def read_json(up: dict, path: str, cache: Path | None) -> dict:
    """One of tau-bench's JSON data files (users, orders, products, reservations, flights)."""
    try:
        data = json.loads(read_text(up, path, cache))
    except json.JSONDecodeError as error:
        raise UpstreamError(f"{label(up, path)}: not JSON ({error})") from error
    if not isinstance(data, dict):
        raise UpstreamError(f"{label(up, path)}: expected an object keyed by id")
    return data


def _literal(node: ast.AST, where: str):
    """A task's value: `Task(...)`/`Action(...)` calls as dicts of their keywords, lists of
    them, and Python literals; anything else is refused."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id not in ("Task", "Action") or node.args:
            raise UpstreamError(f"{where}: unexpected call {ast.unparse(node)[:60]}")
        return {kw.arg: _literal(kw.value, where) for kw in node.keywords}
    if isinstance(node, ast.List):
        return [_literal(e, where) for e in node.elts]
    return core.literal(node, where)


def tasks(text: str, name: str, where: str = "upstream") -> list[dict]:
    """The module-level list `name` of `Task(...)` calls, in order, as dicts (user_id,
    instruction, actions [{name, kwargs}], ...)."""
    tree = core.parse(text, where)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if not isinstance(node.value, ast.List):
                raise UpstreamError(f"{where}: {name} is not a list")
            out = _literal(node.value, where)
            for task in out:
                if not isinstance(task, dict) or not {"user_id", "instruction", "actions"} <= set(
                    task
                ):
                    raise UpstreamError(f"{where}: {name} holds a task without user/actions")
            return out
    raise UpstreamError(f"{where}: no module-level list {name}")


def user_prompt(text: str, cls: str, where: str = "upstream") -> Callable[[str | None], str]:
    """The user simulator's `build_system_prompt(self, instruction)` of class `cls`, compiled
    alone (no annotations, a few builtins, no attribute access): instruction -> system prompt."""
    node = core.method(core.parse(text, where), cls, "build_system_prompt", where)
    # A prompt builder needs no attribute (self.*, modules): any is refused.
    built = core.compile_builders([(node, where)], attributes=False)[node.name]
    return lambda instruction: built(None, instruction)


def opening(text: str, cls: str, where: str = "upstream") -> str:
    """The agent's first message as the simulator's `reset` writes it (the one `user`-role
    message of its literal history)."""
    node = core.method(core.parse(text, where), cls, "reset", where)
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict) and all(isinstance(k, ast.Constant) for k in sub.keys):
            keys = [k.value for k in sub.keys]
            if "role" in keys and "content" in keys:
                role = sub.values[keys.index("role")]
                content = sub.values[keys.index("content")]
                literal = isinstance(role, ast.Constant) and isinstance(content, ast.Constant)
                if literal and role.value == "user":
                    found.append(content.value)
    if len(found) != 1:
        raise UpstreamError(f"{where}: {cls}.reset writes {len(found)} literal openings")
    return found[0]


def stop_token(prompt: str) -> str:
    """The token the simulator's rules tell it to write when the goal is met ('###STOP###')."""
    tokens = set(STOP.findall(prompt))
    if len(tokens) != 1:
        raise UpstreamError(f"the user prompt names {sorted(tokens)} as its stop token")
    return tokens.pop()


def user(up: dict, cache: Path | None = None) -> dict:
    """The LLM user of `up` = {repo, commit, path, class}: prompt(instruction), opening, stop."""
    body = read_text(up, up["path"], cache)
    where = label(up, up["path"])
    build = user_prompt(body, up["class"], where)
    return {
        "prompt": build,
        "opening": opening(body, up["class"], where),
        "stop": stop_token(build("")),
    }

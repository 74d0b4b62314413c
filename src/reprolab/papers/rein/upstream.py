"""tau-bench's files read at run time from sierra-research/tau-bench at a pinned commit (full
scale), never retyped: the retail and airline JSON data, the base tasks (a Python list of
`Task(...)` calls, taken from the file's syntax tree as literals) and the LLM user's system
prompt (the `build_system_prompt` method of the user simulator, compiled alone from that tree so
that its own wording builds the prompt). Each file is cached on disk under its commit: a rerun
reads no network.
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

RAW = "https://raw.githubusercontent.com"

# What the compiled prompt method may call: string building only.
SAFE_BUILTINS = ("str", "len", "isinstance")
FORBIDDEN = {"eval", "exec", "open", "compile", "__import__", "globals", "locals", "vars",
             "getattr", "setattr", "delattr", "input", "breakpoint"}  # fmt: skip
STOP = re.compile(r"'(###[A-Z]+###)'")


class UpstreamError(ValueError):
    """tau-bench's file is missing, unreadable or not of the shape this code reads."""


def read_text(up: dict, path: str, cache: Path | None) -> str:
    """`path` of `up` = {repo, commit[, base]} at its commit, kept under `cache` once read;
    `base` (absent: GitHub's raw files) may be a file:// folder <base>/<repo>/<commit>/<path>."""
    where = f"{up['repo']}/{up['commit']}/{path}"
    kept = cache / where if cache is not None else None
    if kept is not None and kept.exists():
        return kept.read_text()
    url = f"{up.get('base') or RAW}/{where}"
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            text = reply.read().decode()
    except (urllib.error.URLError, OSError) as error:
        raise UpstreamError(f"upstream file {url} could not be read: {error}") from error
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(text)
    return text


def label(up: dict, path: str) -> str:
    """A file's name in messages: repo@commit:path."""
    return f"{up['repo']}@{up['commit'][:8]}:{path}"


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
    try:
        return ast.literal_eval(node)
    except ValueError as error:
        raise UpstreamError(f"{where}: not a literal: {ast.unparse(node)[:60]}") from error


def tasks(text: str, name: str, where: str = "upstream") -> list[dict]:
    """The module-level list `name` of `Task(...)` calls, in order, as dicts (user_id,
    instruction, actions [{name, kwargs}], ...)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise UpstreamError(f"{where}: not Python source ({error})") from error
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


def _method(tree: ast.Module, cls: str, name: str, where: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef) and sub.name == name:
                    return sub
    raise UpstreamError(f"{where}: no method {cls}.{name}")


def _check(node: ast.FunctionDef, where: str) -> None:
    """Refuse a method that could do more than build a string."""
    for sub in ast.walk(node):
        bad = None
        if isinstance(sub, ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal):
            bad = type(sub).__name__
        elif isinstance(sub, ast.Name) and sub.id in FORBIDDEN:
            bad = sub.id
        elif isinstance(sub, ast.Attribute):
            bad = sub.attr  # a prompt builder needs no attribute (self.*, modules)
        if bad:
            raise UpstreamError(f"{where}: {node.name} uses {bad}; not a prompt builder")


def user_prompt(text: str, cls: str, where: str = "upstream") -> Callable[[str | None], str]:
    """The user simulator's `build_system_prompt(self, instruction)` of class `cls`, compiled
    alone (no annotations, a few builtins, no attribute access): instruction -> system prompt."""
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise UpstreamError(f"{where}: not Python source ({error})") from error
    node = copy.deepcopy(_method(tree, cls, "build_system_prompt", where))
    _check(node, where)
    node.returns = None
    node.decorator_list = []
    for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
        arg.annotation = None
    module = ast.Module(body=[node], type_ignores=[])
    space: dict = {"__builtins__": {n: getattr(builtins, n) for n in SAFE_BUILTINS}}
    exec(compile(module, "upstream", "exec"), space)  # noqa: S102 - checked pure prompt builder
    built = space[node.name]
    return lambda instruction: built(None, instruction)


def opening(text: str, cls: str, where: str = "upstream") -> str:
    """The agent's first message as the simulator's `reset` writes it (the one `user`-role
    message of its literal history)."""
    node = _method(ast.parse(text), cls, "reset", where)
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

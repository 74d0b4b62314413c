"""MultiSessionCollab's materials, read at run time from the benchmark's repository at a pinned
commit (full scale): never retyped here. Its prompts are module-level string constants of a
Python file, taken from its syntax tree; its user profiles are a JSON file."""

from __future__ import annotations

import ast
import json
import urllib.request

RAW = "https://raw.githubusercontent.com"


def source(repo: str, commit: str, path: str, base: str = RAW) -> str:
    """The file at the pinned commit (`base` may be a local clone's file:// URL)."""
    with urllib.request.urlopen(f"{base}/{repo}/{commit}/{path}", timeout=60) as reply:
        return reply.read().decode()


def constant(repo: str, commit: str, path: str, name: str, base: str = RAW) -> str:
    """The module-level constant `name` of `path` at `commit`."""
    text = source(repo, commit, path, base)
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise KeyError(f"{path}: no module-level constant {name}")


def prompts(up: dict) -> dict[str, str]:
    """The prompts a config's `upstream` block names (role -> text), from one prompts file."""
    base = up.get("base", "https://raw.githubusercontent.com")
    return {
        role: constant(up["repo"], up["commit"], up["path"], name, base)
        for role, name in up["prompts"].items()
    }


def profiles(spec: dict) -> list[dict]:
    """The benchmark's user profiles file (a JSON list) at the pinned commit."""
    return json.loads(
        source(
            spec["repo"],
            spec["commit"],
            spec["path"],
            spec.get("base", "https://raw.githubusercontent.com"),
        )
    )

"""MultiSessionCollab's materials, read at run time from the benchmark's repository at a pinned
commit (full scale): never retyped here. Its prompts are module-level string constants of a
Python file, taken from its syntax tree; its user profiles are a JSON file."""

from __future__ import annotations

import json

from reprolab import upstream as core


def constant(repo: str, commit: str, path: str, name: str, base: str | None = None) -> str:
    """The module-level constant `name` of `path` at `commit`."""
    where = core.label(repo, commit, path)
    return core.constant(core.read(repo, commit, path, base), name, where)


def prompts(up: dict) -> dict[str, str]:
    """The prompts a config's `upstream` block names (role -> text), from one prompts file."""
    return {
        role: constant(up["repo"], up["commit"], up["path"], name, up.get("base"))
        for role, name in up["prompts"].items()
    }


def profiles(spec: dict) -> list[dict]:
    """The benchmark's user profiles file (a JSON list) at the pinned commit."""
    return json.loads(core.read(spec["repo"], spec["commit"], spec["path"], spec.get("base")))

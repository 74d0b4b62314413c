"""MultiSessionCollab's materials, read at run time from the benchmark's repository at a pinned
commit (full scale): never retyped here. Its prompts are module-level string constants of a
Python file, taken from its syntax tree; its user profiles are a JSON file."""

from __future__ import annotations

import json

from reprolab import upstream as core


def prompts(up: dict) -> dict[str, str]:
    """The prompts a config's `upstream` block names (role -> text), from one prompts file,
    each a module-level constant of it (the file is read once)."""
    where = core.label(up["repo"], up["commit"], up["path"])
    text = core.read(up["repo"], up["commit"], up["path"], up.get("base"))
    return {role: core.constant(text, name, where) for role, name in up["prompts"].items()}


def profiles(spec: dict) -> list[dict]:
    """The benchmark's user profiles file (a JSON list) at the pinned commit."""
    return json.loads(core.read(spec["repo"], spec["commit"], spec["path"], spec.get("base")))

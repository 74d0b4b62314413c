"""The MultiSessionCollab user prompt, read at run time from the benchmark's repository at a
pinned commit (full scale): never retyped here. The prompts are module-level string constants
of a Python file, taken from its syntax tree."""

from __future__ import annotations

import ast
import urllib.request


def constant(repo: str, commit: str, path: str, name: str,
             base: str = "https://raw.githubusercontent.com") -> str:  # fmt: skip
    """The module-level constant `name` of `path` at `commit` (`base` may be a file:// clone)."""
    with urllib.request.urlopen(f"{base}/{repo}/{commit}/{path}", timeout=60) as reply:
        text = reply.read().decode()
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise KeyError(f"{path}: no module-level constant {name}")

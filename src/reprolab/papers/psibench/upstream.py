"""The authors' prompts read at run time from their repository at a pinned commit (full scale):
never retyped into this project. Their prompts are Python source (langchain templates), so the
text is taken from the file's syntax tree: a module-level constant (a dict of style
descriptions) or the string literals a function builds its prompt from."""

from __future__ import annotations

import ast

from reprolab import upstream as core


def source(repo: str, commit: str, path: str, base: str | None = None) -> str:
    """The file at the pinned commit (`base` may be a local clone's file:// URL)."""
    return core.read(repo, commit, path, base)


def constant(text: str, name: str):
    """A module-level literal assignment, e.g. PATIENT_STYLE_DESCRIPTIONS (a dict of strings)."""
    return core.constant(text, name)


def function_strings(text: str, function: str) -> list[str]:
    """The string literals (with f-string pieces joined) of a function, in source order: a
    prompt-building function's system message first."""
    for node in ast.walk(core.parse(text, "upstream")):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            body = node.body[1:] if ast.get_docstring(node) else node.body
            found = []
            for stmt in body:
                for sub in ast.walk(stmt):
                    text = sub.value if isinstance(sub, ast.Constant) else None
                    if isinstance(text, str) and len(text) > 40:
                        found.append(text)
            return found
    raise core.UpstreamError(f"no function {function}")

"""The authors' prompts read at run time from their repository at a pinned commit (full scale):
never retyped into this project. Tool-R0's prompts are Python string constants (some assigned
inside `main()`), so each is taken from the file's syntax tree by its variable name.

`prompts.upstream` names, for each prompt key of this paper, the file and variable it comes from;
`resolve` returns the config with those keys replaced (smoke and tiny name none: offline).
"""

from __future__ import annotations

import ast
import functools
import re
import urllib.request

DEFAULT_BASE = "https://raw.githubusercontent.com"


@functools.cache
def source(repo: str, commit: str, path: str, base: str = DEFAULT_BASE) -> str:
    """The file at the pinned commit (`base` may be a local clone's file:// URL)."""
    with urllib.request.urlopen(f"{base}/{repo}/{commit}/{path}", timeout=60) as reply:
        return reply.read().decode()


def constant(text: str, name: str) -> str:
    """The string literal assigned to `name` anywhere in the module (module level or inside a
    function, as the authors' step scripts define their prompts in `main`).

    The authors' rewards_generator.py does not compile at their commit (an indentation error
    far below its prompts), so a module that does not parse is read by a triple-quoted
    assignment `NAME = \"\"\"...\"\"\"` instead, its text taken literally."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        quotes = "(\"\"\"|''')"
        match = re.search(rf"^\s*{re.escape(name)}\s*=\s*{quotes}(.*?)\1", text, re.S | re.M)
        if match is None:
            raise KeyError(f"no triple-quoted assignment to {name} (not parsed)") from None
        return ast.literal_eval(match.group(1) + match.group(2) + match.group(1))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if not isinstance(value, str):
                raise TypeError(f"{name} is a {type(value).__name__}, not a prompt string")
            return value
    raise KeyError(f"no assignment to {name}")


def resolve(cfg: dict) -> dict:
    """cfg with every prompt named under prompts.upstream read from the authors' repository."""
    up = cfg["prompts"].get("upstream")
    if not up:
        return cfg
    prompts = dict(cfg["prompts"])
    for key, where in up["prompts"].items():
        text = source(up["repo"], up["commit"], where["path"], up.get("base", DEFAULT_BASE))
        prompts[key] = constant(text, where["name"])
    return {**cfg, "prompts": prompts}

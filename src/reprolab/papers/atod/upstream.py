"""The authors' prompts read at run time from amazon-science/ATOD at a pinned commit (full
scale), never retyped. Their prompts are Python functions that build an f-string from the
trajectory or the dialogue, so the text is taken from the file's syntax tree in one of two
ways: the f-string a function returns as a `str.format` template (a rubric whose fields are
plain names), or the prompt-building functions themselves, compiled alone from that tree (no
imports, no dunder access, a few builtins) so that their own wording and layout build the
prompt. Each file is cached on disk under its commit: a rerun reads no network."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

from reprolab import upstream as core
from reprolab.upstream import UpstreamError

__all__ = ["UpstreamError", "functions", "prompts", "source", "template", "templates"]

# What a compiled prompt function may call: string building only.
SAFE_BUILTINS = ("chr", "int", "str", "len", "dict", "list", "enumerate", "zip", "range",
                 "sorted", "isinstance", "ValueError", "TypeError", "KeyError")  # fmt: skip


def source(spec: dict, cache: Path | None = None) -> str:
    """The text of `spec` = {repo, commit, path[, base]} at its commit; `base` may be a
    file:// folder of the same layout (<base>/<repo>/<commit>/<path>, the tests' files)."""
    for key in ("repo", "commit", "path"):
        if not spec.get(key):
            raise UpstreamError(f"upstream source {spec}: no '{key}'")
    return core.read(spec["repo"], spec["commit"], spec["path"], spec.get("base"), cache)


def template(text: str, function: str, where: str = "upstream") -> str:
    """The f-string `function` returns (or, failing that, assigns), as a `str.format` template
    whose fields are the names it interpolates (e.g. {utterance}); its literal braces doubled."""
    node = core.function(core.parse(text, where), function, where)
    returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
    strings = [r for r in returned if isinstance(r, ast.JoinedStr)]
    if not strings:
        strings = [
            n.value
            for n in ast.walk(node)
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.JoinedStr)
        ]
    if len(strings) != 1:
        raise UpstreamError(f"{where}: {function} builds {len(strings)} f-strings, expected one")
    return core.format_template(strings[0], f"{where}: {function}")


def functions(pieces: list[tuple[str, list[str], str]]) -> dict[str, Callable]:
    """The named top-level functions of each (text, names, where), compiled alone into one
    namespace (a builder may call a helper of another file); `json` is the only module and a
    few builtins the only other names they see."""
    nodes = []
    for text, names, where in pieces:
        tree = core.parse(text, where)
        nodes += [(core.function(tree, name, where), where) for name in names]
    return core.compile_builders(nodes, SAFE_BUILTINS, {"json": json})


def _where(spec: dict) -> str:
    return core.label(spec["repo"], spec["commit"], spec["path"])


def _specs(up: dict, group: str) -> dict[str, dict]:
    """The sources of `up[group]`, each with the shared `repo` (and `base`) filled in."""
    if group not in up or not up[group].get("sources"):
        raise UpstreamError(f"upstream: no '{group}.sources' in {sorted(up)}")
    return {
        key: {
            "repo": up["repo"],
            "base": up.get("base", core.RAW),
            **spec,
        }
        for key, spec in up[group]["sources"].items()
    }


def prompts(up: dict, group: str, cache: Path | None = None) -> dict[str, Callable]:
    """The prompt builders of `up[group]`: {sources: {key: {path, commit, functions}}}."""
    return functions(
        [(source(s, cache), list(s["functions"]), _where(s)) for s in _specs(up, group).values()]
    )


def templates(up: dict, group: str, cache: Path | None = None) -> dict[str, str]:
    """The rubric templates of `up[group]`: {sources: {key: {path, commit, function}}}."""
    return {
        key: template(source(s, cache), s["function"], _where(s))
        for key, s in _specs(up, group).items()
    }

"""The authors' prompts read at run time from amazon-science/ATOD at a pinned commit (full
scale), never retyped. Their prompts are Python functions that build an f-string from the
trajectory or the dialogue, so the text is taken from the file's syntax tree in one of two
ways: the f-string a function returns as a `str.format` template (a rubric whose fields are
plain names), or the prompt-building functions themselves, compiled alone from that tree (no
imports, no dunder access, a few builtins) so that their own wording and layout build the
prompt. Each file is cached on disk under its commit: a rerun reads no network."""

from __future__ import annotations

import ast
import builtins
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

RAW = "https://raw.githubusercontent.com"
# What a compiled prompt function may call: string building only.
SAFE_BUILTINS = ("chr", "int", "str", "len", "dict", "list", "enumerate", "zip", "range",
                 "sorted", "isinstance", "ValueError", "TypeError", "KeyError")  # fmt: skip
FORBIDDEN = {"eval", "exec", "open", "compile", "__import__", "globals", "locals", "vars",
             "getattr", "setattr", "delattr", "input", "breakpoint"}  # fmt: skip


class UpstreamError(ValueError):
    """The authors' file is missing, unreadable or not of the shape this code reads."""


def source(spec: dict, cache: Path | None = None) -> str:
    """The text of `spec` = {repo, commit, path[, base]} at its commit; `base` may be a
    file:// folder of the same layout (<base>/<repo>/<commit>/<path>, the tests' files)."""
    for key in ("repo", "commit", "path"):
        if not spec.get(key):
            raise UpstreamError(f"upstream source {spec}: no '{key}'")
    where = f"{spec['repo']}/{spec['commit']}/{spec['path']}"
    kept = cache / where if cache is not None else None
    if kept is not None and kept.exists():
        return kept.read_text()
    url = f"{spec.get('base', RAW)}/{where}"
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            text = reply.read().decode()
    except (urllib.error.URLError, OSError) as error:
        raise UpstreamError(f"upstream file {url} could not be read: {error}") from error
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(text)
    return text


def _tree(text: str, where: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        raise UpstreamError(f"{where}: not Python source ({error})") from error


def _function(tree: ast.Module, name: str, where: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise UpstreamError(f"{where}: no top-level function {name}")


def template(text: str, function: str, where: str = "upstream") -> str:
    """The f-string `function` returns, as a `str.format` template whose fields are the names
    it interpolates (e.g. {utterance}); its literal braces doubled."""
    node = _function(_tree(text, where), function, where)
    returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
    strings = [r for r in returned if isinstance(r, ast.JoinedStr)]
    if not strings:
        assigned = [
            n.value
            for n in ast.walk(node)
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.JoinedStr)
        ]
        strings = assigned
    if len(strings) != 1:
        raise UpstreamError(f"{where}: {function} builds {len(strings)} f-strings, expected one")
    parts = []
    for piece in strings[0].values:
        if isinstance(piece, ast.Constant):
            parts.append(str(piece.value).replace("{", "{{").replace("}", "}}"))
        elif isinstance(piece.value, ast.Name) and piece.format_spec is None:
            parts.append("{" + piece.value.id + "}")
        else:
            raise UpstreamError(
                f"{where}: {function} interpolates {ast.unparse(piece)}, not a plain name"
            )
    return "".join(parts)


def _check(node: ast.FunctionDef, where: str) -> None:
    """Refuse a function that could do more than build a string."""
    for sub in ast.walk(node):
        bad = None
        if isinstance(sub, ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal):
            bad = type(sub).__name__
        elif isinstance(sub, ast.Name) and sub.id in FORBIDDEN:
            bad = sub.id
        elif isinstance(sub, ast.Attribute) and sub.attr.startswith("__"):
            bad = sub.attr
        if bad:
            raise UpstreamError(f"{where}: {node.name} uses {bad}; not a prompt builder")


def _unannotated(node: ast.FunctionDef) -> ast.FunctionDef:
    """The function without its annotations: they name typing imports (List, Dict) that are
    not compiled with it (the file has `from __future__ import annotations`)."""
    node.returns = None
    args = node.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            arg.annotation = None
    return node


def functions(pieces: list[tuple[str, list[str], str]]) -> dict[str, Callable]:
    """The named top-level functions of each (text, names, where), compiled alone into one
    namespace (a builder may call a helper of another file); `json` is the only module and a
    few builtins the only other names they see."""
    module = ast.Module(body=[], type_ignores=[])
    for text, names, where in pieces:
        tree = _tree(text, where)
        for name in names:
            node = _function(tree, name, where)
            _check(node, where)
            module.body.append(_unannotated(node))
    space: dict = {"__builtins__": {n: getattr(builtins, n) for n in SAFE_BUILTINS}, "json": json}
    exec(compile(module, "upstream", "exec"), space)  # noqa: S102 - checked pure prompt builders
    return {node.name: space[node.name] for node in module.body}


def _where(spec: dict) -> str:
    return f"{spec['repo']}@{spec['commit'][:8]}:{spec['path']}"


def _specs(up: dict, group: str) -> dict[str, dict]:
    """The sources of `up[group]`, each with the shared `repo` (and `base`) filled in."""
    if group not in up or not up[group].get("sources"):
        raise UpstreamError(f"upstream: no '{group}.sources' in {sorted(up)}")
    return {
        key: {
            "repo": up["repo"],
            "base": up.get("base", "https://raw.githubusercontent.com"),
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

"""The authors' own files, read at run time from their repository at a pinned commit.

Where the authors publish prompts, rubrics, data or simulator code, full scale reads them from
their repository at a commit pinned in the paper's config (never retyped into this project);
smoke and tiny use the project's own materials. The papers' files are Python modules or JSON;
a prompt is a string constant, an f-string a function returns, or a function that builds the
prompt. So this module reads a file (GitHub's raw files by default; a `file://` folder of the
same layout, <base>/<repo>/<commit>/<path>, in tests), keeps it on disk under its commit so a
rerun reads no network, and takes values from the file's syntax tree: literals without running
anything, prompt-building functions compiled alone after a check that they only build strings.
A paper's own upstream module says which files and names; the reading lives here.
"""

from __future__ import annotations

import ast
import builtins
import copy
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

RAW = "https://raw.githubusercontent.com"
# Names a compiled builder may never see, and what it may call unless a paper allows more.
FORBIDDEN = {"eval", "exec", "open", "compile", "__import__", "globals", "locals", "vars",
             "getattr", "setattr", "delattr", "input", "breakpoint"}  # fmt: skip
STRING_BUILTINS = ("str", "len", "isinstance")


class UpstreamError(ValueError):
    """An authors' file is missing, unreadable or not of the shape the paper reads."""


def label(repo: str, commit: str, path: str) -> str:
    """A file's name in messages: repo@commit:path."""
    return f"{repo}@{commit[:8]}:{path}"


def read(
    repo: str, commit: str, path: str, base: str | None = None, cache: Path | None = None
) -> str:
    """`path` of `repo` at `commit`; kept under `cache` (when given) once read."""
    if not (repo and commit and path):
        raise UpstreamError(
            f"upstream file needs a repo, commit and path: {repo!r}, {commit!r}, {path!r}"
        )
    where = f"{repo}/{commit}/{path}"
    kept = cache / where if cache is not None else None
    if kept is not None and kept.exists():
        return kept.read_text()
    url = f"{base or RAW}/{where}"
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            text = reply.read().decode()
    except (urllib.error.URLError, OSError) as error:
        raise UpstreamError(f"upstream file {url} could not be read: {error}") from error
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(text)
    return text


def first_line(repo: str, commit: str, path: str, base: str | None = None) -> str:
    """The first line of a file, without reading the rest (released results run to megabytes)."""
    url = f"{base or RAW}/{repo}/{commit}/{path}"
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            return reply.readline().decode()
    except (urllib.error.URLError, OSError) as error:
        raise UpstreamError(f"upstream file {url} could not be read: {error}") from error


def parse(text: str, where: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        raise UpstreamError(f"{where}: not Python source ({error})") from error


def function(tree: ast.Module, name: str, where: str) -> ast.FunctionDef:
    """The top-level function `name`."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise UpstreamError(f"{where}: no top-level function {name}")


def method(tree: ast.Module, cls: str, name: str, where: str) -> ast.FunctionDef:
    """The method `name` of the top-level class `cls`."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef) and sub.name == name:
                    return sub
    raise UpstreamError(f"{where}: no method {cls}.{name}")


def assigned(tree: ast.Module, name: str, where: str, anywhere: bool = False) -> ast.expr:
    """The expression assigned to `name` at module level (or anywhere, e.g. inside `main()`)."""
    nodes = ast.walk(tree) if anywhere else tree.body
    for node in nodes:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
    scope = "assignment to" if anywhere else "module-level constant"
    raise UpstreamError(f"{where}: no {scope} {name}")


def literal(node: ast.expr, where: str):
    """A Python literal's value (strings, numbers, lists, dicts), never evaluated code."""
    try:
        return ast.literal_eval(node)
    except ValueError as error:
        raise UpstreamError(f"{where}: not a literal: {ast.unparse(node)[:60]}") from error


def constant(text: str, name: str, where: str = "upstream", anywhere: bool = False):
    """The literal value assigned to `name` in a Python file."""
    return literal(assigned(parse(text, where), name, where, anywhere), where)


def format_template(
    node: ast.JoinedStr | ast.Constant, where: str, rename: Callable[[str], str] = str
) -> str:
    """An f-string (or plain string) as a `str.format` template: each interpolated plain name
    becomes the field rename(name), literal braces are doubled; anything else is refused."""
    if isinstance(node, ast.Constant):
        return str(node.value).replace("{", "{{").replace("}", "}}")
    parts = []
    for piece in node.values:
        if isinstance(piece, ast.Constant):
            parts.append(str(piece.value).replace("{", "{{").replace("}", "}}"))
        elif isinstance(piece.value, ast.Name) and piece.format_spec is None:
            parts.append("{" + rename(piece.value.id) + "}")
        else:
            raise UpstreamError(f"{where}: interpolates {ast.unparse(piece)}, not a plain name")
    return "".join(parts)


def check_builder(node: ast.FunctionDef, where: str, attributes: bool = True) -> None:
    """Refuse a function that could do more than build a string: imports, global state, the
    forbidden names, dunder attributes (or any attribute, when `attributes` is False)."""
    for sub in ast.walk(node):
        bad = None
        if isinstance(sub, ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal):
            bad = type(sub).__name__
        elif isinstance(sub, ast.Name) and sub.id in FORBIDDEN:
            bad = sub.id
        elif isinstance(sub, ast.Attribute) and (not attributes or sub.attr.startswith("__")):
            bad = sub.attr
        if bad:
            raise UpstreamError(f"{where}: {node.name} uses {bad}; not a prompt builder")


def compile_builders(
    nodes: list[tuple[ast.FunctionDef, str]],
    allowed: tuple[str, ...] = STRING_BUILTINS,
    names: dict | None = None,
    attributes: bool = True,
) -> dict[str, Callable]:
    """The functions (each with its file's label) checked, stripped of annotations and
    decorators (they name imports not compiled with them), and compiled alone into one
    namespace, where a builder may call another; they see only the builtins `allowed` and
    `names` (e.g. {"json": json})."""
    module = ast.Module(body=[], type_ignores=[])
    for node, where in nodes:
        check_builder(node, where, attributes)
        node = copy.deepcopy(node)
        node.returns, node.decorator_list = None, []
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                arg.annotation = None
        module.body.append(node)
    space: dict = {"__builtins__": {n: getattr(builtins, n) for n in allowed}, **(names or {})}
    exec(compile(module, "upstream", "exec"), space)  # noqa: S102 - checked pure builders
    return {node.name: space[node.name] for node in module.body}

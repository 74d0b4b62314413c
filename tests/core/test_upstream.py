"""Reading the authors' files at a pinned commit: once from the network, then from disk."""

from __future__ import annotations

import ast

import pytest

from reprolab import upstream
from reprolab.upstream import UpstreamError

PROMPTS = """
from typing import List
STYLES = {"calm": "A calm patient."}

def rubric(utterance):
    return f"Rate {utterance} from 1 to {{5}}."

def builder(turns: List[str]) -> str:
    return "\\n".join(f"- {t}" for t in turns)

def sneaky(x):
    import os
    return os.getcwd()

def dunder(x):
    return x.__class__
"""


@pytest.fixture
def base(tmp_path):
    """A file:// folder laid out as <base>/<repo>/<commit>/<path>."""
    folder = tmp_path / "remote" / "owner" / "repo" / "abc123"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "prompts.py").write_text(PROMPTS)
    return f"file://{tmp_path / 'remote'}"


def test_a_file_is_read_once_then_from_its_commit_on_disk(base, tmp_path):
    cache = tmp_path / "cache"
    assert upstream.read("owner/repo", "abc123", "src/prompts.py", base, cache) == PROMPTS
    (tmp_path / "remote" / "owner" / "repo" / "abc123" / "src" / "prompts.py").unlink()
    assert upstream.read("owner/repo", "abc123", "src/prompts.py", base, cache) == PROMPTS
    with pytest.raises(UpstreamError, match=r"file://.*/owner/repo/abc123/src/x.py could not"):
        upstream.read("owner/repo", "abc123", "src/x.py", base)
    with pytest.raises(UpstreamError, match="needs a repo, commit and path"):
        upstream.read("owner/repo", "", "src/x.py", base)


def test_values_come_from_the_syntax_tree_without_running_it():
    assert upstream.constant(PROMPTS, "STYLES") == {"calm": "A calm patient."}
    with pytest.raises(UpstreamError, match="no module-level constant MISSING"):
        upstream.constant(PROMPTS, "MISSING")
    tree = upstream.parse(PROMPTS, "prompts.py")
    node = upstream.function(tree, "rubric", "prompts.py").body[0].value
    assert (
        upstream.format_template(node, "rubric", str.upper) == "Rate {UTTERANCE} from 1 to {{5}}."
    )
    odd = ast.parse('f"{x.y}"').body[0].value
    with pytest.raises(UpstreamError, match="not a plain name"):
        upstream.format_template(odd, "odd")
    with pytest.raises(UpstreamError, match="not Python source"):
        upstream.parse("def (:", "broken.py")


def test_only_pure_string_builders_are_compiled():
    tree = upstream.parse(PROMPTS, "prompts.py")
    built = upstream.compile_builders([(upstream.function(tree, "builder", "p"), "p")])
    assert built["builder"](["a", "b"]) == "- a\n- b"  # its annotation's List is not needed
    for name, bad in (("sneaky", "Import"), ("dunder", "__class__")):
        with pytest.raises(UpstreamError, match=f"uses {bad}; not a prompt builder"):
            upstream.compile_builders([(upstream.function(tree, name, "p"), "p")])
    # Without attributes allowed, even str.join is refused (rein's simulator prompt needs none).
    with pytest.raises(UpstreamError, match="uses join"):
        upstream.compile_builders(
            [(upstream.function(tree, "builder", "p"), "p")], attributes=False
        )
    # Only the allowed builtins exist inside: `open` is not one of them.
    reader = upstream.parse("def f():\n    return len('ab') + int('1')\n", "p")
    with pytest.raises(NameError, match="int"):
        upstream.compile_builders([(upstream.function(reader, "f", "p"), "p")])["f"]()

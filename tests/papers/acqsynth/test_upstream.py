"""Full scale's generator prompts come from the authors' file at a pinned commit: read through a
stand-in repository of the same shape (a file:// base; this test's own text, not theirs)."""

from __future__ import annotations

import pytest

from reprolab.papers.acqsynth import generator, steps, upstream
from reprolab.upstream import UpstreamError

REPO, COMMIT, PATH = "someone/acq", "0" * 40, "data/prompt_variations.py"
STAND_IN = '''
OTHER = lambda question, answer: f"""ignored {question} {answer}"""

MATH_PROMPT = lambda question, reasoning, answer: f"""New problem like:
<question>
"{question}"
</question>
<reasoning>
{reasoning}
</reasoning>
<answer>
{answer}
</answer>
Wrap yours in {{tags}}."""

NOT_A_BUILDER = "plain text"
'''


@pytest.fixture
def spec(tmp_path):
    folder = tmp_path / "raw" / REPO / COMMIT / "data"
    folder.mkdir(parents=True)
    (folder / "prompt_variations.py").write_text(STAND_IN)
    return {"repo": REPO, "commit": COMMIT, "path": PATH, "base": f"file://{tmp_path / 'raw'}",
            "builders": {"math": "MATH_PROMPT"},
            "arguments": ["question", "answer", "reasoning"]}  # fmt: skip


def test_builder_becomes_a_template_in_the_authors_call_order(spec):
    template = upstream.generator_templates(spec)["math"]
    item = {"question": "Q?", "reasoning": "R.", "answer": "5", "family": "math"}
    conv = generator.prompt(item, {"system": "", "user": template})
    # No system message: the authors send the user turn alone. Their call passes the answer
    # to the `reasoning` parameter and the reasoning to `answer`; literal braces survive.
    assert conv == [{"role": "user", "content": (
        'New problem like:\n<question>\n"Q?"\n</question>\n<reasoning>\n5\n</reasoning>\n'
        "<answer>\nR.\n</answer>\nWrap yours in {tags}.")}]  # fmt: skip


def test_generator_text_reads_upstream_for_the_target_family(spec):
    cfg = {"prompts": {"upstream": spec, "generator": {"system": "s", "user": "{example}"}},
           "data": {"family": "math"}}  # fmt: skip
    assert steps.generator_text(cfg)["user"].startswith("New problem like")
    cfg["data"]["family"] = "mcq"
    with pytest.raises(ValueError, match="no builder for the family 'mcq'"):
        steps.generator_text(cfg)
    cfg["prompts"]["upstream"] = None
    assert steps.generator_text(cfg) == {"system": "s", "user": "{example}"}


def test_wrong_shapes_are_named(spec):
    with pytest.raises(UpstreamError, match="NOT_A_BUILDER is not a lambda"):
        upstream.generator_templates({**spec, "builders": {"math": "NOT_A_BUILDER"}})
    with pytest.raises(UpstreamError, match="takes"):
        upstream.generator_templates({**spec, "builders": {"math": "OTHER"}})
    with pytest.raises(UpstreamError, match="no module-level constant MISSING"):
        upstream.generator_templates({**spec, "builders": {"math": "MISSING"}})

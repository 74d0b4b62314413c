"""Every caption of `snakemake --report` (docs/report/) renders without a docutils complaint.

Snakemake renders a caption as a Jinja template (with a `snakemake` object: config, wildcards,
params, ...) and then as reStructuredText (docutils' `publish_parts`); a warning or an error
there shows in the report as a red box. The captions are rendered here the same way, the Jinja
step with plausible values (the suite's config at each scale, the paper's wildcards) and
undefined names failing, so that a caption naming something Snakemake would not give it fails
too.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
import yaml
from docutils.core import publish_parts

from tests.conftest import REPO

CAPTIONS = sorted((REPO / "docs" / "report").rglob("*.rst"))


def snakemake_object(caption: Path, scale: str) -> SimpleNamespace:
    """What Snakemake hands a caption's template: the suite config (the scale overridden as
    `--config scale=...` does) and the job's wildcards (a paper's first seed; the paper from
    the caption's folder)."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["scale"] = scale
    paper = caption.parent.name if caption.parent.name != "report" else "sgd_rlvr"
    wildcards = {"seed": "", "paper": paper}
    return SimpleNamespace(
        config=config,
        wildcards=SimpleNamespace(**wildcards),
        params=SimpleNamespace(),
        input=[],
        output=[],
        rule="",
    )


def render(text: str, snakemake: SimpleNamespace) -> tuple[str, str]:
    """(HTML body, every docutils system message of level >= 2) of a caption."""
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    source = env.from_string(text).render(snakemake=snakemake, categories={}, files={})
    warnings = io.StringIO()
    parts = publish_parts(
        source,
        writer="html",
        settings_overrides={
            "report_level": 2,  # warnings and above are reported...
            "halt_level": 5,  # ...and none stops the rendering, so every one is seen
            "warning_stream": warnings,
        },
    )
    return parts["body"], warnings.getvalue()


def test_every_figure_has_a_caption_and_there_are_some():
    assert len(CAPTIONS) >= 10
    assert REPO / "docs" / "report" / "workflow.rst" in CAPTIONS


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_caption_renders_without_docutils_messages(caption, scale):
    body, messages = render(caption.read_text(), snakemake_object(caption, scale))
    where = caption.relative_to(REPO)
    assert not messages, f"{where}: docutils reports\n{messages}"
    assert "system-message" not in body, f"{where}: {body}"
    assert body.strip(), f"{where}: renders empty"


def test_a_broken_caption_is_caught():
    """The check itself: a substitution reference without its definition, the kind of slip
    that once showed red in the report (`|F_A ∩ F_B|`), and an unknown template name."""
    snakemake = snakemake_object(REPO / "docs" / "report" / "claims.rst", "smoke")
    _, messages = render("overlap |A| / |B| of two sets", snakemake)
    assert "Undefined substitution referenced" in messages
    _, messages = render("an *emphasis never closed", snakemake)
    assert "(WARNING/2) Inline emphasis start-string without end-string" in messages
    with pytest.raises(jinja2.UndefinedError):
        render("{{ snakemake.wildcards.arm }}", snakemake)

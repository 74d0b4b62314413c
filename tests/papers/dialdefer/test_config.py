"""dialdefer's config at every scale: valid, self-consistent, and honest about what full runs."""

from __future__ import annotations

import pytest

from reprolab.config import ConfigError, load_config
from tests.conftest import REPO


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
def test_every_scale_loads_and_names_only_known_conditions(scale):
    cfg = load_config("dialdefer", scale, REPO / "config")
    judge = cfg["judge"]
    for mode in ("forced_choice", "parsed"):
        assert "base" in judge[mode]["conditions"]
        for name in judge[mode]["conditions"]:
            condition = judge["conditions"][name]
            assert condition.get("template", "paper") in judge["templates"]
            assert condition.get("system_prompt", "be_honest") in judge["system_prompts"]
    # Tiny fits one paraphrase on every item in its budget; the others keep the three.
    assert len(cfg["evaluate"]["paraphrases"]) >= (1 if scale == "tiny" else 3)
    assert set(cfg["evaluate"]["paraphrases"]) <= set(judge["forced_choice"]["conditions"])


def test_full_scale_uses_the_paper_setup():
    cfg = load_config("dialdefer", "full", REPO / "config")
    assert cfg["data"]["source"] == "paper_files"
    # The nine released datasets of the paper (r/AIO's transcripts are redacted).
    assert len(cfg["data"]["paper_files"]["domains"]) == 9
    assert "/ad11801bd59ae23b91577fe268b5d25534c358a8/" in cfg["data"]["paper_files"]["base"]
    assert cfg["judge"]["parsed"]["max_new_tokens"] == 300  # the paper's generation length
    assert cfg["evaluate"]["bootstrap_resamples"] == 10000
    assert cfg["evaluate"]["bootstrap_seed"] == 42


def test_tiny_and_smoke_never_reach_the_hub():
    for scale in ("smoke", "tiny"):
        assert load_config("dialdefer", scale, REPO / "config")["data"]["source"] == "procedural"


def test_a_wrong_key_is_named(tmp_path):
    import shutil

    shutil.copytree(REPO / "config", tmp_path / "config")
    path = tmp_path / "config" / "papers" / "dialdefer.yaml"
    path.write_text(path.read_text().replace("n_eval_per_domain: 10", "n_eval_per_domain: many"))
    with pytest.raises(ConfigError, match="tiny.data.n_eval_per_domain"):
        load_config("dialdefer", "tiny", tmp_path / "config")

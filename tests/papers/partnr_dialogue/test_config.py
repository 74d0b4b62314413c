"""partnr_dialogue's config at every scale: valid, one code path, the paper's setup at full."""

from __future__ import annotations

import shutil

import pytest
import yaml

from reprolab.config import ConfigError, load_config
from tests.conftest import REPO, copy_workflow, snakemake

SUITE = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
def test_every_scale_loads_with_registered_models(scale):
    cfg = load_config("partnr_dialogue", scale, REPO / "config")
    assert set(cfg["episodes"]["task_types"]) == {
        "constraint_free",
        "spatial",
        "temporal",
        "heterogeneous",
    }
    for name in cfg["llm"]["models"]:
        assert name in SUITE["models"], name


def test_full_scale_runs_the_papers_llms_with_react_through_vllm():
    cfg = load_config("partnr_dialogue", "full", REPO / "config")
    llm = cfg["llm"]
    assert llm["mode"] == "react" and llm["backend"] == "vllm"
    repos = {
        SUITE["models"][m]["repo_id"]
        for m in llm["models"]
        if SUITE["models"][m]["source"] == "hub"
    }
    assert repos == {"meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct"}
    tiny = load_config("partnr_dialogue", "tiny", REPO / "config")
    assert cfg["episodes"]["n_per_type"] > tiny["episodes"]["n_per_type"]
    assert cfg["sim"]["action_budget"] > tiny["sim"]["action_budget"]
    assert "Action:" in llm["react_prompt"].splitlines()[-1]  # the format the parser reads


def test_tiny_scores_actions_with_the_local_model():
    cfg = load_config("partnr_dialogue", "tiny", REPO / "config")
    assert cfg["llm"]["mode"] == "score"
    assert all(SUITE["models"][m]["source"] != "hub" for m in cfg["llm"]["models"])


def test_a_wrong_value_is_named(tmp_path):
    shutil.copytree(REPO / "config", tmp_path / "config")
    path = tmp_path / "config" / "papers" / "partnr_dialogue.yaml"
    path.write_text(path.read_text().replace("scope: any", "scope: everywhere"))
    with pytest.raises(ConfigError, match="common.sim.delivery.scope"):
        load_config("partnr_dialogue", "tiny", tmp_path / "config")


def test_full_scale_plans_every_model_and_condition(tmp_path):
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=full", "papers=[partnr_dialogue]")
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout + run.stderr
    for model in ("llama-3.1-8b-instruct", "qwen2.5-7b-instruct"):
        for condition in ("silent", "dialogue"):
            assert f"eval/logs/{model}/{condition}.jsonl" in out, (model, condition)
    assert "results/full/partnr_dialogue/claims.json" in out

"""Config errors fail early and name the file, the key and what was expected."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from reprolab.config import ConfigError, deep_merge, load_config
from tests.conftest import REPO


@pytest.fixture
def config_dir(tmp_path):
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path / "config"


def edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
def test_every_scale_resolves(scale):
    cfg = load_config("sgd_rlvr", scale, REPO / "config")
    assert cfg["suite"]["scale"] == scale
    assert {"adamw", "sgd", "sgd_momentum", "rmsprop"} <= set(cfg["grpo"]["arms"])


def test_scale_block_overrides_common():
    cfg = load_config("sgd_rlvr", "full", REPO / "config")
    assert cfg["grpo"]["trainer"]["beta"] == 0.001  # full's value over common's 0.0
    assert cfg["grpo"]["trainer"]["max_grad_norm"] == 1.0  # inherited from common


def test_deep_merge_keeps_untouched_keys():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


def test_bad_scale_names_key_and_choices(config_dir):
    with pytest.raises(
        ConfigError, match=r"config\.yaml: key 'scale': expected 'huge' is not one of"
    ):
        load_config("sgd_rlvr", "huge", config_dir)


def test_a_paper_outside_the_manifest_is_named(config_dir):
    edit(config_dir / "config.yaml", lambda d: d.update(papers=["sgd_rlvr", "sgd_rvlr"]))
    with pytest.raises(ConfigError, match=r"key 'papers': 'sgd_rvlr' is not a paper of the suite"):
        load_config("sgd_rlvr", "smoke", config_dir)


def test_unknown_suite_key(config_dir):
    edit(config_dir / "config.yaml", lambda d: d.update(sede=1))
    with pytest.raises(
        ConfigError, match=r"config\.yaml: key 'sede': expected one of the known keys"
    ):
        load_config("sgd_rlvr", "smoke", config_dir)


def test_wrong_type_in_paper_file(config_dir):
    path = config_dir / "papers" / "sgd_rlvr.yaml"
    edit(path, lambda d: d["smoke"]["data"].update(n_train="many"))
    with pytest.raises(
        ConfigError,
        match=r"sgd_rlvr\.yaml: key 'smoke\.data\.n_train': expected 'many' is not of type",
    ):
        load_config("sgd_rlvr", "smoke", config_dir)


def test_unknown_optimizer_key(config_dir):
    path = config_dir / "papers" / "sgd_rlvr.yaml"
    edit(path, lambda d: d["common"]["grpo"]["arms"]["sgd"].update(momentun=0.9))
    with pytest.raises(ConfigError, match=r"key 'common\.grpo\.arms\.sgd\.momentun'"):
        load_config("sgd_rlvr", "smoke", config_dir)


def test_missing_required_key_after_merge(config_dir):
    path = config_dir / "papers" / "sgd_rlvr.yaml"
    edit(path, lambda d: d["common"]["evaluate"].pop("atol"))
    with pytest.raises(
        ConfigError, match=r"\(common \+ smoke\): key 'evaluate\.atol': expected this key"
    ):
        load_config("sgd_rlvr", "smoke", config_dir)


def test_unknown_model_name(config_dir):
    path = config_dir / "papers" / "sgd_rlvr.yaml"
    edit(path, lambda d: d["smoke"].update(model="gpt-9"))
    with pytest.raises(
        ConfigError, match=r"key 'model': 'gpt-9' is not a model of config/config\.yaml"
    ):
        load_config("sgd_rlvr", "smoke", config_dir)


def test_snakemake_refuses_bad_config_before_any_job(tmp_path):
    for name in ("Snakefile", "rules", "config", "seeds", "profiles"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--config", "scale=huge"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "key 'scale': expected 'huge' is not one of" in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("paper", "change", "message"),
    [
        (
            "sgd_rlvr",
            lambda d: d["common"]["evaluate"].update(backend="vllmm"),
            r"key 'evaluate.backend': unknown backend 'vllmm'; expected one of",
        ),
        (
            "sgd_rlvr",
            lambda d: d["common"]["grpo"]["trainer"].update(max_stpes=3),
            r"key 'grpo.trainer': unknown trainer keys \['max_stpes'\]",
        ),
        (
            "dialdefer",
            lambda d: d["common"]["sft"]["trainer"].update(num_generations=4),
            r"key 'sft.trainer': unknown trainer keys \['num_generations'\]",  # a GRPO key
        ),
        (
            "sgd_rlvr",
            lambda d: d["smoke"]["data"].update(min_operand=12, max_operand=9),
            r"key 'data': min_operand \(12\) is above max_operand \(9\)",
        ),
    ],
)
def test_value_errors_before_any_job_name_file_key_and_expectation(
    config_dir, paper, change, message
):
    edit(config_dir / "papers" / f"{paper}.yaml", change)
    with pytest.raises(ConfigError, match=message):
        load_config(paper, "smoke", config_dir)


def test_model_shapes_and_yaml_syntax_errors_name_where(config_dir):
    edit(
        config_dir / "config.yaml",
        lambda d: d["models"]["tiny-random-llama"].update(hidden_size=-64),
    )
    with pytest.raises(ConfigError, match=r"models.tiny-random-llama.hidden_size"):
        load_config("sgd_rlvr", "smoke", config_dir)
    edit(
        config_dir / "config.yaml",
        lambda d: d["models"]["tiny-random-llama"].update(hidden_size=66),
    )
    with pytest.raises(ConfigError, match=r"hidden_size \(66\) must divide"):
        load_config("sgd_rlvr", "smoke", config_dir)
    path = config_dir / "config.yaml"
    path.write_text("scale: tiny\npapers: [sgd_rlvr\nseed: 0\n")
    with pytest.raises(ConfigError, match=r"config.yaml:3:5: not valid YAML"):
        load_config("sgd_rlvr", "smoke", config_dir)


def test_a_papers_seeds_default_to_the_suite_seed_and_the_first_is_its_seed(config_dir):
    cfg = load_config("sgd_rlvr", "smoke", config_dir, overrides={"seed": 7})
    assert cfg["seeds"] == [7] and cfg["suite"]["seed"] == 7
    path = config_dir / "papers" / "sgd_rlvr.yaml"
    edit(path, lambda d: d["smoke"].update(seeds=[3, 4]))
    cfg = load_config("sgd_rlvr", "smoke", config_dir)
    assert cfg["seeds"] == [3, 4] and cfg["suite"]["seed"] == 3
    for bad in ([], [1, 1], [-1], "0"):
        edit(path, lambda d, bad=bad: d["smoke"].update(seeds=bad))
        with pytest.raises(ConfigError, match=r"sgd_rlvr\.yaml: key 'smoke\.seeds"):
            load_config("sgd_rlvr", "smoke", config_dir)

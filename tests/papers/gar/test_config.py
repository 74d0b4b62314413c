"""gar's config at every scale: valid, self-consistent, and the paper's setup at full scale."""

from __future__ import annotations

import pytest
import yaml

from reprolab.config import ConfigError, load_config
from tests.conftest import REPO


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
def test_every_scale_names_only_defined_conditions_and_tasks(scale):
    cfg = load_config("gar", scale, REPO / "config")
    generate, evaluate = cfg["generate"], cfg["evaluate"]
    assert set(generate["tasks"]) <= set(cfg["data"]["tasks"])
    assert set(generate["tasks"]) <= set(generate["max_new_tokens"])
    for names in generate["tasks"].values():
        assert set(names) <= set(generate["conditions"])
    sweep_task = generate["tasks"][evaluate["sweep_task"]]
    assert {evaluate["reference"], evaluate["main_closure"], *evaluate["sweep"]} <= set(sweep_task)
    assert generate["tasks"][evaluate["probe_task"]] == [evaluate["probe_condition"]]
    assert generate["keep_hidden"] == [evaluate["probe_condition"]]
    assert cfg["data"]["tasks"][evaluate["probe_task"]]["probe_every"] == 1  # crossover = probe
    windows = [generate["conditions"][c]["window"] for c in evaluate["sweep"]]
    assert windows == sorted(windows) and len(set(windows)) == len(windows)
    main = generate["conditions"][evaluate["main_closure"]]["window"]
    for control in ("restated", "sinks", "closed_passive", "closed_naturalistic"):
        assert generate["conditions"][control]["window"] == main  # controls use the main window
    assert generate["conditions"]["random_span"]["span_window"] == main


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
def test_the_sweep_task_probes_every_turn_and_asks_each_fact_once(scale):
    # A fact asked again while its earlier answer is inside the window can be copied after the
    # crossover (the issue-18 tiny run): evaluate refuses such a sweep, so the config must not
    # make one.
    from reprolab.papers.gar.data import make_episodes

    cfg = load_config("gar", scale, REPO / "config")
    name = cfg["evaluate"]["sweep_task"]
    task = cfg["data"]["tasks"][name]
    if scale != "smoke":  # smoke's sweep (fact5, 3 probes) only checks the wiring
        assert task["probe_every"] == 1
    for episode in make_episodes({"name": name, **task}, seed=0):
        keys = [t["key"] for t in episode["turns"] if t["kind"] == "probe"]
        assert len(keys) == len(set(keys))


def test_full_scale_uses_the_paper_setup():
    cfg = load_config("gar", "full", REPO / "config")
    assert cfg["generate"]["backend"] == "transformers"  # vLLM returns no attention
    assert cfg["generate"]["temperature"] == 0.7
    tasks = cfg["data"]["tasks"]
    assert all(t["n_turns"] == 50 for name, t in tasks.items() if name != "probe5")
    assert tasks["probe5"]["n_turns"] >= 25  # past the crossover at W = 4096 (turn ~23)
    assert cfg["data"]["tasks"]["fact20"]["n_facts"] == 20
    sweep = [cfg["generate"]["conditions"][c]["window"] for c in cfg["evaluate"]["sweep"]]
    assert sweep == [1024, 2048, 4096, 8192]
    assert cfg["generate"]["conditions"]["w_main"]["window"] == 4096
    suite = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert suite["models"][cfg["model"]]["source"] == "hub"


def test_tiny_probes_read_one_window_over_enough_episodes():
    cfg = load_config("gar", "tiny", REPO / "config")
    assert cfg["data"]["tasks"][cfg["evaluate"]["probe_task"]]["n_episodes"] >= 60


def test_a_wrong_condition_key_is_named(tmp_path):
    config = tmp_path / "config"
    (config / "papers").mkdir(parents=True)
    (config / "schemas").mkdir()
    for name in (
        "schemas/config.schema.yaml",
        "schemas/common.schema.yaml",
        "schemas/gar.schema.yaml",
    ):
        (config / name).write_text((REPO / "config" / name).read_text())
    suite = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    (config / "config.yaml").write_text(yaml.safe_dump({**suite, "papers": ["gar"]}))
    text = (REPO / "config" / "papers" / "gar.yaml").read_text()
    (config / "papers" / "gar.yaml").write_text(text.replace("{window: 160}", "{widow: 160}"))
    with pytest.raises(ConfigError, match="gar.yaml.*widow"):
        load_config("gar", "tiny", config)

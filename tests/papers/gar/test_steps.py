"""gar's step declaration: the decode jobs and what each one's config holds."""

from __future__ import annotations

import copy

from reprolab.config import load_config
from reprolab.papers.gar.steps import generate_threads, one_run, runs
from reprolab.steps import job_config, load_paper
from tests.conftest import REPO


def test_one_decode_job_per_task_and_condition():
    cfg = load_config("gar", "smoke", REPO / "config")
    jobs = runs(cfg)
    assert len(jobs) == sum(len(names) for names in cfg["generate"]["tasks"].values())
    assert ("fact5", "w_main") in jobs and ("persona", "closed_passive") in jobs
    assert generate_threads(cfg, 8) == 1  # one thread per job at smoke: jobs side by side
    assert generate_threads(load_config("gar", "full", REPO / "config"), 8) == 8


def test_a_decode_job_sees_only_its_task_and_condition():
    cfg = load_config("gar", "smoke", REPO / "config")
    section = one_run(cfg, {"task": "fact5", "condition": "w_main"})["generate"]
    assert section["tasks"] == {"fact5": ["w_main"]}
    assert list(section["conditions"]) == ["w_main"]
    assert section["keep_hidden"] == []
    assert section["max_new_tokens"] == {"fact5": 4}
    probe = one_run(cfg, {"task": "probe5", "condition": "w_probe"})["generate"]
    assert probe["keep_hidden"] == ["w_probe"]
    assert section["backend"] == "transformers" and "threads" not in section
    # Another condition's or task's setting changes: this job's config (and so its run) stays.
    step = load_paper("gar").step("generate")
    wildcards = {"task": "fact5", "condition": "w_main"}
    changed = copy.deepcopy(cfg)
    changed["generate"]["conditions"]["w_small"]["window"] = 41
    changed["generate"]["max_new_tokens"]["persona"] = 9
    assert job_config(changed, step, wildcards) == job_config(cfg, step, wildcards)
    changed["generate"]["conditions"]["w_main"]["window"] = 151
    assert job_config(changed, step, wildcards) != job_config(cfg, step, wildcards)

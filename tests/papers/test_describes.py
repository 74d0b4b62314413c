"""An evaluation run carries the settings of the arm it evaluates, under the names its train run
uses (Step.describes), so that MLflow plots accuracy against the learning rate; and an arm's
evaluation reruns when, and only when, that arm's training settings change."""

from __future__ import annotations

import copy

import pytest

from reprolab.steps import description, job_config, load_paper
from tests.conftest import REPO

# paper, (train step, its wildcards), (evaluation step, its wildcards), the arm's section path
# to its optimizer, another arm's optimizer (whose change must not rerun this evaluation).
CASES = [
    (
        "sgd_rlvr",
        ("train", {"arm": "grpo_sgd"}),
        ("score", {"arm": "grpo_sgd"}),
        ("grpo", "arms", "sgd"),
        ("grpo", "arms", "adamw"),
    ),
    (
        "dialdefer",
        ("train", {"arm": "sft"}),
        ("score_finetuned", {"mode": "forced_choice", "arm": "sft"}),
        ("sft", "optimizer"),
        ("dpo", "optimizer"),
    ),
    (
        "toolr0",
        ("train_solver", {"variant": "toolr0", "iteration": "2"}),
        ("score", {"arm": "toolr0/iter2"}),
        ("solver", "optimizer"),
        ("generator", "optimizer"),
    ),
]


def _at(cfg: dict, path: tuple[str, ...]) -> dict:
    for key in path:
        cfg = cfg[key]
    return cfg


@pytest.mark.parametrize(("paper", "train", "score", "arm_path", "other_path"), CASES)
def test_an_evaluation_carries_its_arms_training_settings(
    paper, train, score, arm_path, other_path
):
    from reprolab.config import load_config

    cfg = load_config(paper, "smoke", REPO / "config")
    steps = load_paper(paper).steps
    train_step, train_wildcards = steps[train[0]], train[1]
    score_step, score_wildcards = steps[score[0]], score[1]
    trained = description(train_step, job_config(cfg, train_step, train_wildcards), train_wildcards)
    scored = description(score_step, job_config(cfg, score_step, score_wildcards), score_wildcards)
    lr = _at(cfg, arm_path)["lr"]
    assert scored["optimizer.lr"] == trained["optimizer.lr"] == lr
    assert "optimizer.name" in scored and "trainer.max_steps" in scored
    shared = {k: v for k, v in trained.items() if k.startswith(("optimizer.", "trainer."))}
    assert shared.items() <= scored.items(), "the score run names the arm as its train run does"

    # The arm's learning rate reruns its evaluation; another arm's does not.
    before = job_config(cfg, score_step, score_wildcards)
    changed = copy.deepcopy(cfg)
    _at(changed, arm_path)["lr"] = lr * 2
    assert job_config(changed, score_step, score_wildcards) != before
    other = copy.deepcopy(cfg)
    _at(other, other_path)["lr"] = lr * 3
    assert job_config(other, score_step, score_wildcards) == before


def test_the_base_arm_is_described_without_training_settings():
    from reprolab.config import load_config

    cfg = load_config("sgd_rlvr", "smoke", REPO / "config")
    step = load_paper("sgd_rlvr").step("score")
    job = job_config(cfg, step, {"arm": "base"})
    assert set(job) == {"suite", "model", "evaluate"}  # no arm's change reruns the base score
    assert description(step, job, {"arm": "base"}) == {"method": "base"}

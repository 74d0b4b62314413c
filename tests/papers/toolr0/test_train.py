"""Both roles' GRPO steps run through the core's trainer on a tiny random model."""

from __future__ import annotations

import json

from reprolab.config import load_config
from reprolab.papers.toolr0.parse import parse_generator
from reprolab.papers.toolr0.selfplay import Solver, curriculum_scores, generator_reward_funcs
from reprolab.papers.toolr0.train import train_solver
from tests.conftest import REPO

TASKS = [
    {
        "question": "What is 12 plus 30?",
        "tools": [{"name": "add", "description": "Add two numbers.", "required": ["a", "b"],
                   "parameters": {"a": {"type": "number", "description": "x"},
                                  "b": {"type": "number", "description": "y"}}}],
        "gold": [{"name": "add", "arguments": {"a": 12, "b": 30}}],
    }
] * 2  # fmt: skip


def test_solver_grpo_trains_on_generated_tasks(tiny_model, tmp_path, mlflow_uri):
    cfg = load_config("toolr0", "smoke", REPO / "config")
    summary = train_solver(cfg, TASKS, tiny_model, tmp_path / "out", tmp_path / "ckpt", 1)
    assert summary["steps"] == 1
    log = [json.loads(line) for line in (tmp_path / "out" / "train_log.jsonl").open()]
    assert any("rewards/r_fmt_reward/mean" in row for row in log)


def test_no_task_carries_the_solver_over(tiny_model, tmp_path):
    cfg = load_config("toolr0", "smoke", REPO / "config")
    summary = train_solver(cfg, [], tiny_model, tmp_path / "out", tmp_path / "ckpt", 1)
    assert summary == {"kind": "grpo", "steps": 0, "skipped": "no tasks", "train_seconds": 0.0}
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == (
        tiny_model / "model.safetensors"
    ).read_bytes()


def test_curriculum_scores_sample_the_solver_and_judge(tiny_model):
    cfg = load_config("toolr0", "smoke", REPO / "config")
    text = (
        "<think>x</think><question>What is 12 plus 30 today?</question>"
        '<available_tools>["add"]</available_tools>'
        '<tool_call_answer>[{"name": "add", "arguments": {"a": 12, "b": 30}}]</tool_call_answer>'
    )
    outs = [parse_generator(text), parse_generator("nothing")]
    scores = curriculum_scores(outs, [["add"], ["add"]], Solver(str(tiny_model), cfg), cfg, 0)
    # A random solver never writes the gold call (p = 0); the rule judge gives the full 5.
    assert scores == [(0.0, 5), (0.0, 1)]
    funcs = generator_reward_funcs(cfg, str(tiny_model), use_difficulty=True, seed=0)
    completions = [[{"role": "assistant", "content": text}]]
    menu = [json.dumps(["add"])]
    values = [f(None, completions, menu=menu)[0] for f in funcs]
    assert values == [1.0, 1.0, 0.5]  # r_diff(0) = 0, (5 - 1) / 4 = 1

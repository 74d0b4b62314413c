"""Multi-process training: the launch line of a train job, and two CPU processes over gloo
giving the same training as one process with the same global batch."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from reprolab.config import load_paper_config, load_yaml
from reprolab.distributed import launch_prefix, processes
from reprolab.io import read_jsonl, write_jsonl
from reprolab.papers import manifest
from reprolab.steps import load_paper
from reprolab.wiring import Wiring
from tests.conftest import REPO

# One call of the core trainer, as a train step makes it; argv: spec, model, rows, out, checkpoints.
TRAIN_ONCE = """
import json, sys
from pathlib import Path
from reprolab.io import read_jsonl
from reprolab.training.trainers import train

spec = json.loads(Path(sys.argv[1]).read_text())
model, rows, out, checkpoints = map(Path, sys.argv[2:6])
train("sft", model, read_jsonl(rows), out, checkpoints, spec["trainer"], spec["optimizer"], 0)
"""


def test_a_train_job_runs_one_process_per_gpu_and_others_one():
    assert processes({"gpus": 4}, "train") == 4
    assert processes({"gpus": 0}, "train") == 1
    assert processes({"gpus": 1}, "generate") == 1
    assert processes({"gpus": 4}, "generate") == 1  # vLLM spreads one process over its GPUs
    assert processes({"gpus": 0, "processes": 2}, "train") == 2
    assert launch_prefix({"gpus": 1}, "train") == ""
    assert launch_prefix({"gpus": 4}, "train").startswith(
        "accelerate launch --multi_gpu --num_processes 4 --num_machines 1"
    )


def test_full_scale_train_jobs_start_through_accelerate_with_their_gpu_count(monkeypatch):
    config = load_yaml(REPO / "config" / "config.yaml")
    config["scale"] = "full"
    monkeypatch.chdir(REPO)  # the wiring writes job configs under results/
    wiring = Wiring(config, {p: load_paper_config(p, config) for p in config["papers"]})
    gpus = config["resources"]["full"]["train"]["gpus"]
    assert gpus > 1
    trained = 0
    for paper in manifest():
        for step in load_paper(paper).steps.values():
            line = wiring.shell(paper, step.name)
            if step.kind == "train":
                trained += 1
                assert line.startswith(f"accelerate launch --multi_gpu --num_processes {gpus} ")
                assert f" -m reprolab.cli {paper} " in line
            else:
                assert line.startswith(f"reprolab {paper} "), line
    assert trained >= 3


@pytest.mark.slow
def test_two_gloo_processes_train_as_one_process_with_the_same_global_batch(tiny_model, tmp_path):
    """SFT with SGD on the tiny random Llama, 3 steps: one process with batch 4 against two
    processes with batch 2 each (accelerate launch, gloo on the CPU). DDP averages the two
    halves' gradients, so the losses and the trained weights agree up to float summation order:
    tolerance 1e-5 relative on losses, 1e-5 absolute on weights (fp32)."""
    rows = [
        {
            "prompt": [{"role": "user", "content": f"{i} plus {i}?"}],
            "completion": [{"role": "assistant", "content": str(2 * i)}],
        }
        for i in range(12)
    ]
    write_jsonl(tmp_path / "train.jsonl", rows)
    trainer = {
        "max_steps": 3,
        "save_steps": 3,
        "lr_scheduler_type": "constant",
        "max_grad_norm": 1.0,
    }
    bin_dir = str(Path(sys.executable).parent)  # where `accelerate` is, as in a job's PATH
    env = dict(
        os.environ,
        MLFLOW_TRACKING_URI="none",
        PYTHONPATH=str(REPO / "src"),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    outs = {}
    for n, batch in ((1, 4), (2, 2)):
        spec = {
            "trainer": {**trainer, "per_device_train_batch_size": batch},
            "optimizer": {"name": "sgd", "lr": 0.1},
            "seed": 0,
        }
        (tmp_path / f"spec{n}.json").write_text(json.dumps(spec))
        (tmp_path / "train_once.py").write_text(TRAIN_ONCE)
        args = [
            str(tmp_path / f"spec{n}.json"),
            str(tiny_model),
            str(tmp_path / "train.jsonl"),
            str(tmp_path / f"out{n}"),
            str(tmp_path / f"ck{n}"),
        ]
        prefix = launch_prefix({"gpus": 0, "processes": n}, "train")
        if prefix:  # the same launcher as a job's, on a script instead of the module
            cmd = [
                *shlex.split(prefix.removesuffix(" -m reprolab.cli")),
                str(tmp_path / "train_once.py"),
                *args,
            ]
        else:
            cmd = [sys.executable, str(tmp_path / "train_once.py"), *args]
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outs[n] = tmp_path / f"out{n}"
    one, two = (read_jsonl(outs[n] / "train_log.jsonl") for n in (1, 2))
    losses = [[r["loss"] for r in log if "loss" in r] for log in (one, two)]
    assert len(losses[0]) == 3
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)
    summary = json.loads((outs[2] / "train_summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 3
    w1, w2 = (load_file(outs[n] / "model.safetensors") for n in (1, 2))
    start = load_file(Path(tiny_model) / "model.safetensors")
    assert w1.keys() == w2.keys()
    moved = max((w1[k] - start[k]).abs().max().item() for k in w1)
    assert moved > 1e-3  # training changed the weights, so agreement is not trivial
    for k in w1:
        torch.testing.assert_close(w2[k], w1[k], rtol=0, atol=1e-5)

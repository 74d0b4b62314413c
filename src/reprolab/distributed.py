"""Multi-process training: how a train job is launched, and which process may write.

A train job with several GPUs runs as TRL documents it, `accelerate launch --multi_gpu
--num_processes <gpus>`, one process per GPU (a job's `processes` resource overrides the count,
so that two CPU processes over gloo can test the same path). Every process runs the step; only
the main one (RANK 0) tracks it in MLflow and writes what the trainer saves.
"""

from __future__ import annotations

import os


def rank() -> int:
    """This process's rank in its launch (0 when not launched as several processes)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return rank() == 0


def processes(job: dict, kind: str) -> int:
    """Processes a job runs as: its `processes` resource, else one per GPU of a train job."""
    if "processes" in job:
        return job["processes"]
    return max(job["gpus"], 1) if kind == "train" else 1


def launch_prefix(job: dict, kind: str) -> str:
    """What replaces `reprolab` at the start of a job's command line: `accelerate launch` over
    the job's processes, or nothing for a job of one process. `--multi_gpu` is accelerate's
    torch.distributed launcher; on a machine without CUDA the trainer runs on the CPU and the
    processes talk over gloo."""
    n = processes(job, kind)
    if n <= 1:
        return ""
    return (
        f"accelerate launch --multi_gpu --num_processes {n} --num_machines 1"
        " --mixed_precision no --dynamo_backend no -m reprolab.cli"
    )

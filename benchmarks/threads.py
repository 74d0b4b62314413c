"""One 2-thread job at a time, or two 1-thread jobs side by side, on 2 cores?

    python benchmarks/threads.py                 # generation, then a GRPO-like train step
    python benchmarks/threads.py --work generate --prompts 16 --new-tokens 32

Snakemake packs jobs into `--cores` by their `threads:` (config.yaml `resources.<scale>`): with
2 cores, kinds declared 2 threads run one at a time, kinds declared 1 thread run two at once.
This runs the same two units of work both ways, in fresh processes with Snakemake's environment
(OMP_NUM_THREADS = threads, OMP_WAIT_POLICY = PASSIVE), and prints the wall time of each, so
the config can declare the faster. Meaningful on idle cores only: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

WORK = r"""
import sys, time, torch
from reprolab.inference import SamplingParams, get_backend
work, model, prompts, new_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
backend = get_backend("transformers", model, batch_size=prompts)
chats = [[{"role": "user", "content": f"Question {i}: " + "tell me about the sea. " * 20}]
         for i in range(prompts)]
started = time.monotonic()
if work == "generate":
    backend.generate(chats, SamplingParams(max_new_tokens=new_tokens))
else:  # forward and backward over generated replies, as a GRPO step does
    model_ = backend.model.train()
    ids = backend.tokenizer([backend._prompts([c])[0] for c in chats], return_tensors="pt",
                            padding=True).input_ids
    for _ in range(2):
        loss = model_(input_ids=ids, labels=ids).loss
        loss.backward()
print(time.monotonic() - started)
"""


def run_jobs(work: str, args, threads: int, parallel: int) -> float:
    """Wall seconds for `parallel` processes of `threads` threads each doing one unit of work."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
    command = [
        sys.executable,
        "-c",
        WORK,
        work,
        args.model,
        str(args.prompts),
        str(args.new_tokens),
    ]
    started = time.monotonic()
    jobs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(parallel)]
    for job in jobs:
        job.wait()
        if job.returncode:
            raise SystemExit(f"a {work} job failed ({job.returncode})")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/smollm2-135m-instruct")
    parser.add_argument("--work", nargs="+", default=["generate", "train"])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for work in args.work:
        # Two units of work each way: one after the other at 2 threads, side by side at 1.
        sequential = sum(run_jobs(work, args, threads=2, parallel=1) for _ in range(2))
        side_by_side = run_jobs(work, args, threads=1, parallel=2)
        faster = "1 thread, two jobs at once" if side_by_side < sequential else "2 threads"
        print(
            f"{work:<9} two 2-thread jobs in turn {sequential:6.1f} s, two 1-thread jobs at once "
            f"{side_by_side:6.1f} s: {faster} ({sequential / side_by_side:.2f}x)"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

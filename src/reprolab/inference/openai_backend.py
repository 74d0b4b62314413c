"""A client for any OpenAI-compatible server: `vllm serve` on the cluster, llama.cpp's server.

Generation goes through /v1/chat/completions, so the server applies the model's chat template;
a prefilled reply (a conversation ending with an assistant message) goes through /v1/completions
with the template rendered here, as no standard chat request continues a reply.
Scoring goes through /v1/completions with `echo` and `logprobs`, the one standard request that
returns the log-probabilities of given text; it needs the chat template on this side (the
`tokenizer` option, a folder or hub id), and a server that supports it (vLLM's does, and
llama.cpp's when started with `--logits_all true`); otherwise `score` raises NotImplementedError.
Only the standard library is used for HTTP, so the client adds no dependency.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from reprolab.inference import (
    SAMPLE_SEED_STRIDE,
    Completion,
    Conversation,
    InferenceBackend,
    SamplingParams,
    TokenLogprob,
    is_prefilled,
    render_chat,
)


class ServerError(RuntimeError):
    """The server answered with an HTTP error."""

    def __init__(self, url: str, status: int, body: str):
        super().__init__(f"{url} answered HTTP {status}: {body[:500]}")
        self.status = status


class OpenAIBackend(InferenceBackend):
    """Requests run concurrently (the server batches them); results keep the input order."""

    def __init__(
        self,
        model_path: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str | None = None,
        max_concurrency: int = 16,
        timeout: float = 600.0,
        tokenizer: str | None = None,
    ):
        # model_path is the name the server serves the model under (for `vllm serve <path>`
        # that is the path itself).
        self.model = model_path
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY", "none")
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self._tokenizer_source = tokenizer or model_path
        self._tokenizer = None

    def _post(self, endpoint: str, body: dict) -> dict:
        url = f"{self.base_url}/{endpoint}"
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.api_key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ServerError(url, error.code, error.read().decode(errors="replace")) from error

    def _map(self, function, items: list) -> list:
        if not items:
            return []
        with ThreadPoolExecutor(min(self.max_concurrency, len(items))) as pool:
            return list(pool.map(function, items))

    def generate(self, conversations: list[Conversation], params: SamplingParams) -> list[str]:
        def reply(item: tuple[int, Conversation]) -> str:
            index, conversation = item
            body = {
                "model": self.model,
                "messages": conversation,
                "max_tokens": params.max_new_tokens,
                "temperature": params.temperature,
                "top_p": params.top_p,
                # One seed per request: the same request list gives the same samples.
                "seed": params.seed + index,
            }
            if params.stop:
                body["stop"] = list(params.stop)
            if is_prefilled(conversation):
                del body["messages"]
                body["prompt"] = self._prompt(conversation)
                return self._post("completions", body)["choices"][0]["text"] or ""
            return self._post("chat/completions", body)["choices"][0]["message"]["content"] or ""

        return self._map(reply, list(enumerate(conversations)))

    def sample(
        self,
        conversations: list[Conversation],
        params: SamplingParams,
        n: int = 1,
        top_logprobs: int = 0,
    ) -> list[list[Completion]]:
        """n requests per conversation to /v1/completions (the prompt rendered here, so chat
        and prefilled conversations are alike), seeds SAMPLE_SEED_STRIDE apart, each with the
        server's per-token log-probabilities and top alternatives when asked."""
        prompts = [self._prompt(c) for c in conversations]
        items = [(i, k) for i in range(len(prompts)) for k in range(n)]

        def complete(item: tuple[int, int]) -> Completion:
            index, k = item
            body = {
                "model": self.model,
                "prompt": prompts[index],
                "max_tokens": params.max_new_tokens,
                "temperature": params.temperature,
                "top_p": params.top_p,
                "seed": params.seed + index + k * SAMPLE_SEED_STRIDE,
            }
            if params.stop:
                body["stop"] = list(params.stop)
            if top_logprobs:
                body["logprobs"] = top_logprobs
            choice = self._post("completions", body)["choices"][0]
            return Completion(choice["text"] or "", _token_logprobs(choice.get("logprobs")))

        flat = self._map(complete, items)
        return [flat[i * n : (i + 1) * n] for i in range(len(prompts))]

    def _prompt(self, conversation: Conversation) -> str:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self._tokenizer_source)
        return render_chat(self._tokenizer, conversation)

    def score(self, contexts: list[Conversation], continuations: list[str]) -> list[float]:
        prompts = [self._prompt(c) for c in contexts]

        def logprob(item: tuple[str, str]) -> float:
            prompt, continuation = item
            body = {
                "model": self.model,
                "prompt": prompt + continuation,
                "max_tokens": 1,
                "temperature": 0.0,
                "echo": True,
                "logprobs": 1,
            }
            try:
                response = self._post("completions", body)
            except ServerError as error:
                raise NotImplementedError(
                    f"{self.base_url} cannot score text: it refused a completions request with "
                    f"echo and logprobs ({error})"
                ) from error
            generated = response.get("usage", {}).get("completion_tokens", 1)
            return _continuation_logprob(
                response["choices"][0].get("logprobs"), continuation, generated
            )

        return self._map(logprob, list(zip(prompts, continuations, strict=True)))


def _token_logprobs(logprobs: dict | None) -> tuple[TokenLogprob, ...]:
    """The completions API's legacy logprobs block (tokens, token_logprobs, top_logprobs as one
    {token: logprob} per position) as TokenLogprob rows, alternatives best first."""
    if not logprobs:
        return ()
    tops = logprobs.get("top_logprobs") or [{}] * len(logprobs["tokens"])
    rows = []
    for token, value, top in zip(logprobs["tokens"], logprobs["token_logprobs"], tops, strict=True):
        ranked = tuple(sorted((top or {}).items(), key=lambda kv: -kv[1]))
        rows.append(TokenLogprob(token, float(value), ranked))
    return tuple(rows)


def _continuation_logprob(logprobs: dict | None, continuation: str, generated: int) -> float:
    """Sum of the log-probabilities of the echoed tokens that spell the continuation.

    The echo lists the prompt's tokens and then the `generated` ones. Servers differ in how
    they place special tokens (llama.cpp leaves some out and gives offsets in text without
    them), but the continuation is plain text at the end of the prompt: walk back from the
    last prompt token until the token strings cover it. A token that straddles the boundary
    with the context counts with the continuation.
    """
    if not logprobs or logprobs.get("token_logprobs") is None or "tokens" not in logprobs:
        raise NotImplementedError(
            "the server returned no log-probabilities for the prompt (completions with echo and "
            "logprobs): it cannot score continuations; use the vllm or transformers backend"
        )
    tokens, values = logprobs["tokens"], logprobs["token_logprobs"]
    end = len(tokens) - generated
    total, covered, index = 0.0, 0, end
    while covered < len(continuation):
        index -= 1
        if index < 0 or values[index] is None:
            raise ValueError(f"the echoed tokens do not end with the continuation {continuation!r}")
        covered += len(tokens[index])
        total += values[index]
    if continuation and not "".join(tokens[index:end]).endswith(continuation):
        raise ValueError(f"the echoed tokens do not end with the continuation {continuation!r}")
    return total

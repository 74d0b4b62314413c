"""A client for any OpenAI-compatible server: `vllm serve` on the cluster, llama.cpp's server.

Generation goes through /v1/chat/completions, so the server applies the model's chat template;
a prefilled reply (a conversation ending with an assistant message) goes through /v1/completions
with the template rendered here, as no standard chat request continues a reply.
Scoring goes through /v1/completions with `echo` and `logprobs`, the one standard request that
returns the log-probabilities of given text; it needs the chat template on this side (the
`tokenizer` option, a folder or hub id), and a server that supports it (vLLM's does, and
llama.cpp's when started with `--logits_all true`); otherwise `score` raises NotImplementedError.

HTTP goes through httpx2 (the maintained continuation of httpx, already installed for
huggingface_hub): one client, so connections are reused across the whole evaluation, with
connect and read timeouts, and retries with exponential backoff and jitter on what a busy or
restarting server does (connection errors, timeouts, 429, 5xx; `Retry-After` honoured), so one
hiccup does not end an evaluation of hours. Another 4xx is the request's fault and fails at once.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

import httpx2

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
from reprolab.progress import Progress

log = logging.getLogger(__name__)

# Failures of the connection, not of the request: worth another try. Other transport errors
# (an unsupported scheme, a malformed request) would fail the same way again.
RETRIED_ERRORS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)


def _sleep(seconds: float) -> None:
    """The wait between attempts (tests replace it to run instantly)."""
    time.sleep(seconds)


def is_retried_status(status: int) -> bool:
    """429 (rate limit, a full queue) and every 5xx: the server may answer the same request."""
    return status == 429 or 500 <= status < 600


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ServerError(RuntimeError):
    """The server answered with an HTTP error (status), or could not be reached (status None)
    after `attempts` tries."""

    def __init__(self, url: str, status: int | None, body: str, attempts: int = 1):
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if status is None:
            message = f"POST {url} failed{tries}: {body[:500]}"
        else:
            message = f"POST {url} answered HTTP {status}{tries}: {body[:500]}"
        super().__init__(message)
        self.url, self.status, self.body, self.attempts = url, status, body, attempts


class OpenAIBackend(InferenceBackend):
    """Requests run concurrently (the server batches them); results keep the input order.

    Options (backend_options in a paper's config), with their defaults:
    `timeout` 600 s to wait for a reply (read), `connect_timeout` 10 s to open a connection;
    `max_attempts` 5 tries per request; `backoff` 1 s before the first retry, doubled each
    retry up to `backoff_max` 60 s (which also caps a server's Retry-After), each wait
    shortened by a random share of up to `jitter` (0.5) so that concurrent requests do not
    retry in step.
    """

    def __init__(
        self,
        model_path: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str | None = None,
        max_concurrency: int = 16,
        timeout: float = 600.0,
        tokenizer: str | None = None,
        connect_timeout: float = 10.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        jitter: float = 0.5,
    ):
        if max_attempts < 1:
            raise ValueError(f"max_attempts {max_attempts}: at least 1")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError(f"jitter {jitter}: a share between 0 and 1")
        # model_path is the name the server serves the model under (for `vllm serve <path>`
        # that is the path itself).
        self.model = model_path
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY", "none")
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_attempts = max_attempts
        self.backoff, self.backoff_max, self.jitter = backoff, backoff_max, jitter
        self._random = random.Random()
        self._tokenizer_source = tokenizer or model_path
        self._tokenizer = None
        # One client for every request: its pool keeps a connection per concurrent worker
        # open between requests (no TCP handshake per reply).
        self._client = httpx2.Client(
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=httpx2.Timeout(
                timeout, connect=connect_timeout, read=timeout, write=timeout, pool=timeout
            ),
            limits=httpx2.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
        )

    def close(self) -> None:
        """Close the pooled connections now rather than when the process ends."""
        self._client.close()

    def wait_before(self, attempt: int, response: httpx2.Response | None = None) -> float:
        """Seconds to wait before attempt `attempt` + 1: the server's Retry-After when it gave
        one, else `backoff` doubled per retry with jitter; never above `backoff_max`."""
        asked = retry_after(response.headers.get("retry-after")) if response is not None else None
        if asked is not None:
            return min(asked, self.backoff_max)
        delay = min(self.backoff * 2 ** (attempt - 1), self.backoff_max)
        return delay * (1.0 - self.jitter * self._random.random())

    def _post(self, endpoint: str, body: dict) -> dict:
        url = f"{self.base_url}/{endpoint}"
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = self._client.post(url, json=body)
            except RETRIED_ERRORS as error:
                failure = f"{type(error).__name__}: {error}"
                if last:
                    raise ServerError(url, None, failure, attempt) from error
                wait_s = self.wait_before(attempt)
            else:
                if response.is_success:
                    try:
                        return response.json()
                    except ValueError as error:
                        raise ServerError(
                            url, response.status_code, f"not JSON: {response.text}", attempt
                        ) from error
                if not is_retried_status(response.status_code) or last:
                    raise ServerError(url, response.status_code, response.text, attempt)
                failure = f"HTTP {response.status_code}"
                wait_s = self.wait_before(attempt, response)
            log.warning(
                "POST %s: %s; attempt %d/%d, retrying in %.1f s",
                url,
                failure,
                attempt,
                self.max_attempts,
                wait_s,
            )
            _sleep(wait_s)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _map(self, function: Callable[[Any], Any], items: list, what: str, unit: str) -> list:
        """function over items on max_concurrency threads, in input order, with progress lines;
        the first failure cancels the requests not yet sent and is raised."""
        if not items:
            return []
        progress = Progress(what, len(items), unit, log)

        def counted(item: Any) -> Any:
            result = function(item)
            progress.update()
            return result

        with ThreadPoolExecutor(min(self.max_concurrency, len(items))) as pool:
            futures = [pool.submit(counted, item) for item in items]
            _, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
        for future in futures:
            if not future.cancelled() and future.exception() is not None:
                raise future.exception()
        progress.close()
        return [future.result() for future in futures]

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

        return self._map(reply, list(enumerate(conversations)), "generate", "replies")

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

        flat = self._map(complete, items, "sample", "completions")
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
                if not refuses_request(error):
                    raise
                raise NotImplementedError(
                    f"{self.base_url} cannot score text: it refused a completions request with "
                    f"echo and logprobs ({error})"
                ) from error
            generated = response.get("usage", {}).get("completion_tokens", 1)
            return _continuation_logprob(
                response["choices"][0].get("logprobs"), continuation, generated
            )

        return self._map(logprob, list(zip(prompts, continuations, strict=True)), "score", "texts")


def refuses_request(error: ServerError) -> bool:
    """Whether the server refused the request itself (4xx but 429; 500 or 501, which llama.cpp
    answers to echo and logprobs without --logits_all), rather than being busy or away."""
    status = error.status
    return status is not None and ((400 <= status < 500 and status != 429) or status in (500, 501))


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

"""One interface over inference backends, chosen by name in a paper's config.

A paper calls `get_backend(name, model_path, **options)` and then only `generate` and `score`;
it never imports a backend. Like lm-evaluation-harness's LM, two requests cover the papers:
batched chat generation with sampling parameters, and log-probability scoring of continuations.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace

Message = dict[str, str]
Conversation = list[Message]

# name -> "module:Class"; modules are imported only when their backend is chosen, so a CPU
# machine never imports vLLM.
BACKENDS: dict[str, str] = {
    "transformers": "reprolab.inference.transformers_backend:TransformersBackend",
    # GPU nodes: vLLM's offline engine. Any OpenAI-compatible server (`vllm serve`, llama.cpp).
    "vllm": "reprolab.inference.vllm_backend:VLLMBackend",
    "openai": "reprolab.inference.openai_backend:OpenAIBackend",
}


@dataclass(frozen=True)
class SamplingParams:
    """How to sample; temperature 0 means greedy. The seed makes sampled outputs repeatable."""

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token: its text, its log-probability under the model (before temperature
    or top-p), and the top alternatives at that position, best first."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Completion:
    """One sampled reply, with its tokens' log-probabilities when they were asked for."""

    text: str
    tokens: tuple[TokenLogprob, ...] = ()

    def top_margins(self) -> list[float]:
        """Per token, top-1 minus top-2 probability (a confidence signal; needs top >= 2)."""
        import math

        return [math.exp(t.top[0][1]) - math.exp(t.top[1][1]) for t in self.tokens]


# Seeds of the k-th sample of a request list lie this far apart, so they never collide with the
# per-request or per-batch seeds (seed + index) of another sample.
SAMPLE_SEED_STRIDE = 1_000_003


class InferenceBackend(ABC):
    """A loaded model that answers batches of requests."""

    @abstractmethod
    def generate(self, conversations: list[Conversation], params: SamplingParams) -> list[str]:
        """The assistant's next reply to each conversation, in input order.

        A conversation that ends with an assistant message is a prefilled reply: the model
        continues it, and only the continuation is returned (see `render_chat`).
        """

    def sample(
        self,
        conversations: list[Conversation],
        params: SamplingParams,
        n: int = 1,
        top_logprobs: int = 0,
    ) -> list[list[Completion]]:
        """n replies per conversation (seeded: the same call gives the same samples), each with
        per-token log-probabilities and the top `top_logprobs` alternatives when asked.

        The default draws n rounds of `generate` with seeds SAMPLE_SEED_STRIDE apart and has no
        log-probabilities; backends that can return them override this.
        """
        if top_logprobs:
            raise NotImplementedError(f"{type(self).__name__} returns no token log-probabilities")
        rounds = [
            self.generate(conversations, replace(params, seed=params.seed + k * SAMPLE_SEED_STRIDE))
            for k in range(n)
        ]
        return [[Completion(r[i]) for r in rounds] for i in range(len(conversations))]

    @abstractmethod
    def score(self, contexts: list[Conversation], continuations: list[str]) -> list[float]:
        """Sum of log-probabilities of each continuation after its context's assistant prompt."""

    def choice_logprobs(
        self, contexts: list[Conversation], choices: list[str]
    ) -> list[list[float]]:
        """Log-probability of each of the same choices after every context (forced choice).

        The default scores every (context, choice) pair in one batched `score` call; a backend
        may answer it with fewer forward passes when the choices share all but their last token.
        """
        flat = self.score(
            [c for c in contexts for _ in choices], [x for _ in contexts for x in choices]
        )
        k = len(choices)
        return [flat[i * k : (i + 1) * k] for i in range(len(contexts))]

    def score_candidates(
        self, contexts: list[Conversation], candidates: list[list[str]]
    ) -> list[list[float]]:
        """Log-probability of each context's own candidate continuations (an agent's valid
        actions). The default is one batched `score` call over every pair; a backend may read
        each context once and score its candidates on the cached prefix."""
        flat = self.score(
            [c for c, cands in zip(contexts, candidates, strict=True) for _ in cands],
            [x for cands in candidates for x in cands],
        )
        out, start = [], 0
        for cands in candidates:
            out.append(flat[start : start + len(cands)])
            start += len(cands)
        return out


def calibrated_scores(
    backend: InferenceBackend,
    contexts: list[Conversation],
    candidates: list[list[str]],
    null_contexts: list[Conversation],
) -> list[list[float]]:
    """Each candidate's log-probability after its context minus the same after a context-free
    prompt (pointwise mutual information with the context).

    A small model prefers short, frequent continuations whatever the state says; subtracting
    what it would say without the state leaves what the state adds (Holtzman et al. 2021,
    "Surface form competition"). One batched `score_candidates` call over both prompts; a
    null context shared by several requests (the usual case: one per agent or task) is read
    once, with the union of their candidates, so its cost does not grow with the batch.
    """
    if not len(contexts) == len(candidates) == len(null_contexts):
        raise ValueError(
            f"calibrated_scores: {len(contexts)} contexts, {len(candidates)} candidate lists, "
            f"{len(null_contexts)} null contexts; expected the same number"
        )
    keys = [json.dumps(c, sort_keys=True) for c in null_contexts]
    # key -> (the null context, its pooled candidates as an ordered set)
    nulls: dict[str, tuple[Conversation, dict[str, None]]] = {}
    for key, null, cands in zip(keys, null_contexts, candidates, strict=True):
        nulls.setdefault(key, (null, {}))[1].update(dict.fromkeys(cands))
    both = backend.score_candidates(
        list(contexts) + [null for null, _ in nulls.values()],
        candidates + [list(pooled) for _, pooled in nulls.values()],
    )
    n = len(contexts)
    free = {
        key: dict(zip(pooled, scores, strict=True))
        for (key, (_, pooled)), scores in zip(nulls.items(), both[n:], strict=True)
    }
    return [
        [s - free[key][c] for c, s in zip(cands, with_state, strict=True)]
        for key, cands, with_state in zip(keys, candidates, both[:n], strict=True)
    ]


def is_prefilled(conversation: Conversation) -> bool:
    """Whether the conversation ends inside the assistant's reply (a prefill to continue)."""
    return bool(conversation) and conversation[-1]["role"] == "assistant"


def render_chat(tokenizer, conversation: Conversation) -> str:
    """The text the model reads before it writes: the chat template up to where the reply goes.

    A final assistant message is left open rather than closed, so the model writes on from its
    last character: a paper can fix how a reply starts (an opening tag, say) for a model too
    small to find the format alone. Backends and the GRPO trainer all render through here.
    """
    prefilled = is_prefilled(conversation)
    return tokenizer.apply_chat_template(
        conversation,
        tokenize=False,
        add_generation_prompt=not prefilled,
        continue_final_message=prefilled,
    )


def register_backend(name: str, target: str) -> None:
    """Make a backend selectable by name; target is 'module:Class'."""
    BACKENDS[name] = target


def get_backend(
    name: str, model_path: str, cache: str | None = None, **options
) -> InferenceBackend:
    """The backend `name` on model_path; with `cache` (a SQLite file), deterministic requests
    are answered from it when they were asked before (inference.cache)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown inference backend '{name}'; expected one of {sorted(BACKENDS)}")
    module_name, class_name = BACKENDS[name].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    backend = cls(model_path, **options)
    if cache:
        from reprolab.inference.cache import CachedBackend, model_identity

        backend = CachedBackend(backend, cache, model_identity(model_path))
    return backend

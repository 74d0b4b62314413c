"""The vLLM backend: vLLM's offline `LLM` engine on a GPU node, for the full scale.

vLLM is imported when this backend is built, never before: CPU machines do not have it.
Its own progress bar is off (`use_tqdm=False`: a carriage-return bar in a job log); requests go
to the engine in chunks of `progress_chunk` instead, with a progress line (reprolab.progress)
after each.
"""

from __future__ import annotations

import logging
from typing import Any

from reprolab.inference import (
    SAMPLE_SEED_STRIDE,
    Completion,
    Conversation,
    InferenceBackend,
    SamplingParams,
    TokenLogprob,
    render_chat,
)
from reprolab.progress import Progress

log = logging.getLogger(__name__)

MISSING_VLLM = (
    "the 'vllm' inference backend needs the vllm package, which runs on NVIDIA GPUs only: "
    "use the cluster environment (conda env create -f environment.yml, or pip install "
    "'reprolab[gpu]'), or choose the 'transformers' backend on a CPU"
)


def _import_vllm():
    try:
        import vllm
    except ImportError as error:
        raise ImportError(MISSING_VLLM) from error
    return vllm


class VLLMBackend(InferenceBackend):
    """Continuous batching and paged attention: all requests go to the engine at once."""

    def __init__(
        self,
        model_path: str,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        progress_chunk: int = 2048,
    ):
        if progress_chunk < 1:
            raise ValueError(f"progress_chunk {progress_chunk}: at least 1")
        # Requests per engine call, a progress line after each: large enough that the engine
        # stays full (several waves of max_num_seqs), small enough to see a long call move.
        self.progress_chunk = progress_chunk
        self._vllm = _import_vllm()
        # batch_size, as the other backends call it, is vLLM's max_num_seqs: how many sequences
        # the engine runs at once.
        engine = {"max_num_seqs": batch_size} if batch_size else {}
        self.llm = self._vllm.LLM(
            model=model_path,
            dtype=dtype,
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            seed=seed,
            **engine,
        )

    def generate(self, conversations: list[Conversation], params: SamplingParams) -> list[str]:
        # One seed per request, as in the other backends: repeated prompts get distinct samples
        # and the same request list gives the same samples on every run.
        sampling = [
            self._vllm.SamplingParams(
                n=1,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_new_tokens,
                seed=params.seed + i,
                stop=list(params.stop) or None,
            )
            for i in range(len(conversations))
        ]
        # Rendered here rather than by llm.chat, so a prefilled reply is continued (render_chat);
        # token ids, as the template already holds any BOS the tokenizer would add again.
        outputs = self._run(self._prompts(conversations), sampling, "generate", "replies")
        return [out.outputs[0].text for out in outputs]

    def _run(self, prompts: list[dict], sampling: Any, what: str, unit: str) -> list:
        """llm.generate over prompts in chunks of progress_chunk (sampling: one for all, or one
        per prompt), outputs in input order, a progress line after each chunk."""
        outputs: list = []
        with Progress(what, len(prompts), unit, log) as progress:
            for start in range(0, len(prompts), self.progress_chunk):
                end = start + self.progress_chunk
                part = sampling[start:end] if isinstance(sampling, list) else sampling
                outputs += self.llm.generate(prompts[start:end], part, use_tqdm=False)
                progress.update(len(outputs) - progress.done)
        return outputs

    def _prompts(self, conversations: list[Conversation]) -> list[dict]:
        tokenizer = self.llm.get_tokenizer()
        ids = [
            tokenizer(render_chat(tokenizer, c), add_special_tokens=False)["input_ids"]
            for c in conversations
        ]
        return [{"prompt_token_ids": row} for row in ids]

    def sample(
        self,
        conversations: list[Conversation],
        params: SamplingParams,
        n: int = 1,
        top_logprobs: int = 0,
    ) -> list[list[Completion]]:
        """vLLM's own `n` per request (seeded per request) and its per-token `logprobs`: the
        chosen token's log-probability and the top alternatives, ranked."""
        sampling = [
            self._vllm.SamplingParams(
                n=n,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_new_tokens,
                seed=params.seed + i * SAMPLE_SEED_STRIDE,
                stop=list(params.stop) or None,
                logprobs=top_logprobs or None,
            )
            for i in range(len(conversations))
        ]
        outputs = self._run(self._prompts(conversations), sampling, "sample", "prompts")
        result = []
        for out in outputs:
            completions = []
            for choice in out.outputs:
                tokens = []
                for token_id, position in zip(
                    choice.token_ids, choice.logprobs or [], strict=False
                ):
                    ranked = sorted(position.values(), key=lambda lp: lp.rank)[:top_logprobs]
                    top = tuple((lp.decoded_token, float(lp.logprob)) for lp in ranked)
                    chosen = position[token_id]
                    tokens.append(TokenLogprob(chosen.decoded_token, float(chosen.logprob), top))
                completions.append(Completion(choice.text, tuple(tokens)))
            result.append(completions)
        return result

    def score(self, contexts: list[Conversation], continuations: list[str]) -> list[float]:
        # Token ids as the transformers backend builds them: the rendered prompt, then the
        # continuation tokenized on its own. prompt_logprobs=0 returns each prompt token's own
        # log-probability.
        tokenizer = self.llm.get_tokenizer()
        rows, lengths = [], []
        for context, continuation in zip(contexts, continuations, strict=True):
            prompt = render_chat(tokenizer, context)
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            cont_ids = tokenizer(continuation, add_special_tokens=False)["input_ids"]
            rows.append({"prompt_token_ids": prompt_ids + cont_ids})
            lengths.append(len(cont_ids))
        sampling = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        outputs = self._run(rows, sampling, "score", "texts")
        scores = []
        for row, n, out in zip(rows, lengths, outputs, strict=True):
            ids = row["prompt_token_ids"]
            positions = range(len(ids) - n, len(ids))
            scores.append(float(sum(out.prompt_logprobs[k][ids[k]].logprob for k in positions)))
        return scores

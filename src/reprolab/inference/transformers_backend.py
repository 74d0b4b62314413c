"""The transformers backend: CPU or GPU, batched, left-padded, length-sorted."""

from __future__ import annotations

import copy
import logging

import torch

from reprolab.inference import (
    SAMPLE_SEED_STRIDE,
    Completion,
    Conversation,
    InferenceBackend,
    SamplingParams,
    TokenLogprob,
    render_chat,
)
from reprolab.inference.prefix_cache import PrefixCache, supports_prefix_cache
from reprolab.models import load_model
from reprolab.progress import Progress

log = logging.getLogger(__name__)


class TransformersBackend(InferenceBackend):
    """prefix_cache_tokens > 0 keeps that many tokens' keys and values of past prompts and
    replies, so a conversation's next turn reads only its new tokens (inference.prefix_cache);
    0 (the default) reads every prompt whole."""

    def __init__(
        self,
        model_path: str,
        batch_size: int = 32,
        dtype: str = "float32",
        model=None,
        prefix_cache_tokens: int = 0,
    ):
        if model is None:
            self.model, self.tokenizer = load_model(model_path, dtype=getattr(torch, dtype))
        else:  # an in-memory model (a trainer's), with the tokenizer of model_path
            from reprolab.models import load_tokenizer

            self.model, self.tokenizer = model, load_tokenizer(model_path)
        self.model.eval()
        self.batch_size = batch_size
        self.prefix_cache = None
        if prefix_cache_tokens:
            if not supports_prefix_cache(self.model.config):
                raise ValueError(
                    f"{model_path}: prefix_cache_tokens needs a model whose every layer attends "
                    "to the full context (this one has sliding-window layers)"
                )
            self.prefix_cache = PrefixCache(prefix_cache_tokens)

    def _prompts(self, conversations: list[Conversation]) -> list[str]:
        return [render_chat(self.tokenizer, c) for c in conversations]

    def _encode(self, texts: list[str]):
        """Rendered prompts as one left-padded batch on the model's device."""
        return self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.model.device)

    def _batches(self, texts: list[str]):
        """Index batches of similar length, so little compute goes to padding."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            yield order[start : start + self.batch_size]

    @torch.no_grad()
    def generate(self, conversations: list[Conversation], params: SamplingParams) -> list[str]:
        prompts = self._prompts(conversations)
        outputs: list[str] = [""] * len(prompts)
        progress = Progress("generate", len(prompts), "replies", log)
        for number, batch in enumerate(self._batches(prompts)):
            # Seed per batch: the same request list gives the same samples on every run.
            torch.manual_seed(params.seed + number)
            if self.prefix_cache is not None:
                rows = [self._ids(prompts[i]) for i in batch]
                prepared = self.prefix_cache.prepare(
                    rows, self.tokenizer.pad_token_id, self.model.device
                )
                enc = {
                    "input_ids": prepared.input_ids,
                    "attention_mask": prepared.attention_mask,
                    "past_key_values": prepared.past_key_values,
                    "return_dict_in_generate": True,
                }
            else:
                enc = self._encode([prompts[i] for i in batch])
            sampling = params.temperature > 0
            generated = self.model.generate(
                **enc,
                max_new_tokens=params.max_new_tokens,
                do_sample=sampling,
                temperature=params.temperature if sampling else None,
                top_p=params.top_p if sampling else None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id,
                stop_strings=list(params.stop) or None,
                tokenizer=self.tokenizer if params.stop else None,
            )
            if self.prefix_cache is not None:
                self.prefix_cache.keep(
                    generated.sequences,
                    enc["attention_mask"],
                    generated.past_key_values,
                    stop_token_ids(self.model, self.tokenizer),
                )
                generated = generated.sequences
            texts = self.tokenizer.batch_decode(
                generated[:, enc["input_ids"].shape[1] :], skip_special_tokens=True
            )
            for i, text in zip(batch, texts, strict=True):
                outputs[i] = _cut_at_stop(text, params.stop)
            progress.update(len(batch))
        progress.close()
        return outputs

    @torch.no_grad()
    def sample(
        self,
        conversations: list[Conversation],
        params: SamplingParams,
        n: int = 1,
        top_logprobs: int = 0,
    ) -> list[list[Completion]]:
        """n replies per conversation from one generate call per batch (num_return_sequences),
        with the raw model's log-probabilities of each token and its top alternatives."""
        if not top_logprobs:
            return super().sample(conversations, params, n)
        prompts = self._prompts(conversations)
        out: list[list[Completion]] = [[] for _ in prompts]
        stops = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        progress = Progress("sample", len(prompts), "prompts", log)
        for number, batch in enumerate(self._batches(prompts)):
            torch.manual_seed(params.seed + number * SAMPLE_SEED_STRIDE)
            enc = self._encode([prompts[i] for i in batch])
            sampling = params.temperature > 0
            result = self.model.generate(
                **enc,
                max_new_tokens=params.max_new_tokens,
                do_sample=sampling,
                num_return_sequences=n,
                temperature=params.temperature if sampling else None,
                top_p=params.top_p if sampling else None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id,
                output_logits=True,
                return_dict_in_generate=True,
            )
            new = result.sequences[:, enc["input_ids"].shape[1] :]
            logprobs = torch.log_softmax(torch.stack(result.logits, dim=1).float(), dim=-1)
            top = logprobs.topk(top_logprobs, dim=-1)
            for row in range(new.shape[0]):
                ids = new[row].tolist()
                length = next((t for t, tok in enumerate(ids) if tok in stops), len(ids))
                text = self.tokenizer.decode(ids[:length], skip_special_tokens=True)
                text = _cut_at_stop(text, params.stop)
                tokens = []
                for t in range(length):
                    if len(self.tokenizer.decode(ids[:t], skip_special_tokens=True)) >= len(text):
                        break  # past a stop string
                    ranked = zip(
                        top.indices[row, t].tolist(), top.values[row, t].tolist(), strict=True
                    )
                    alternatives = tuple((self.tokenizer.decode([k]), float(v)) for k, v in ranked)
                    piece = self.tokenizer.decode([ids[t]])
                    tokens.append(
                        TokenLogprob(piece, float(logprobs[row, t, ids[t]]), alternatives)
                    )
                out[batch[row // n]].append(Completion(text, tuple(tokens)))
            progress.update(len(batch))
        progress.close()
        return out

    def _forward(self, rows: list[list[int]]):
        """Log-probabilities of every next token of left-padded rows, and the padded ids."""
        ids, valid = pad_left(rows, self.tokenizer.pad_token_id)
        logits = self.model(
            input_ids=ids.to(self.model.device), attention_mask=valid.long().to(self.model.device)
        ).logits.float()
        return torch.log_softmax(logits, dim=-1), ids.to(logits.device)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    @torch.no_grad()
    def score(self, contexts: list[Conversation], continuations: list[str]) -> list[float]:
        prompts = self._prompts(contexts)
        scores: list[float] = [0.0] * len(prompts)
        progress = Progress("score", len(prompts), "texts", log)
        for batch in self._batches(prompts):
            cont_ids = [self._ids(continuations[i]) for i in batch]
            rows = [self._ids(prompts[i]) + c for i, c in zip(batch, cont_ids, strict=True)]
            logprobs, ids = self._forward(rows)
            token_lp = logprobs[:, :-1].gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            width = ids.shape[1]
            for j, i in enumerate(batch):
                n = len(cont_ids[j])
                scores[i] = float(token_lp[j, width - 1 - n :].sum()) if n else 0.0
            progress.update(len(batch))
        progress.close()
        return scores

    @torch.no_grad()
    def score_candidates(
        self, contexts: list[Conversation], candidates: list[list[str]]
    ) -> list[list[float]]:
        """One pass over each context, its KV cache shared by all of its candidates, so the
        cost is the context once plus the short continuations. Contexts offering the same
        choices that differ only in their last token (a forced yes/no, a label set) are
        batched through `choice_logprobs` instead: one pass each, several contexts a pass.
        Same numbers as `score` on every pair, up to floating-point rounding. With the prefix
        cache on, a context reads only what follows the longest start it shares with a kept
        one (an agent's fixed instructions, its earlier steps)."""
        scores: list[list[float]] = [[0.0] * len(c) for c in candidates]
        by_choices: dict[tuple[str, ...], list[int]] = {}
        for r, cands in enumerate(candidates):
            if cands:
                by_choices.setdefault(tuple(cands), []).append(r)
        # Each distinct candidate list tokenized once to see whether one pass answers it.
        forced = {c: rows for c, rows in by_choices.items() if self._one_pass(list(c)) is not None}
        for choices, rows in forced.items():
            answers = self.choice_logprobs([contexts[r] for r in rows], list(choices))
            for r, row in zip(rows, answers, strict=True):
                scores[r] = row
        answered = {r for rows in forced.values() for r in rows}
        rest = [r for r in range(len(contexts)) if r not in answered]
        prompts = dict(zip(rest, self._prompts([contexts[r] for r in rest]), strict=True))
        progress = Progress("score_candidates", len(prompts), "contexts", log)
        for r, prompt in prompts.items():
            members = candidates[r]
            if not members:
                progress.update()
                continue
            context = self._ids(prompt)
            cont_ids = [self._ids(c) for c in members]
            past, cached = None, 0
            if self.prefix_cache is not None:  # an agent's next step shares its prompt's start
                past, cached = self.prefix_cache.past_for(context)
            out = self.model(
                input_ids=torch.tensor([context[cached:]], device=self.model.device),
                past_key_values=past,
                use_cache=True,
                logits_to_keep=1,  # only the next token's distribution is needed
            )
            if self.prefix_cache is not None:
                self.prefix_cache.keep_row(context, out.past_key_values)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            width = max(1, max(len(c) for c in cont_ids))
            for start in range(0, len(members), self.batch_size):
                chunk = list(range(start, min(start + self.batch_size, len(members))))
                cache = copy.deepcopy(out.past_key_values)
                cache.batch_repeat_interleave(len(chunk))
                pad = self.tokenizer.pad_token_id
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), len(context) + width), dtype=torch.long)
                mask[:, : len(context)] = 1
                for j, k in enumerate(chunk):  # right padding: positions after the context
                    ids[j, : len(cont_ids[k])] = torch.tensor(cont_ids[k])
                    mask[j, len(context) : len(context) + len(cont_ids[k])] = 1
                logits = self.model(
                    input_ids=ids.to(self.model.device),
                    attention_mask=mask.to(self.model.device),
                    past_key_values=cache,
                ).logits.float()
                logprobs = torch.log_softmax(logits, dim=-1)
                for j, k in enumerate(chunk):
                    tokens = cont_ids[k]
                    if not tokens:
                        continue
                    total = float(first[tokens[0]])
                    for t in range(1, len(tokens)):
                        total += float(logprobs[j, t - 1, tokens[t]])
                    scores[r][k] = total
            progress.update()
        progress.close()
        return scores

    def _one_pass(self, choices: list[str]) -> tuple[list[int], torch.Tensor] | None:
        """The choices' shared token prefix and their last tokens, when that is all they
        differ in (then one forward pass scores them all); None otherwise."""
        tokenized = [self._ids(c) for c in choices]
        shared = tokenized[0][:-1]
        if any(not t or len(t) != len(shared) + 1 or t[:-1] != shared for t in tokenized):
            return None
        return shared, torch.tensor([t[-1] for t in tokenized])

    @torch.no_grad()
    def choice_logprobs(
        self, contexts: list[Conversation], choices: list[str]
    ) -> list[list[float]]:
        """One forward pass per context when the choices differ only in their last token (one
        token each, as "A"/"B" or "1"/"2", included: then nothing is shared).

        The numbers equal `score`'s: the shared part's log-probability plus the last token's.
        Choices that differ earlier fall back to scoring every pair.
        """
        split = self._one_pass(choices)
        if split is None:
            return super().choice_logprobs(contexts, choices)
        shared, last = split
        prompts = self._prompts(contexts)
        out: list[list[float]] = [[] for _ in prompts]
        progress = Progress("choice_logprobs", len(prompts), "prompts", log)
        for batch in self._batches(prompts):
            rows = [self._ids(prompts[i]) + shared for i in batch]
            logprobs, ids = self._forward(rows)
            token_lp = logprobs[:, :-1].gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            shared_lp = token_lp[:, token_lp.shape[1] - len(shared) :].sum(-1)
            final = logprobs[:, -1, :][:, last.to(logprobs.device)]
            for j, i in enumerate(batch):
                out[i] = [float(shared_lp[j] + final[j, k]) for k in range(len(choices))]
            progress.update(len(batch))
        progress.close()
        return out


def _cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    cuts = [text.index(s) for s in stop if s in text]
    return text[: min(cuts)] if cuts else text


def pad_left(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows left-padded to one width (the last positions aligned, as decoding needs) and
    the mask of real tokens."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    valid = torch.zeros((len(rows), width), dtype=torch.bool)
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row)
        valid[i, width - len(row) :] = True
    return ids, valid


_S, _A1, _U2 = "QXSYSTEMSENTINELQX", "QXASSISTANTSENTINELQX", "QXUSERSENTINELQX"


class ChatGlue:
    """The template text around turns, found by rendering the tokenizer's own chat template, so
    that a multi-turn decoder can append a user turn to a conversation already in its KV cache
    (`first` renders the opening prompt, `next` the text after a reply) without re-rendering it.
    """

    def __init__(self, tokenizer):
        text = tokenizer.apply_chat_template(
            [
                {"role": "system", "content": _S},
                {"role": "user", "content": "U1"},
                {"role": "assistant", "content": _A1},
                {"role": "user", "content": _U2},
            ],
            tokenize=False,
            add_generation_prompt=True,
        )
        if _S not in text or text.index(_S) > text.index(_A1):
            # Mistral's template, for one, moves the system prompt to the last user turn: the
            # goal would then travel with the conversation instead of staying at its start.
            raise ValueError(
                "the model's chat template does not keep the system prompt before the first "
                "turn; the goal span cannot be placed there"
            )
        after_reply = text[text.index(_A1) + len(_A1) :]
        self.between = after_reply[: after_reply.index(_U2)]  # closes the reply, opens a user turn
        self.open_reply = after_reply[after_reply.index(_U2) + len(_U2) :]
        eos = tokenizer.eos_token or ""
        # After a reply that produced its own stop token, the glue starts past that token.
        self.between_after_stop = (
            self.between[len(eos) :] if eos and self.between.startswith(eos) else self.between
        )
        self.tokenizer = tokenizer

    def first(self, system: str, user: str) -> str:
        return self.tokenizer.apply_chat_template(
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
            tokenize=False,
            add_generation_prompt=True,
        )

    def next(self, user: str, reply_closed: bool) -> str:
        return (self.between_after_stop if reply_closed else self.between) + user + self.open_reply


def stop_token_ids(model, tokenizer) -> set[int]:
    """The tokens that end a reply: the tokenizer's eos and the generation config's."""
    ids = {tokenizer.eos_token_id}
    configured = getattr(model.generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    return {i for i in ids if i is not None}

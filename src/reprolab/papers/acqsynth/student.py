"""The student: its prompt, its SFT target and its accuracy on checkable items."""

from __future__ import annotations

import numpy as np

from reprolab.papers.acqsynth import tasks

MCQ_CHOICES = tuple(f" {L}" for L in tasks.LETTERS)


def conversation(item: dict, system: dict[str, str]) -> list[dict]:
    """The student's prompt: its family's system prompt and the question."""
    return [
        {"role": "system", "content": system[item["family"]]},
        {"role": "user", "content": item["question"]},
    ]


def completion(item: dict) -> str:
    """The SFT target: the reasoning, then 'Answer: <answer>' (what `tasks` reads back)."""
    reasoning = item.get("reasoning", "").strip()
    return f"{reasoning}\nAnswer: {item['answer']}" if reasoning else f"Answer: {item['answer']}"


def split_reply(reply: str) -> tuple[str, str]:
    """(reasoning, answer) of a reply: the text around its last 'Answer:' (all of it is the
    answer when there is none)."""
    if "Answer:" in reply:
        head, tail = reply.rsplit("Answer:", 1)
        return head.strip(), tail.strip()
    return "", reply.strip()


def sft_rows(items: list[dict], system: dict[str, str]) -> list[dict]:
    return [
        {
            "prompt": conversation(i, system),
            "completion": [{"role": "assistant", "content": completion(i)}],
        }
        for i in items
    ]


def accuracy(backend, items: list[dict], settings: dict, seed: int, sandbox=None) -> list[float]:
    """Per item, the share of `rounds` sampled replies (temperature `temperature`) that are
    right; multiple choice by forced choice over the letters after 'Answer:' (one round)."""
    from reprolab.inference import SamplingParams

    system = settings["system"]
    out = [0.0] * len(items)
    mcq = [k for k, i in enumerate(items) if i["family"] == "mcq"]
    if mcq:
        contexts = [
            [*conversation(items[k], system), {"role": "assistant", "content": "Answer:"}]
            for k in mcq
        ]
        scores = backend.choice_logprobs(contexts, list(MCQ_CHOICES))
        for k, row in zip(mcq, scores, strict=True):
            out[k] = float(tasks.LETTERS[int(np.argmax(row))] == items[k]["answer"])
    rest = [k for k, i in enumerate(items) if i["family"] != "mcq"]
    if rest:
        params = SamplingParams(settings["max_new_tokens"], settings["temperature"], 1.0, seed)
        replies = backend.sample(
            [conversation(items[k], system) for k in rest], params, n=settings["rounds"]
        )
        for k, completions in zip(rest, replies, strict=True):
            right = [tasks.is_correct(items[k], c.text, sandbox) for c in completions]
            out[k] = float(np.mean(right))
    return out

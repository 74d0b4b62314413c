"""The generator: its prompt (one seed example, asking for a new problem as difficult), its
GRPO reward r = A(x) + r_xml (0 if unparseable), and synthesis (sample until N parseable)."""

from __future__ import annotations

import logging
import math
import random
from pathlib import Path

from reprolab.io import append_jsonl
from reprolab.papers.acqsynth import fmt

log = logging.getLogger(__name__)


def prompt(seed_item: dict, text: dict, prefill: str = "") -> list[dict]:
    """The generator's conversation for one seed example: the user text's fields are the
    rendered `example` (the project's prompt) or the item's question, reasoning and answer (the
    authors' builders); with a prefill (smoke) the reply starts with it and the model continues."""
    fields = {k: seed_item.get(k, "") for k in ("question", "reasoning", "answer")}
    user = text["user"].format(example=fmt.render_item(seed_item), **fields)
    conv = [{"role": "system", "content": text["system"]}] if text.get("system") else []
    conv.append({"role": "user", "content": user})
    if prefill:
        conv.append({"role": "assistant", "content": prefill})
    return conv


def warm_rows(seeds: list[dict], text: dict, seed: int) -> list[dict]:
    """SFT rows of the format warm-start: seed i's prompt, answered with seed j != i in the tag
    format (j from a seeded derangement, so no row copies its own example)."""
    order = list(range(len(seeds)))
    rng = random.Random(f"{seed}/warm")
    if len(order) > 1:
        while any(i == j for i, j in enumerate(order)):
            rng.shuffle(order)
    return [
        {
            "prompt": prompt(s, text),
            "completion": [{"role": "assistant", "content": fmt.render_item(seeds[j])}],
        }
        for s, j in zip(seeds, order, strict=True)
    ]


def _text(completion) -> str:
    """A TRL completion as text (conversational completions are message lists)."""
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion)
    return completion


class AcquisitionReward:
    """A(x) on the student for every parseable completion, 0 for the others; each call appends
    one row per completion (raw value, reward, r_xml, parseable) to `log_path`."""

    def __init__(self, name: str, probe, family: str, prefill: str, log_path: Path):
        self.__name__ = f"acquisition_{name}"
        self.name, self.probe, self.family, self.prefill = name, probe, family, prefill
        self.log_path, self.calls = Path(log_path), 0

    def __call__(self, prompts, completions, **columns) -> list[float]:
        texts = [self.prefill + _text(c) for c in completions]
        items = [fmt.parse_item(t) for t in texts]
        ok = [k for k, it in enumerate(items) if it is not None]
        parsed = [{**items[k], "family": self.family} for k in ok]
        raw = self.probe.raw(self.name, parsed) if parsed else []
        rewards = self.probe.reward(self.name, raw) if parsed else []
        out = [0.0] * len(texts)
        values = dict(zip(ok, zip(raw, rewards, strict=True), strict=True))
        for k, text in enumerate(texts):
            r, a = values.get(k, (None, 0.0))
            out[k] = a
            append_jsonl(
                self.log_path,
                {
                    "call": self.calls,
                    "acquisition": self.name,
                    "parseable": k in values,
                    "raw": r if r is not None and math.isfinite(r) else None,
                    "reward": a,
                    "r_xml": fmt.r_xml(text) if k in values else 0.0,
                },
            )
        self.calls += 1
        return out


def make_xml_reward(prefill: str):
    """r_xml of parseable completions, 0 for the others (TRL logs it as rewards/r_xml)."""

    def r_xml(prompts, completions, **columns) -> list[float]:
        texts = [prefill + _text(c) for c in completions]
        return [fmt.r_xml(t) if fmt.parse_item(t) else 0.0 for t in texts]

    return r_xml


def synthesize(
    backend, seeds: list[dict], n: int, settings: dict, seed: int, keep=None
) -> tuple[list, dict]:
    """Sample the generator (temperature `temperature`) on seed prompts, drawn in a seeded
    order, batch after batch until n items parse (and pass `keep`, when given) or
    `max_batches` are spent."""
    from reprolab.inference import SamplingParams

    rng = random.Random(seed)
    prefill = settings.get("prefill", "")
    items, tried, parsed = [], 0, 0
    for batch in range(settings["max_batches"]):
        chosen = [rng.choice(seeds) for _ in range(settings["batch"])]
        params = SamplingParams(
            settings["max_new_tokens"], settings["temperature"], 1.0, seed + 7919 * batch
        )
        replies = backend.generate([prompt(s, settings["text"], prefill) for s in chosen], params)
        tried += len(replies)
        for s, reply in zip(chosen, replies, strict=True):
            item = fmt.parse_item(prefill + reply)
            if item is None:
                continue
            parsed += 1
            item = {**item, "family": s["family"], "seed_id": s["id"]}
            if len(items) < n and (keep is None or keep(item)):
                items.append(item)
        log.info("synthesis batch %d: %d/%d items kept", batch, len(items), n)
        if len(items) >= n:
            break
    for k, item in enumerate(items):
        item["id"] = f"syn{k}"
    return items, {
        "sampled": tried,
        "parseable": parsed,
        "parse_rate": parsed / max(tried, 1),
        "kept": len(items),
    }


def pseudo_label(
    backend, embedder, items: list[dict], settings: dict, system: dict, seed: int
) -> None:
    """Each item's label: the answer model's k sampled replies (temperature `temperature`), their
    final answers (tasks.final_answer: what the family's checker reads) embedded, clustered
    (cosine distance `threshold`, average linkage), the medoid of the largest cluster; the
    medoid reply's text before its answer becomes the item's reasoning. In place."""
    from reprolab.inference import SamplingParams
    from reprolab.papers.acqsynth import labels, student, tasks

    params = SamplingParams(settings["max_new_tokens"], settings["temperature"], 1.0, seed)
    replies = backend.sample(
        [student.conversation(i, system) for i in items], params, n=settings["k"]
    )
    for item, completions in zip(items, replies, strict=True):
        texts = [c.text for c in completions]
        answers = [tasks.final_answer(item["family"], t) or "(none)" for t in texts]
        chosen = labels.cluster_label(answers, embedder.encode(answers), settings["threshold"])
        item["generator_answer"] = item["answer"]
        item["answer"] = chosen["label"]
        reasoning, _ = student.split_reply(texts[chosen["index"]])
        item["reasoning"] = reasoning or texts[chosen["index"]].strip()
        item["label_support"] = chosen["support"]
        item["label_clusters"] = chosen["clusters"]

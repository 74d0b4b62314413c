"""An LLM judge with two scorings behind one interface.

    judge = Judge(backend, labels=["Yes", "No"], scoring="forced_choice")
    verdicts = judge.judge(items, render)   # render(item, order) -> a conversation
    judge.report()                          # counts, failures and why

- `forced_choice`: the log-probability of each label as the reply (or as the continuation of a
  prefilled reply, e.g. `{"answer": "`), normalised over the labels: P(label).
- `parsed`: greedy generation, read strictly first (the reply is a label, or JSON whose `key`
  is one), then recovered by a word-boundary regex over the reply when exactly one label occurs.
  A reply that names no label or several is a failure: counted and reported, never mapped to a
  default label.

With `balance`, each item is shown in every cyclic order of the labels (both orders of two), so
a position bias cancels: forced choice averages P(label) over the orders; parsed takes the
majority label over the orders that parsed (ties are failures). Requests of all items and orders
go to the backend in one batched call.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reprolab.inference import Conversation, InferenceBackend, SamplingParams

SCORINGS = ("forced_choice", "parsed")


@dataclass(frozen=True)
class Verdict:
    """One item's judgement: the label (None on failure), P(label) under forced choice, the
    raw replies under parsed generation, and why it failed."""

    label: str | None
    probs: dict[str, float] | None = None
    replies: tuple[str, ...] = ()
    failure: str | None = None


@dataclass
class JudgeReport:
    n: int = 0
    failures: Counter = field(default_factory=Counter)
    recovered: int = 0

    def as_metrics(self, prefix: str = "judge") -> dict[str, float]:
        failed = sum(self.failures.values())
        metrics = {
            f"{prefix}.n": float(self.n),
            f"{prefix}.failure_rate": failed / self.n if self.n else 0.0,
            f"{prefix}.recovered_rate": self.recovered / self.n if self.n else 0.0,
        }
        for reason, count in sorted(self.failures.items()):
            metrics[f"{prefix}.failures.{reason}"] = float(count)
        return metrics


def label_orders(labels: Sequence[str], balance: bool) -> list[tuple[str, ...]]:
    """The label orders every item is shown in: all cyclic shifts when balancing."""
    labels = tuple(labels)
    if not balance:
        return [labels]
    return [labels[k:] + labels[:k] for k in range(len(labels))]


def parse_label(reply: str, labels: Sequence[str], key: str = "answer") -> tuple[str | None, str]:
    """(label, how): 'strict' when the reply is a label or JSON naming one, 'recovered' when
    exactly one label occurs as a word, else (None, 'no_label' | 'several_labels')."""
    text = reply.strip()
    by_lower = {label.lower(): label for label in labels}
    if text.lower().strip(" .\"'") in by_lower:
        return by_lower[text.lower().strip(" .\"'")], "strict"
    try:
        data = json.loads(text)
        if isinstance(data, dict) and str(data.get(key, "")).lower() in by_lower:
            return by_lower[str(data[key]).lower()], "strict"
    except json.JSONDecodeError:
        pass
    found = {
        label
        for label in labels
        if re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text, flags=re.IGNORECASE)
    }
    if len(found) == 1:
        return found.pop(), "recovered"
    return None, "no_label" if not found else "several_labels"


class Judge:
    def __init__(
        self,
        backend: InferenceBackend,
        labels: Sequence[str],
        scoring: str = "forced_choice",
        balance: bool = True,
        params: SamplingParams | None = None,
        json_key: str = "answer",
    ):
        if scoring not in SCORINGS:
            raise ValueError(f"judge scoring '{scoring}': expected one of {SCORINGS}")
        if len(set(labels)) != len(labels) or len(labels) < 2:
            raise ValueError(f"judge labels {labels}: need two or more distinct labels")
        self.backend = backend
        self.labels = tuple(labels)
        self.scoring = scoring
        self.orders = label_orders(labels, balance)
        self.params = params or SamplingParams(max_new_tokens=32, temperature=0.0)
        self.json_key = json_key
        self.stats = JudgeReport()

    def judge(self, items: Sequence, render: Callable[[object, tuple], Conversation]) -> list:
        """One Verdict per item; every (item, order) request in one batched backend call."""
        chats = [render(item, order) for item in items for order in self.orders]
        k = len(self.orders)
        if self.scoring == "forced_choice":
            rows = self.backend.choice_logprobs(chats, list(self.labels))
            verdicts = [self._forced(rows[i * k : (i + 1) * k]) for i in range(len(items))]
        else:
            replies = self.backend.generate(chats, self.params)
            verdicts = [self._parsed(replies[i * k : (i + 1) * k]) for i in range(len(items))]
        self.stats.n += len(verdicts)
        for v in verdicts:
            if v.failure:
                self.stats.failures[v.failure] += 1
        return verdicts

    def _forced(self, rows: list[list[float]]) -> Verdict:
        totals = dict.fromkeys(self.labels, 0.0)
        for logprobs in rows:
            top = max(logprobs)
            weights = [math.exp(lp - top) for lp in logprobs]
            norm = sum(weights)
            for label, w in zip(self.labels, weights, strict=True):
                totals[label] += w / norm / len(rows)
        best = max(totals.values())
        winners = [label for label, p in totals.items() if p == best]
        if len(winners) > 1:
            return Verdict(None, totals, failure="tie")
        return Verdict(winners[0], totals)

    def _parsed(self, replies: list[str]) -> Verdict:
        votes: Counter = Counter()
        reasons = []
        for reply in replies:
            label, how = parse_label(reply, self.labels, self.json_key)
            if label is None:
                reasons.append(how)
                continue
            votes[label] += 1
            if how == "recovered":
                self.stats.recovered += 1 / len(replies)
        if not votes:
            return Verdict(None, replies=tuple(replies), failure=reasons[0])
        ranked = votes.most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return Verdict(None, replies=tuple(replies), failure="orders_disagree")
        return Verdict(ranked[0][0], replies=tuple(replies))

    def report(self) -> JudgeReport:
        return self.stats

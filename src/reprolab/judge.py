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
majority label over the orders that parsed (ties are failures). `judge(..., orders=...)` shows
each item in its own orders instead (e.g. half the items in each order, counterbalanced across
items). Requests of all items and orders go to the backend in one batched call, identical
requests once.

Options:
- `numbered`: the options are shown numbered in the order given, and the reply names a number
  (forced choice scores "1".."k"; parsed reads one); the verdict maps it back to the label shown
  at that position.
- `prefix`: a fixed opening of the reply scored before each answer under forced choice (e.g.
  `{"answer": "`), the context being the conversation as rendered.
- `parser(reply, answers) -> (answer | None, how)`: a reader of free replies in place of
  `parse_label` (how: "strict", "recovered", or the failure's reason).

Every verdict keeps the per-order evidence (the orders, each order's label log-probabilities
and normalised probabilities, or how each order's reply was read), so a study of the judge
itself can define its own statistic over the orders.
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
    """One item's judgement: the label (None on failure), P(label) under forced choice (the
    mean over orders), the raw replies under parsed generation, and why it failed; per shown
    order: the order, the labels' log-probabilities and their normalised probabilities (forced
    choice), the label read and how it was read (parsed)."""

    label: str | None
    probs: dict[str, float] | None = None
    replies: tuple[str, ...] = ()
    failure: str | None = None
    orders: tuple[tuple[str, ...], ...] = ()
    logprobs: tuple[dict[str, float], ...] = ()
    order_probs: tuple[dict[str, float], ...] = ()
    order_labels: tuple[str | None, ...] = ()
    reads: tuple[str, ...] = ()


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
        numbered: bool = False,
        prefix: str = "",
        parser: Callable[[str, Sequence[str]], tuple[str | None, str]] | None = None,
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
        self.numbered = numbered
        self.prefix = prefix
        self.parser = parser or (lambda reply, answers: parse_label(reply, answers, json_key))
        self.stats = JudgeReport()

    def answers(self, order: tuple[str, ...]) -> tuple[str, ...]:
        """What the reply names for each label of an order: its number, or the label itself."""
        return tuple(str(i + 1) for i in range(len(order))) if self.numbered else tuple(order)

    def judge(
        self,
        items: Sequence,
        render: Callable[[object, tuple], Conversation],
        orders: Sequence[Sequence[tuple[str, ...]]] | None = None,
    ) -> list:
        """One Verdict per item; every distinct (item, order) request in one batched call.

        `orders`, one entry per item, replaces the judge's orders with each item's own."""
        if orders is None:
            orders = [self.orders] * len(items)
        if len(orders) != len(items):
            raise ValueError(f"judge: {len(orders)} order lists for {len(items)} items")
        for item_orders in orders:
            if not item_orders:
                raise ValueError("judge: every item needs at least one order")
            for order in item_orders:
                if sorted(order) != sorted(self.labels):
                    raise ValueError(f"judge order {order}: not an order of {self.labels}")
        index: dict[str, int] = {}
        chats: list[Conversation] = []
        where: list[list[int]] = []
        for item, item_orders in zip(items, orders, strict=True):
            slots = []
            for order in item_orders:
                chat = render(item, tuple(order))
                key = json.dumps(chat, sort_keys=True)
                if key not in index:
                    index[key] = len(chats)
                    chats.append(chat)
                slots.append(index[key])
            where.append(slots)
        if self.scoring == "forced_choice":
            answers = self.answers(self.labels)
            rows = self.backend.choice_logprobs(chats, [self.prefix + a for a in answers])
            verdicts = [
                self._forced(item_orders, [rows[i] for i in slots])
                for item_orders, slots in zip(orders, where, strict=True)
            ]
        else:
            replies = self.backend.generate(chats, self.params)
            verdicts = [
                self._parsed(item_orders, [replies[i] for i in slots])
                for item_orders, slots in zip(orders, where, strict=True)
            ]
        self.stats.n += len(verdicts)
        for v in verdicts:
            if v.failure:
                self.stats.failures[v.failure] += 1
        return verdicts

    def _forced(self, orders: Sequence[tuple[str, ...]], rows: list[list[float]]) -> Verdict:
        totals = dict.fromkeys(self.labels, 0.0)
        per_lp, per_p = [], []
        for order, scores in zip(orders, rows, strict=True):
            # Numbered: answer i names the label shown at position i; else answers are labels.
            shown = order if self.numbered else self.labels
            logprobs = dict(zip(shown, scores, strict=True))
            top = max(scores)
            weights = [math.exp(lp - top) for lp in scores]
            norm = sum(weights)
            probs = {label: w / norm for label, w in zip(shown, weights, strict=True)}
            for label in self.labels:
                totals[label] += probs[label] / len(rows)
            per_lp.append({label: logprobs[label] for label in self.labels})
            per_p.append({label: probs[label] for label in self.labels})
        evidence = {
            "orders": tuple(tuple(o) for o in orders),
            "logprobs": tuple(per_lp),
            "order_probs": tuple(per_p),
        }
        best = max(totals.values())
        winners = [label for label, p in totals.items() if p == best]
        if len(winners) > 1:
            return Verdict(None, totals, failure="tie", **evidence)
        return Verdict(winners[0], totals, **evidence)

    def _parsed(self, orders: Sequence[tuple[str, ...]], replies: list[str]) -> Verdict:
        votes: Counter = Counter()
        reasons, labels, reads = [], [], []
        for order, reply in zip(orders, replies, strict=True):
            answers = self.answers(order)
            answer, how = self.parser(reply, answers)
            label = None if answer is None else dict(zip(answers, order, strict=True))[answer]
            labels.append(label)
            reads.append(how)
            if label is None:
                reasons.append(how)
                continue
            votes[label] += 1
            if how == "recovered":
                self.stats.recovered += 1 / len(replies)
        evidence = {
            "replies": tuple(replies),
            "orders": tuple(tuple(o) for o in orders),
            "order_labels": tuple(labels),
            "reads": tuple(reads),
        }
        if not votes:
            return Verdict(None, failure=reasons[0], **evidence)
        ranked = votes.most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return Verdict(None, failure="orders_disagree", **evidence)
        return Verdict(ranked[0][0], **evidence)

    def report(self) -> JudgeReport:
        return self.stats

"""The core judge on planted backends whose answers are known."""

from __future__ import annotations

import math

import pytest

from reprolab.inference import InferenceBackend, get_backend
from reprolab.judge import Judge, parse_label


def ask(item, order):
    return [{"role": "user", "content": f"{item} options: {' / '.join(order)}"}]


class Planted(InferenceBackend):
    """P(first shown option) gets a position bonus; the item itself prefers `truth`."""

    def __init__(self, truth: dict, position_bias: float = 0.0, replies: dict | None = None):
        self.truth, self.bias, self.replies, self.calls = truth, position_bias, replies, 0

    def choice_logprobs(self, contexts, choices):
        self.calls += 1
        rows = []
        for chat in contexts:
            item, shown = chat[0]["content"].split(" options: ")
            first = shown.split(" / ")[0]
            rows.append(
                [
                    math.log(0.7 if c == self.truth[item] else 0.3)
                    + (self.bias if c == first else 0)
                    for c in choices
                ]
            )
        return rows

    def generate(self, conversations, params):
        self.calls += 1
        return [self.replies[c[0]["content"]] for c in conversations]

    def score(self, contexts, continuations):
        raise NotImplementedError


def test_forced_choice_probabilities_and_position_bias_cancel():
    backend = Planted({"q1": "Yes", "q2": "No"}, position_bias=math.log(3))
    judge = Judge(backend, ["Yes", "No"], "forced_choice")
    v1, v2 = judge.judge(["q1", "q2"], ask)
    assert backend.calls == 1  # every item and order in one batched call
    assert (v1.label, v2.label) == ("Yes", "No")
    # Order (Yes, No): P(Yes) = 0.7*3 / (0.7*3 + 0.3) = 0.875; order (No, Yes): 0.7 / (0.7 + 0.9)
    assert v1.probs["Yes"] == pytest.approx((0.875 + 0.7 / 1.6) / 2)
    unbalanced = Judge(Planted({"q1": "No"}, math.log(5)), ["Yes", "No"], balance=False)
    assert unbalanced.judge(["q1"], ask)[0].label == "Yes"  # the bias wins when not balanced


def test_parsed_replies_strict_recovered_and_failures_counted():
    replies = {
        "a options: Yes / No": "Yes",
        "a options: No / Yes": '{"answer": "yes"}',
        "b options: Yes / No": "I think the answer is No, because...",
        "b options: No / Yes": "no.",
        "c options: Yes / No": "Maybe.",
        "c options: No / Yes": "Yes and no",
        "d options: Yes / No": "Yes",
        "d options: No / Yes": "No",
    }
    judge = Judge(Planted({}, replies=replies), ["Yes", "No"], "parsed")
    a, b, c, d = judge.judge(["a", "b", "c", "d"], ask)
    assert (a.label, b.label, c.label, d.label) == ("Yes", "No", None, None)
    assert c.failure == "no_label" and d.failure == "orders_disagree"
    metrics = judge.report().as_metrics()
    assert metrics["judge.failure_rate"] == 0.5
    assert metrics["judge.failures.no_label"] == 1.0
    assert metrics["judge.recovered_rate"] == 0.125  # one of the eight replies


def test_parse_label_by_hand():
    assert parse_label("Nonetheless yes", ["Yes", "No"]) == ("Yes", "recovered")  # word bounds
    assert parse_label("know", ["Yes", "No"]) == (None, "no_label")
    assert parse_label('{"answer": "No"}', ["Yes", "No"]) == ("No", "strict")


def test_forced_choice_on_a_real_backend_is_a_distribution(tiny_model):
    backend = get_backend("transformers", str(tiny_model))
    verdicts = Judge(backend, ["Yes", "No"]).judge(["2+2=4?", "2+2=5?"], ask)
    for v in verdicts:
        assert sum(v.probs.values()) == pytest.approx(1.0)
        assert v.label in ("Yes", "No")
    with pytest.raises(ValueError, match="distinct"):
        Judge(backend, ["Yes", "Yes"])


class Numbered(InferenceBackend):
    """Answers by option number: log P(reply) per scored continuation, planted per prompt."""

    def __init__(self, table: dict, replies: dict | None = None):
        self.table, self.replies, self.seen = table, replies or {}, []

    def choice_logprobs(self, contexts, choices):
        self.seen.append((len(contexts), list(choices)))
        return [[self.table[c[0]["content"]][choice] for choice in choices] for c in contexts]

    def generate(self, conversations, params):
        self.seen.append((len(conversations), None))
        return [self.replies[c[0]["content"]] for c in conversations]

    def score(self, contexts, continuations):
        raise NotImplementedError


def shown(item, order):
    return [{"role": "user", "content": f"{item['q']} 1. {order[0]} 2. {order[1]}"}]


def test_numbered_options_prefix_per_order_evidence_and_one_request_per_prompt():
    pre = '{"pick": "'
    table = {
        "q 1. yes 2. no": {pre + "1": math.log(0.8), pre + "2": math.log(0.2)},
        "q 1. no 2. yes": {pre + "1": math.log(0.6), pre + "2": math.log(0.4)},
    }
    backend = Numbered(table)
    judge = Judge(backend, ["yes", "no"], numbered=True, prefix=pre)
    twice = judge.judge([{"q": "q"}, {"q": "q"}], shown)  # the same item twice: asked once
    assert backend.seen == [(2, [pre + "1", pre + "2"])]
    v = twice[0]
    assert v == twice[1] and v.orders == (("yes", "no"), ("no", "yes"))
    # Option 1 is "yes" in the first order and "no" in the second: numbers map back to labels.
    assert v.logprobs[0] == {"yes": math.log(0.8), "no": math.log(0.2)}
    assert v.logprobs[1] == {"yes": math.log(0.4), "no": math.log(0.6)}
    assert v.order_probs[1]["yes"] == pytest.approx(0.4)
    assert v.probs["yes"] == pytest.approx((0.8 + 0.4) / 2) and v.label == "yes"


def test_items_in_their_own_orders_with_a_custom_parser():
    replies = {
        "a 1. yes 2. no": "option 2!",
        "b 1. no 2. yes": "option 2!",
        "c 1. yes 2. no": "no idea",
    }
    backend = Numbered({}, replies)

    def first_digit(reply, answers):
        found = [a for a in answers if a in reply]
        return (found[0], "recovered") if found else (None, "unreadable")

    judge = Judge(backend, ["yes", "no"], "parsed", numbered=True, parser=first_digit)
    items = [{"q": "a"}, {"q": "b"}, {"q": "c"}]
    orders = [[("yes", "no")], [("no", "yes")], [("yes", "no")]]
    a, b, c = judge.judge(items, shown, orders=orders)
    assert backend.seen == [(3, None)]
    assert (a.label, b.label, c.label) == ("no", "yes", None)  # "2" read in each item's order
    assert b.orders == (("no", "yes"),) and b.order_labels == ("yes",) and b.reads == ("recovered",)
    assert c.failure == "unreadable" and judge.report().failures == {"unreadable": 1}
    with pytest.raises(ValueError, match="not an order"):
        judge.judge(items[:1], shown, orders=[[("yes", "maybe")]])

"""The judge's verdicts under the two scoring modes, for every condition in one batched call.

Both modes go through the core `reprolab.judge.Judge` with labels yes/no shown as numbered
options (the paper's "1." / "2."), so the model's answer is an option number that the core maps
back to yes or no in the order shown. forced_choice: the log-probabilities of the option tokens
after the reply's opening `{"chosen_answer": "`, in both option orders; P(option 1) in an order
is 1 / (1 + exp(lp2 - lp1)), and P(yes) is the mean of P(yes) over the two orders, so a position
bias cancels (computed here from the core's per-order log-probabilities: the statistic under
study). parsed: greedy generation parsed as JSON with regex recovery (`parse.read_choice`); one
option order per item (half the items each, seeded), unparseable replies kept as None.
Conditions share many prompts (the ablation changes only C2); the core judges identical prompts
once.
"""

from __future__ import annotations

import math
import random

from reprolab.inference import SamplingParams
from reprolab.judge import Judge
from reprolab.papers.dialdefer.parse import READ_AS, read_choice
from reprolab.papers.dialdefer.templates import ORDERS, conversation

CELLS = (("c1", True), ("c1", False), ("c2", True), ("c2", False))
LABELS = ("yes", "no")
# The options in the order shown (option 1 first) for each of the paper's orders, and back.
SHOWN = {"yes_first": ("yes", "no"), "no_first": ("no", "yes")}
ORDER_OF = {shown: order for order, shown in SHOWN.items()}


def item_orders(items: list[dict], seed: int) -> dict[str, str]:
    """Half the items (seeded) see "Yes" as option 1, the other half "No"."""
    ids = [item["id"] for item in items]
    random.Random(seed).shuffle(ids)
    return {item_id: ORDERS[i % 2] for i, item_id in enumerate(ids)}


def _judged(plans: dict, cells: tuple = CELLS) -> list[tuple]:
    """(condition name, condition, item, framing, truth) for every record, in record order."""
    return [
        (name, condition, item, framing, truth)
        for name, (condition, items) in plans.items()
        for item in items
        for framing, truth in cells
    ]


def _render(cfg: dict):
    def render(judged: tuple, shown: tuple) -> list[dict]:
        _, condition, item, framing, truth = judged
        return conversation(item, framing, truth, ORDER_OF[shown], condition, cfg)

    return render


def _base(name: str, item: dict, framing: str, truth: bool) -> dict:
    return {
        "condition": name,
        "id": item["id"],
        "domain": item["domain"],
        "framing": framing,
        "truth": truth,
    }


def p_option1(logprobs: dict[str, float], shown: tuple[str, str]) -> float:
    """P(option 1) from the two options' log-probabilities: 1 / (1 + exp(lp2 - lp1))."""
    return 1.0 / (1.0 + math.exp(logprobs[shown[1]] - logprobs[shown[0]]))


def forced_choice(backend, plans: dict, cfg: dict, cells: tuple = CELLS) -> list[dict]:
    """plans: condition name -> (condition, items). One record per condition, item and cell
    (all four cells, or the statement cells alone for the calibration)."""
    judged = _judged(plans, cells)
    judge = Judge(
        backend,
        LABELS,
        "forced_choice",
        balance=True,  # both orders, yes_first then no_first
        numbered=True,
        prefix=cfg["forced_choice"]["prefix"],
    )
    records = []
    for (name, _, item, framing, truth), verdict in zip(
        judged, judge.judge(judged, _render(cfg)), strict=True
    ):
        p_one = {
            ORDER_OF[shown]: p_option1(lp, shown)
            for shown, lp in zip(verdict.orders, verdict.logprobs, strict=True)
        }
        yes_first, no_first = p_one["yes_first"], p_one["no_first"]
        p_yes = (yes_first + (1.0 - no_first)) / 2.0
        records.append(
            {
                **_base(name, item, framing, truth),
                "p_yes": p_yes,
                "yes": p_yes > 0.5,
                "p_option1": (yes_first + no_first) / 2.0,
            }
        )
    return records


def parsed(backend, plans: dict, cfg: dict, seed: int) -> list[dict]:
    """Greedy replies parsed for the choice; yes is None when a reply is unparseable."""
    every_item = {item["id"]: item for _, items in plans.values() for item in items}
    orders = item_orders(list(every_item.values()), seed)
    judged = _judged(plans)
    settings = cfg["parsed"]
    params = SamplingParams(max_new_tokens=settings["max_new_tokens"], temperature=0.0, seed=seed)
    judge = Judge(backend, LABELS, "parsed", params=params, numbered=True, parser=read_choice)
    shown = [[SHOWN[orders[j[2]["id"]]]] for j in judged]
    records = []
    for (name, _, item, framing, truth), verdict in zip(
        judged, judge.judge(judged, _render(cfg), orders=shown), strict=True
    ):
        label = verdict.order_labels[0]
        yes = None if label is None else label == "yes"
        records.append(
            {
                **_base(name, item, framing, truth),
                "order": orders[item["id"]],
                "reply": verdict.replies[0],
                "parse": READ_AS.get(verdict.reads[0], "unparseable"),
                "yes": yes,
                "p_yes": None if yes is None else float(yes),
            }
        )
    return records


def first_per_domain(items: list[dict], n: int | None) -> list[dict]:
    """The first n items of every domain, in order (all items if n is None)."""
    if n is None:
        return items
    seen: dict[str, int] = {}
    kept = []
    for item in items:
        seen[item["domain"]] = seen.get(item["domain"], 0) + 1
        if seen[item["domain"]] <= n:
            kept.append(item)
    return kept


def plans_for(items: list[dict], cfg: dict, mode: str) -> dict:
    """Which items each condition of a mode judges: `base` and the mode's `full_conditions`
    (the paraphrases and the controls) the first items_per_domain of each domain (all if
    unset), every other condition the first items_per_domain_secondary."""
    settings = cfg[mode]
    main = first_per_domain(items, settings.get("items_per_domain"))
    secondary = first_per_domain(main, settings.get("items_per_domain_secondary"))
    full = {"base", *settings.get("full_conditions", [])}
    return {
        name: (cfg["conditions"][name], main if name in full else secondary)
        for name in settings["conditions"]
    }

"""The judge's verdicts under the two scoring modes, for every condition in one batched call.

forced_choice: P(option 1) from the log-probabilities of the option tokens after the reply's
opening `{"chosen_answer": "`, in both option orders; P(yes) is the mean of P(yes) over the two
orders, so a position bias cancels. parsed: greedy generation parsed as JSON with regex recovery;
one option order per item (half the items each, seeded), unparseable replies kept as None.
Conditions share many prompts (the ablation changes only C2), so identical prompts are judged once.
"""

from __future__ import annotations

import json
import math
import random

from reprolab.inference import SamplingParams
from reprolab.papers.dialdefer.parse import parse_choice
from reprolab.papers.dialdefer.templates import ORDERS, conversation

CELLS = (("c1", True), ("c1", False), ("c2", True), ("c2", False))


def item_orders(items: list[dict], seed: int) -> dict[str, str]:
    """Half the items (seeded) see "Yes" as option 1, the other half "No"."""
    ids = [item["id"] for item in items]
    random.Random(seed).shuffle(ids)
    return {item_id: ORDERS[i % 2] for i, item_id in enumerate(ids)}


def _unique_prompts(plans: dict, cfg: dict, orders_of) -> tuple[dict, list]:
    """key (condition, item, framing, truth, order) -> index into the list of distinct chats."""
    index: dict[str, int] = {}
    where: dict[tuple, int] = {}
    chats: list[list[dict]] = []
    for name, (condition, items) in plans.items():
        for item in items:
            for framing, truth in CELLS:
                for order in orders_of(item):
                    chat = conversation(item, framing, truth, order, condition, cfg)
                    text = json.dumps(chat, sort_keys=True)
                    if text not in index:
                        index[text] = len(chats)
                        chats.append(chat)
                    where[(name, item["id"], framing, truth, order)] = index[text]
    return where, chats


def _base(name: str, item: dict, framing: str, truth: bool) -> dict:
    return {
        "condition": name,
        "id": item["id"],
        "domain": item["domain"],
        "framing": framing,
        "truth": truth,
    }


def forced_choice(backend, plans: dict, cfg: dict) -> list[dict]:
    """plans: condition name -> (condition, items). One record per condition, item and cell."""
    where, chats = _unique_prompts(plans, cfg, lambda _: ORDERS)
    prefix = cfg["forced_choice"]["prefix"]
    scores = backend.choice_logprobs(chats, [prefix + "1", prefix + "2"])
    p_one = [1.0 / (1.0 + math.exp(s2 - s1)) for s1, s2 in scores]
    records = []
    for name, (_, items) in plans.items():
        for item in items:
            for framing, truth in CELLS:
                yes_first = p_one[where[(name, item["id"], framing, truth, "yes_first")]]
                no_first = p_one[where[(name, item["id"], framing, truth, "no_first")]]
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
    where, chats = _unique_prompts(plans, cfg, lambda item: (orders[item["id"]],))
    settings = cfg["parsed"]
    params = SamplingParams(max_new_tokens=settings["max_new_tokens"], temperature=0.0, seed=seed)
    replies = backend.generate(chats, params)
    records = []
    for name, (_, items) in plans.items():
        for item in items:
            order = orders[item["id"]]
            for framing, truth in CELLS:
                reply = replies[where[(name, item["id"], framing, truth, order)]]
                choice, how = parse_choice(reply)
                yes = None if choice is None else (choice == "1") == (order == "yes_first")
                records.append(
                    {
                        **_base(name, item, framing, truth),
                        "order": order,
                        "reply": reply,
                        "parse": how,
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
    """Which items each condition of a mode judges: `base` the first items_per_domain of each
    domain (all if unset), every other condition the first items_per_domain_secondary."""
    settings = cfg[mode]
    main = first_per_domain(items, settings.get("items_per_domain"))
    secondary = first_per_domain(main, settings.get("items_per_domain_secondary"))
    return {
        name: (cfg["conditions"][name], main if name == "base" else secondary)
        for name in settings["conditions"]
    }

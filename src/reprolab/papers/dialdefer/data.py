"""The judged items: (question, true answer, false answer) per domain, with a held-out split.

smoke and tiny: the seeded generators of `domains` (no network). full: the items the authors
released (their sample of each dataset, with the correct and incorrect answer they chose), read
through `datasets` from their repository pinned at a commit; or any hub dataset mapped by config,
the incorrect answer being the first distractor, as the paper chooses it.
"""

from __future__ import annotations

import random

from reprolab.papers.dialdefer.domains import DOMAINS


def _unique_items(domain: str, n: int, rng: random.Random) -> list[dict]:
    """n distinct questions of a domain; fails loudly if the domain cannot supply them."""
    _, make = DOMAINS[domain]
    seen: set[str] = set()
    items: list[dict] = []
    attempts = 0
    while len(items) < n:
        attempts += 1
        if attempts > 200 * n:
            raise ValueError(f"data: domain '{domain}' yields fewer than {n} distinct questions")
        item = make(rng)
        if item["question"] in seen or item["true_answer"] == item["false_answer"]:
            continue
        seen.add(item["question"])
        items.append(item)
    return items


def generate(cfg: dict, seed: int) -> tuple[list[dict], list[dict]]:
    """(eval, train) items of every configured domain; train feeds the SFT mitigation only."""
    evaluation, train = [], []
    for offset, domain in enumerate(cfg["domains"]):
        if domain not in DOMAINS:
            raise ValueError(f"data.domains: unknown domain '{domain}'; expected {list(DOMAINS)}")
        rng = random.Random(seed * 1000 + offset)
        n_eval, n_train = cfg["n_eval_per_domain"], cfg.get("n_train_per_domain", 0)
        items = _unique_items(domain, n_eval + n_train, rng)
        kind = DOMAINS[domain][0]
        for split, chunk in (("eval", items[:n_eval]), ("train", items[n_eval:])):
            rows = evaluation if split == "eval" else train
            for item in chunk:
                rows.append({"id": f"{domain}-{len(rows)}", "domain": domain, "kind": kind, **item})
    return evaluation, train


def hub_row(row: dict, spec: dict) -> dict | None:
    """One dataset row as an item, by the spec's mapping; None if it has no distractor.

    Two shapes: `true_field` + `false_field` (a list field takes its first entry, the paper's
    "first distractor"), or `choice_fields` + `label_field` (the distractor is the first choice
    that is not the label).
    """
    question = spec["question_template"].format(**row)
    if "choice_fields" in spec:
        label = int(row[spec["label_field"]]) - spec.get("label_base", 0)
        choices = [row[f] for f in spec["choice_fields"]]
        true = choices[label]
        false = next((c for i, c in enumerate(choices) if i != label and c), None)
    else:
        true = row[spec["true_field"]]
        false = row[spec["false_field"]]
        if isinstance(false, list):
            false = false[0] if false else None
    if not true or not false or true == false:
        return None
    return {"question": question, "true_answer": str(true), "false_answer": str(false)}


def from_hub(cfg: dict, seed: int) -> tuple[list[dict], list[dict]]:
    """The paper's datasets, sampled with the seed to n_eval (+ n_train) items each."""
    from datasets import load_dataset

    evaluation, train = [], []
    for domain, spec in cfg["hub"].items():
        ds = load_dataset(spec["dataset"], spec.get("subset"), split=spec.get("split", "test"))
        rows = [r for r in (hub_row(row, spec) for row in ds) if r is not None]
        random.Random(seed).shuffle(rows)
        n_eval = spec.get("n_eval", cfg["n_eval_per_domain"])
        n_train = cfg.get("n_train_per_domain", 0)
        for split, chunk in (("eval", rows[:n_eval]), ("train", rows[n_eval : n_eval + n_train])):
            out = evaluation if split == "eval" else train
            for item in chunk:
                out.append(
                    {"id": f"{domain}-{len(out)}", "domain": domain, "kind": spec["kind"], **item}
                )
    return evaluation, train


PAPER_FIELDS = ("question", "chosen_correct_answer", "chosen_incorrect_answer")


def paper_row(record: dict, where: str) -> dict:
    """One released item as (question, true answer, false answer), as the authors paired them."""
    missing = [k for k in PAPER_FIELDS if not record.get(k)]
    if missing:
        raise ValueError(
            f"{where}: item {record.get('id', '?')} lacks {missing}; expected {PAPER_FIELDS}"
        )
    question, true, false = (str(record[k]) for k in PAPER_FIELDS)
    return {"question": question, "true_answer": true, "false_answer": false}


def from_paper_files(cfg: dict, seed: int) -> tuple[list[dict], list[dict]]:
    """The authors' released items per domain; n_train_per_domain of them, drawn with the seed,
    are held out for the SFT mitigation and never judged, the rest are the evaluation set."""
    from datasets import load_dataset

    spec = cfg["paper_files"]
    n_train = cfg.get("n_train_per_domain", 0)
    evaluation, train = [], []
    for offset, (domain, entry) in enumerate(spec["domains"].items()):
        where = f"{spec['base']}/{entry['file']}"
        records = load_dataset("json", data_files=where, split="train")
        items = [paper_row(record, where) for record in records]
        if len(items) <= n_train:
            raise ValueError(f"{where}: {len(items)} items, fewer than n_train_per_domain + 1")
        held_out = set(random.Random(seed * 1000 + offset).sample(range(len(items)), n_train))
        for index, item in enumerate(items):
            out = train if index in held_out else evaluation
            out.append(
                {"id": f"{domain}-{len(out)}", "domain": domain, "kind": entry["kind"], **item}
            )
    return evaluation, train


def load(cfg: dict, seed: int) -> tuple[list[dict], list[dict]]:
    sources = {"procedural": generate, "hub": from_hub, "paper_files": from_paper_files}
    return sources[cfg["source"]](cfg, seed)


def eval_settings(cfg: dict) -> dict:
    """The data section as the judged items depend on it. Generated and hub items take the
    evaluation set first and the train split after it, so n_train_per_domain is left out (a new
    SFT split rescores nothing); the authors' files draw the split from the same items, so there
    the evaluation set depends on it too."""
    if cfg["source"] == "paper_files":
        return cfg
    return {k: v for k, v in cfg.items() if k != "n_train_per_domain"}


def eval_items(cfg: dict, seed: int) -> list[dict]:
    """The judged items, the same as `load(cfg, seed)[0]` whatever the train split's size."""
    if cfg["source"] == "paper_files":
        return load(cfg, seed)[0]
    return load({**cfg, "n_train_per_domain": 0}, seed)[0]


def train_items(cfg: dict, seed: int) -> list[dict]:
    """The held-out split the fine-tuning mitigations train on; never a judged item."""
    return load(cfg, seed)[1]

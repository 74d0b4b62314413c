"""Math problems with a single verifiable answer.

smoke and tiny: seeded procedural arithmetic whose difficulty the config sets (operand range,
operations, number of operands), calibrated so the base model's pass@1 is neither 0 nor 1.
full: NuminaMath-CoT for training and MATH for testing, through `datasets`.
"""

from __future__ import annotations

import operator
import random

from reprolab.papers.sgd_rlvr.answers import extract_boxed

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def prompt(question: str, cfg: dict) -> list[dict]:
    """System instruction, the config's worked examples as earlier turns, then the question."""
    messages = [{"role": "system", "content": cfg["system_prompt"]}]
    for shot in cfg.get("examples", []):
        messages.append({"role": "user", "content": shot["question"]})
        messages.append({"role": "assistant", "content": shot["solution"]})
    messages.append({"role": "user", "content": question})
    return messages


def arithmetic_problems(cfg: dict, seed: int) -> list[dict]:
    """Every distinct problem in the configured space, shuffled with the seed."""
    rng = random.Random(seed)
    low, high, n_operands = cfg["min_operand"], cfg["max_operand"], cfg["n_operands"]
    space = (high - low + 1) ** n_operands * len(cfg["operations"]) ** (n_operands - 1)
    wanted = cfg["n_train"] + cfg["n_test"]
    if wanted > space:
        raise ValueError(
            f"data: n_train + n_test = {wanted} exceeds the {space} distinct problems of "
            f"operands {low}..{high}, {n_operands} operands, operations {cfg['operations']}"
        )
    seen: set[str] = set()
    rows = []
    while len(rows) < wanted:
        operands = [rng.randint(low, high) for _ in range(n_operands)]
        ops = [rng.choice(cfg["operations"]) for _ in range(n_operands - 1)]
        expression = str(operands[0])
        value = operands[0]
        for op, x in zip(ops, operands[1:], strict=True):
            expression += f" {op} {x}"
            value = OPS[op](value, x)  # left to right; configs mixing * with +/- must note it
        if expression in seen:
            continue
        seen.add(expression)
        rows.append({"expression": expression, "answer": str(value)})
    return rows


def to_example(index: int, question: str, answer: str, solution: str, cfg: dict) -> dict:
    messages = prompt(question, cfg)
    return {
        "id": index,
        "question": question,
        "answer": answer,
        "prompt": messages,
        "completion": [{"role": "assistant", "content": solution}],
    }


def generate(cfg: dict, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, test) arithmetic examples; the test problems never appear in train."""
    problems = arithmetic_problems(cfg, seed)
    examples = [
        to_example(
            i,
            cfg["question_template"].format(expression=p["expression"]),
            p["answer"],
            f"{p['expression']} = \\boxed{{{p['answer']}}}",
            cfg,
        )
        for i, p in enumerate(problems)
    ]
    return examples[: cfg["n_train"]], examples[cfg["n_train"] :]


# The data keys only the test set reads. The training set's step (`data`) is given the data
# section without them, so a new test-set size or test dataset never retrains an arm.
TEST_ONLY_KEYS = ("n_test",)
TEST_ONLY_HUB_KEYS = ("test_dataset", "test_split")


def train_settings(cfg: dict) -> dict:
    """The data section as the training set depends on it: every key but the test set's own."""
    kept = {k: v for k, v in cfg.items() if k not in TEST_ONLY_KEYS}
    if "hub" in cfg:
        kept["hub"] = {k: v for k, v in cfg["hub"].items() if k not in TEST_ONLY_HUB_KEYS}
    return kept


def hub_train_examples(train_ds, cfg: dict, seed: int) -> list[dict]:
    """NuminaMath rows (problem, solution, source) with a boxed answer, n_train of them."""
    hub = cfg["hub"]
    if hub.get("train_source"):
        train_ds = train_ds.filter(lambda r: r["source"] == hub["train_source"])
    train_ds = train_ds.shuffle(seed=hub.get("shuffle_seed", seed))
    train: list[dict] = []
    for row in train_ds:
        answer = extract_boxed(row["solution"])
        if answer is None:
            continue
        train.append(to_example(len(train), row["problem"], answer, row["solution"], cfg))
        if len(train) == cfg["n_train"]:
            break
    return train


def hub_test_examples(test_ds, cfg: dict) -> list[dict]:
    """MATH rows (problem, answer), the first n_test of them."""
    test: list[dict] = []
    for row in test_ds:
        answer = row.get("answer") or extract_boxed(row.get("solution", "")) or ""
        test.append(to_example(len(test), row["problem"], answer, row.get("solution", ""), cfg))
        if len(test) == cfg["n_test"]:
            break
    return test


def hub_examples(train_ds, test_ds, cfg: dict, seed: int) -> tuple[list[dict], list[dict]]:
    """Both sets from the paper's datasets (disjoint: they are different datasets)."""
    return hub_train_examples(train_ds, cfg, seed), hub_test_examples(test_ds, cfg)


def train_set(cfg: dict, seed: int) -> list[dict]:
    """The training examples. Procedural ones are the first n_train of the seeded stream, which
    does not depend on n_test, so they are the same items as when both sets are made together."""
    if cfg["source"] == "hub":
        from datasets import load_dataset

        hub = cfg["hub"]
        return hub_train_examples(
            load_dataset(hub["train_dataset"], split=hub.get("train_split", "train")), cfg, seed
        )
    return generate({**cfg, "n_test": 0}, seed)[0]


def test_set(cfg: dict, seed: int) -> list[dict]:
    """The test examples: procedural ones are the n_test problems after the training set's in the
    seeded stream (so never a training problem); at the hub, the test dataset's first n_test."""
    if cfg["source"] == "hub":
        from datasets import load_dataset

        hub = cfg["hub"]
        return hub_test_examples(
            load_dataset(hub["test_dataset"], split=hub.get("test_split", "test")), cfg
        )
    return generate(cfg, seed)[1]

"""Math problems with a single verifiable answer.

smoke and tiny: seeded procedural arithmetic whose difficulty the config sets (operand range,
operations, number of operands), calibrated so the base model's pass@1 is neither 0 nor 1.
One seeded stream of distinct problems is cut into train | test | validation: the validation
items (learning-rate choice) are never training or test items. With `worked_solutions`, the SFT
targets spell out every intermediate result ("7 + 5 = 12, 12 - 3 = 9"), a behaviour the prompt's
direct-answer example does not show, so that supervised learning has something to teach.
full: NuminaMath-CoT for training and validation (the rows after the training ones) and MATH
for testing, through `datasets`.
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
    wanted = cfg["n_train"] + cfg["n_test"] + cfg["n_val"]  # callers zero the sets they skip
    if wanted > space:
        raise ValueError(
            f"data: n_train + n_test + n_val = {wanted} exceeds the {space} distinct problems of "
            f"operands {low}..{high}, {n_operands} operands, operations {cfg['operations']}"
        )
    seen: set[str] = set()
    rows = []
    while len(rows) < wanted:
        operands = [rng.randint(low, high) for _ in range(n_operands)]
        ops = [rng.choice(cfg["operations"]) for _ in range(n_operands - 1)]
        expression = str(operands[0])
        value = operands[0]
        steps = []
        for op, x in zip(ops, operands[1:], strict=True):
            expression += f" {op} {x}"
            result = OPS[op](value, x)  # left to right; configs mixing * with +/- must note it
            steps.append(f"{value} {op} {x} = {result}")
            value = result
        if expression in seen:
            continue
        seen.add(expression)
        rows.append({"expression": expression, "answer": str(value), "steps": steps})
    return rows


def solution(problem: dict, worked: bool) -> str:
    """The SFT target: the direct answer, or every intermediate result and then the answer."""
    if not worked:
        return f"{problem['expression']} = \\boxed{{{problem['answer']}}}"
    return ", ".join(problem["steps"]) + f", so the answer is \\boxed{{{problem['answer']}}}."


def to_example(index: int, question: str, answer: str, solution: str, cfg: dict) -> dict:
    messages = prompt(question, cfg)
    prefix = cfg.get("id_prefix", "")
    return {
        "id": f"{prefix}{index}" if prefix else index,
        "question": question,
        "answer": answer,
        "prompt": messages,
        "completion": [{"role": "assistant", "content": solution}],
    }


def generate(cfg: dict, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """(train, test, validation) arithmetic examples: three disjoint cuts of one stream."""
    problems = arithmetic_problems(cfg, seed)
    worked = cfg.get("worked_solutions", False)
    examples = [
        to_example(
            i,
            cfg["question_template"].format(expression=p["expression"]),
            p["answer"],
            solution(p, worked),
            cfg,
        )
        for i, p in enumerate(problems)
    ]
    n_train, n_test = cfg["n_train"], cfg["n_test"]
    return (
        examples[:n_train],
        examples[n_train : n_train + n_test],
        examples[n_train + n_test :],
    )


# The tasks: the RL task ('', the data section as written) and the SFT task ('sft_', the data
# section with `sft_task` merged over it). Each has its own train, test and validation files.
TASKS = ("", "sft_")


def task_settings(cfg: dict, task: str) -> dict:
    """The data section of one task: `sft_task` (absent: none) overrides the RL task's keys."""
    if task not in TASKS:
        raise ValueError(f"data: task {task!r}; expected one of {TASKS}")
    kept = {k: v for k, v in cfg.items() if k != "sft_task"}
    return {**kept, **cfg.get("sft_task", {})} if task == "sft_" else kept


def task_of(arm: str) -> str:
    """The task an arm is trained and scored on: SFT arms (and the base model's SFT-task score,
    'base_sft') on the SFT task, the others on the RL task."""
    return "sft_" if arm.startswith("sft_") or arm == "base_sft" else ""


# The data keys only the test set reads and only the validation set reads. The training set's
# step (`data`) is given the data section without either, so a new test or validation size never
# retrains an arm; the test set's step (`data_test`) without the validation size.
TEST_ONLY_KEYS = ("n_test",)
TEST_ONLY_HUB_KEYS = ("test_dataset", "test_split")
VAL_ONLY_KEYS = ("n_val",)


def train_settings(cfg: dict) -> dict:
    """The data section as the training set depends on it: every key but the test and
    validation sets' own."""
    kept = {k: v for k, v in cfg.items() if k not in TEST_ONLY_KEYS + VAL_ONLY_KEYS}
    if "hub" in cfg:
        kept["hub"] = {k: v for k, v in cfg["hub"].items() if k not in TEST_ONLY_HUB_KEYS}
    return kept


def test_settings(cfg: dict) -> dict:
    """The data section as the test set depends on it: every key but the validation size."""
    return {k: v for k, v in cfg.items() if k not in VAL_ONLY_KEYS}


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
    return generate({**cfg, "n_test": 0, "n_val": 0}, seed)[0]


def test_set(cfg: dict, seed: int) -> list[dict]:
    """The test examples: procedural ones are the n_test problems after the training set's in the
    seeded stream (so never a training problem); at the hub, the test dataset's first n_test."""
    if cfg["source"] == "hub":
        from datasets import load_dataset

        hub = cfg["hub"]
        return hub_test_examples(
            load_dataset(hub["test_dataset"], split=hub.get("test_split", "test")), cfg
        )
    return generate({**cfg, "n_val": 0}, seed)[1]


def val_set(cfg: dict, seed: int) -> list[dict]:
    """The validation examples (learning-rate choice): procedural ones are the n_val problems
    after the test set's, so never a training or test problem; at the hub, the n_val training
    dataset rows after the n_train training ones (the test dataset is never read)."""
    if cfg["source"] == "hub":
        from datasets import load_dataset

        hub = cfg["hub"]
        rows = load_dataset(hub["train_dataset"], split=hub.get("train_split", "train"))
        both = hub_train_examples(rows, {**cfg, "n_train": cfg["n_train"] + cfg["n_val"]}, seed)
        return [dict(r, id=i) for i, r in enumerate(both[cfg["n_train"] :])]
    return generate(cfg, seed)[2]

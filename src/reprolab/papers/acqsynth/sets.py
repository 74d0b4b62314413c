"""The students' training sets: what each set is made of and how it is selected.

gen_<acq>       the generator trained with acquisition <acq>: its synthetic items
untrained       the untrained generator's first N items
filtered_<acq>  the N of the untrained generator's pool with the highest <acq> (rejection
                sampling)
random          N seed examples drawn at random (the seed split itself)
pool_<acq>      positive control: the N procedural pool items with the highest <acq>
pool_random     the control's baseline: N pool items at random
pool_planted    planted effect: the target family's test items themselves with their gold
                answers, all of them (not N: the effect then reaches every scored item)
pool_null       null control: pool items ranked by <control.null_acquisition> after its
                values were shuffled across items (a random selection in disguise)
"""

from __future__ import annotations

import random

import numpy as np


def names(cfg: dict) -> list[str]:
    """Every set the primary student is trained on, in config order."""
    gen = cfg["generator"]["acquisitions"]
    out = [f"gen_{a}" for a in gen] + ["untrained", "random"]
    out += [f"filtered_{a}" for a in cfg["baselines"]["filtered"]]
    control = cfg["control"]
    out += [f"pool_{a}" for a in control["acquisitions"]]
    return out + ["pool_random", "pool_planted", "pool_null"]


def sources(name: str) -> list[str]:
    """The files a set is selected from, relative to the paper's output folder."""
    if name.startswith("gen_"):
        return [f"synth/{name.removeprefix('gen_')}.jsonl"]
    if name == "untrained":
        return ["synth/untrained.jsonl"]
    if name.startswith("filtered_"):
        return ["synth/untrained.jsonl", "acq/untrained.jsonl"]
    if name == "random":
        return ["data/seeds.jsonl"]
    if name == "pool_planted":
        return ["data/test.jsonl"]
    if name.startswith("pool_"):
        return ["data/pool.jsonl", "acq/pool.jsonl"]
    raise ValueError(f"unknown training set '{name}'")


def top(items: list[dict], values: dict[str, float], n: int) -> list[dict]:
    """The n items with the highest value (ties: earlier first); items without one last."""
    order = sorted(range(len(items)), key=lambda k: (-values.get(items[k]["id"], -np.inf), k))
    return [items[k] for k in order[:n]]


def select(name: str, files: dict[str, list[dict]], cfg: dict, seed: int) -> list[dict]:
    """The items of set `name` from its source files (keyed as `sources` names them)."""
    n = cfg["student"]["n_train"]
    rng = random.Random(f"{seed}/{name}")
    if name.startswith("gen_") or name == "untrained":
        return next(iter(files.values()))[:n]
    if name == "random":
        rows = files["data/seeds.jsonl"]
        return rng.sample(rows, min(n, len(rows)))
    if name == "pool_planted":
        family = cfg["data"]["family"]
        return [r for r in files["data/test.jsonl"] if r["family"] == family]
    if name.startswith("filtered_"):
        pool, scores = files["synth/untrained.jsonl"], files["acq/untrained.jsonl"]
        acq = name.removeprefix("filtered_")
    else:
        pool, scores = files["data/pool.jsonl"], files["acq/pool.jsonl"]
        acq = name.removeprefix("pool_")
    if acq == "random":
        return rng.sample(pool, min(n, len(pool)))
    if acq == "null":
        acq = cfg["control"]["null_acquisition"]
        values = [r[acq] for r in scores]
        rng.shuffle(values)
        return top(pool, {r["id"]: v for r, v in zip(scores, values, strict=True)}, n)
    return top(pool, {r["id"]: r[acq] for r in scores}, n)

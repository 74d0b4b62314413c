"""One iteration's task set: sample candidates from the generator, then filter as the paper does.

Schema validation, execution of the gold call in the sandbox (added here: the paper only matches
JSON; registry menus only, an open menu's tools do not exist), dedupe by fingerprint,
verification by the previous solver (k near-greedy samples, keep when the tool-name agreement
reaches the threshold), a difficulty label from the solver as judge (the authors') or from its
pass rate, and a selection with domain quotas and the easy/medium/hard mix.

The oracle control writes its candidates from the registry's question templates instead of
sampling the generator (`data.oracle_reply`); everything after the candidates is shared.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter

from reprolab.inference import SamplingParams, get_backend
from reprolab.papers.toolr0.data import full_reply, generator_rows, oracle_reply, split_tools
from reprolab.papers.toolr0.parse import parse_generator
from reprolab.papers.toolr0.rewards import BAND_HIGH, BAND_LOW
from reprolab.papers.toolr0.selfplay import (
    Solver,
    execute,
    fingerprint,
    name_agreement,
    open_sandbox,
    pass_rate,
    validate_task,
)
from reprolab.papers.toolr0.tools import TOOLS

log = logging.getLogger(__name__)
LEVELS = ("easy", "medium", "hard")
ORACLE = "oracle"


def difficulty(p: float) -> str:
    """The solver's label from its pass rate: easy above the r_diff band, hard below it."""
    if p > BAND_HIGH:
        return "easy"
    return "medium" if p >= BAND_LOW else "hard"


def select(tasks: list[dict], n: int, mix: dict[str, float], seed: int) -> list[dict]:
    """Up to n tasks: the difficulty mix first, equal quotas per domain within each level, then
    whatever is left when a level or domain runs short (the shortfall is visible in the stats)."""
    rng = random.Random(seed)
    pool = sorted(tasks, key=lambda t: t["fingerprint"])
    rng.shuffle(pool)
    chosen: list[dict] = []
    for level in LEVELS:
        want = round(n * mix[level])
        by_domain: dict[str, list[dict]] = {}
        for t in pool:
            if t["difficulty"] == level:
                by_domain.setdefault(t["domain"], []).append(t)
        taken = 0
        while taken < want and any(by_domain.values()):
            for domain in sorted(by_domain):  # one per domain in turn: equal quotas
                if by_domain[domain] and taken < want:
                    chosen.append(by_domain[domain].pop())
                    taken += 1
    picked = {t["fingerprint"] for t in chosen}
    chosen += [t for t in pool if t["fingerprint"] not in picked][: max(0, n - len(chosen))]
    return chosen[:n]


def candidate_replies(
    cfg: dict, rows: list[dict], variant: str, iteration: int, generator_path: str
) -> list[str]:
    """The whole generator replies to the rows' prompts: sampled from the generator, or written
    by the oracle from the registry's templates (the control: no generator at all)."""
    gen_cfg, seed = cfg["generate"], cfg["suite"]["seed"]
    if variant == ORACLE:
        return [oracle_reply(row, seed * 1000 + iteration) for row in rows]
    ev = cfg["evaluate"]
    generator = get_backend(ev["backend"], generator_path, **ev.get("backend_options", {}))
    params = SamplingParams(
        max_new_tokens=gen_cfg["max_new_tokens"],
        temperature=gen_cfg["temperature"],
        seed=seed + iteration,
    )
    log.info("sampling %d candidate tasks from %s", len(rows), generator_path)
    texts = generator.generate([r["prompt"] for r in rows], params)
    return [full_reply(cfg["prompts"], "generator", t) for t in texts]


def build_tasks(
    cfg: dict, iteration: int, generator_path: str, solver_path: str, variant: str = "toolr0"
) -> tuple[list[dict], dict]:
    """(selected tasks, stats) for one iteration of one variant."""
    gen_cfg, seed = cfg["generate"], cfg["suite"]["seed"]
    train_pool, _ = split_tools(cfg["tools"])
    rows = generator_rows(cfg, gen_cfg["n_candidates"], seed * 1000 + 500 + iteration, train_pool)
    replies = candidate_replies(cfg, rows, variant, iteration, generator_path)
    # The oracle writes registry tasks whatever the menu source (it has no open menu to offer).
    source = "registry" if variant == ORACLE else cfg["prompts"]["menu_source"]

    reasons: Counter = Counter()
    valid: list[dict] = []
    with open_sandbox(cfg["sandbox"]) as box:
        for row, reply in zip(rows, replies, strict=True):
            task, reason = validate_task(parse_generator(reply), json.loads(row["menu"]), source)
            if task is not None and source == "registry":
                results = execute(box, task["gold"])
                if not all(r["ok"] for r in results):
                    task, reason = None, "gold_call_fails"
                else:
                    task["gold_results"] = [r["value"] for r in results]
            reasons[reason] += 1
            if task is not None:
                spec = json.loads(row["spec"])
                gold_tool = TOOLS.get(task["gold"][0]["name"])
                task["domain"] = gold_tool.domain if source == "registry" else spec["domain"]
                task["spec"] = spec
                task["fingerprint"] = fingerprint(task)
                valid.append(task)
    unique = list({t["fingerprint"]: t for t in valid}.values())
    log.info("%d candidates: %s; %d unique", len(rows), dict(reasons), len(unique))

    verified: list[dict] = []
    label_failures = 0
    if unique:
        solver = Solver(solver_path, cfg)
        samples = solver.sample(
            unique,
            gen_cfg["verify_k"],
            gen_cfg["verify_temperature"],
            cfg["selfplay"]["solver_max_new_tokens"],
            seed + 7 * iteration,
        )
        for task, task_samples in zip(unique, samples, strict=True):
            task["agreement"] = name_agreement(task_samples, task["gold"])
            task["pass_rate"] = pass_rate(task_samples, task["gold"])
            task["difficulty"] = difficulty(task["pass_rate"])
            if task["agreement"] >= gen_cfg["agreement_min"]:
                verified.append(task)
        if gen_cfg["difficulty_labels"] == "judge":
            labels, label_failures = solver.label_difficulty(
                verified, gen_cfg["difficulty_max_new_tokens"]
            )
            for task, label in zip(verified, labels, strict=True):
                task["difficulty"] = label
    chosen = select(verified, gen_cfg["n_select"], gen_cfg["difficulty_mix"], seed + iteration)
    stats = {
        "iteration": iteration,
        "n_candidates": len(rows),
        "rejected": {k: v for k, v in reasons.items() if k != "ok"},
        "n_valid": len(valid),
        "n_unique": len(unique),
        "n_verified": len(verified),
        "n_selected": len(chosen),
        # The yield: the share of candidates that passed validation (and, for a registry menu,
        # whose gold call ran), before dedupe and verification.
        "valid_yield": len(valid) / len(rows) if rows else 0.0,
        "difficulty_labels": gen_cfg["difficulty_labels"],
        "difficulty_judge_failures": label_failures,
        # The previous solver's pass rate on this generator's tasks: the curriculum signal.
        "solver_pass_rate": (sum(t["pass_rate"] for t in unique) / len(unique) if unique else 0.0),
        # Pass-rate labels of every unique task (the curriculum figure), whoever labels selection.
        "difficulty_unique": dict(Counter(difficulty(t["pass_rate"]) for t in unique)),
        "difficulty_selected": dict(Counter(t["difficulty"] for t in chosen)),
    }
    log.info("selected %d tasks: %s", len(chosen), stats["difficulty_selected"])
    return chosen, stats

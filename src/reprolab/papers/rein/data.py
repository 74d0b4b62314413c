"""Instances: each base task clean (for false positives) and with each error type injected at
the scripted request turn; the goal database state of each.

A clean instance's goal is the database after the task's own call; an error instance's goal is
the database unchanged (the request cannot be executed as stated), with the category's recovery
tool expected. The source is the shipped materials.yaml (smoke, tiny) or, at full, tau-bench's
data and tasks mapped onto rein's environment (taubench.py), whose requests the LLM user writes.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import yaml

from reprolab.papers.rein import errors, tools


def materials() -> dict:
    """The shipped domains: databases, base tasks, error templates (materials.yaml)."""
    text = resources.files("reprolab.papers.rein").joinpath("materials.yaml").read_text()
    return yaml.safe_load(text)


def goal_state(database: dict, task: dict) -> dict:
    """The database after the task's own call (the tools are this package's, run on the host
    for the goal only; every model-chosen call runs in the sandbox)."""
    key = "order_id" if "orders" in database else "reservation_id"
    fn = getattr(tools, task["tool"])
    out = fn(copy.deepcopy(database), **{key: task["object"]})
    if "error" in out["result"]:
        raise ValueError(f"task {task['id']}: its own call fails: {out['result']['error']}")
    return out["state"]


def load(cfg: dict, cache: Path | None = None) -> dict:
    """The configured source: the shipped materials, or tau-bench's files at the pinned commit
    (`origin: tau_bench`, full scale) mapped onto rein's environment."""
    if cfg.get("origin", "materials") == "tau_bench":
        from reprolab.papers.rein import taubench

        return taubench.materials(cfg["tau_bench"], cfg["domains"], cache)
    return materials()


def _utterance(spec: dict, error: str | None, task: dict) -> str | None:
    """The templated user's request; None where the LLM user writes it (no templates)."""
    if error is None:
        return task.get("request")
    return errors.inject(spec["errors"][error], task) if "errors" in spec else None


def instances(cfg: dict, source: dict | None = None) -> list[dict]:
    """Every (task, error type or clean) instance of the configured domains, in a fixed order;
    `n_tasks` keeps each domain's first tasks."""
    source = source or materials()
    rows = []
    for domain in cfg["domains"]:
        spec = source[domain]
        for task in spec["tasks"][: cfg["n_tasks"]]:
            base = {
                "domain": domain,
                "task": task["id"],
                "user_id": task["user"],
                "database": spec["database"],
            }
            if "instruction" in task:  # the LLM user's goal (tau-bench's instruction)
                base["instruction"] = task["instruction"]
                base["verb"] = task["verb"]
            if cfg.get("clean", True):
                rows.append(
                    {
                        **base,
                        "id": f"{task['id']}.clean",
                        "error": None,
                        "category": None,
                        "seen": None,
                        "utterance": _utterance(spec, None, task),
                        "goal": goal_state(spec["database"], task),
                        "expected": task["tool"],
                        "object": task["object"],
                    }
                )
            for error in cfg["error_types"]:
                rows.append(
                    {
                        **base,
                        "id": f"{task['id']}.{error}",
                        "error": error,
                        "category": errors.CATEGORY[error],
                        "seen": error in errors.SEEN,
                        "utterance": _utterance(spec, error, task),
                        "goal": copy.deepcopy(spec["database"]),
                        "expected": errors.recovery_tool(error),
                        "object": task["object"],
                    }
                )
    return rows

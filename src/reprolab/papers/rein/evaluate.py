"""The success checker and the paper's measures over episode results.

Success (Pass@1 of one episode): on an error instance, the category's recovery tool was called
and the database ends as it began (its goal); on a clean instance, the database ends in the
task's goal state and no recovery tool was called. A database mutation error is an episode whose
final database differs from its goal after a database-changing call.
"""

from __future__ import annotations

from reprolab.papers.rein.tools import RECOVERY
from reprolab.tools import state_diff


def recovery_called(result: dict) -> str | None:
    """The first recovery tool the agent called (None if none)."""
    return next((c["name"] for c in result["calls"] if c["name"] in RECOVERY), None)


def mutation_error(result: dict) -> bool:
    """The database moved, and not to its goal."""
    moved = bool(state_diff(result["database"], result["final"]))
    return moved and result["final"] != result["goal"]


def success(result: dict) -> bool:
    """Pass@1 of one episode (see the module doc)."""
    reached = result["final"] == result["goal"]
    called = recovery_called(result)
    if result["error"] is None:
        return reached and called is None
    return reached and called == result["expected"]


def fired(turn: dict) -> bool:
    """Whether inception planted a plan on this turn."""
    return turn.get("plan") is not None


def inception_rates(results: list[dict]) -> dict[str, float]:
    """Activation on the error turn (a plan planted on the first turn of an error instance),
    false positives on clean instances' first turns, and, for an LLM module, how often its
    label named the right category. NaN where no such turns were seen."""
    err = [r for r in results if r["error"] is not None and r["turns"]]
    clean = [r for r in results if r["error"] is None and r["turns"]]
    out = {
        "activation": _rate([fired(r["turns"][0]) for r in err]),
        "false_positive": _rate([fired(r["turns"][0]) for r in clean]),
    }
    labelled = [r for r in err if "inception_label" in r["turns"][0]]
    if labelled:
        from reprolab.papers.rein.errors import CATEGORY

        out["category_correct"] = _rate(
            [CATEGORY.get(r["turns"][0]["inception_label"]) == r["category"] for r in labelled]
        )
    return out


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")

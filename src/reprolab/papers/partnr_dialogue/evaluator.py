"""PARTNR's evaluation of a task over the sequence of true world snapshots of an episode.

A task holds propositions, dependencies (which gate when a proposition counts) and constraints
(which can invalidate a satisfied proposition). percent_complete is the share of propositions
that were satisfied and that every constraint keeps valid; success is percent_complete == 1.
"""

from __future__ import annotations

from reprolab.papers.partnr_dialogue.predicates import check

DEPENDENCY_KINDS = ("while_satisfied", "after_satisfied", "after_unsatisfied", "before_satisfied")
CONSTRAINT_KINDS = (
    "TemporalConstraint",
    "SameArgConstraint",
    "DifferentArgConstraint",
    "TerminalSatisfactionConstraint",
)


def raw_trace(house: dict, task: dict, snapshots: list[dict]) -> list[list[tuple[bool, dict]]]:
    """[step][proposition] -> (satisfied, binding), ignoring dependencies."""
    return [[check(house, s, p) for p in task["propositions"]] for s in snapshots]


def _gate(dep: dict, raw: list[list[bool]], t: int) -> bool:
    """Whether a dependency lets its propositions count at step t."""
    kind, on = dep["relation_type"], dep["depends_on"]
    combine = all if dep.get("dependency_mode", "all") == "all" else any
    if kind == "while_satisfied":
        return combine(raw[t][d] for d in on)
    if kind == "after_satisfied":
        return combine(any(raw[s][d] for s in range(t + 1)) for d in on)
    if kind == "after_unsatisfied":

        def undone(d: int) -> bool:
            first = next((s for s in range(t + 1) if raw[s][d]), None)
            return first is not None and any(not raw[s][d] for s in range(first + 1, t + 1))

        return combine(undone(d) for d in on)
    if kind == "before_satisfied":
        return combine(not any(raw[s][d] for s in range(t + 1)) for d in on)
    raise ValueError(
        f"unknown dependency relation_type '{kind}'; expected one of {DEPENDENCY_KINDS}"
    )


def satisfaction(house: dict, task: dict, snapshots: list[dict]) -> tuple[list[list[bool]], list]:
    """[step][proposition] satisfied with dependencies applied, and the bindings."""
    trace = raw_trace(house, task, snapshots)
    raw = [[ok for ok, _ in row] for row in trace]
    sat = [list(row) for row in raw]
    for dep in task.get("dependencies", []):
        for t in range(len(raw)):
            if not _gate(dep, raw, t):
                for p in dep["proposition_indices"]:
                    sat[t][p] = False
    return sat, [[b for _, b in row] for row in trace]


def evaluate(house: dict, task: dict, snapshots: list[dict]) -> dict:
    """percent_complete, success and, per proposition, when it was first satisfied and whether
    every constraint keeps it valid."""
    if not snapshots:
        raise ValueError("evaluate: an episode needs at least one snapshot")
    sat, bindings = satisfaction(house, task, snapshots)
    n = len(task["propositions"])
    last = len(snapshots) - 1
    first = [next((t for t in range(len(sat)) if sat[t][p]), None) for p in range(n)]
    # The binding a constraint compares: the final one if still satisfied, else the first.
    bound = [
        bindings[last][p]
        if sat[last][p]
        else (bindings[first[p]][p] if first[p] is not None else {})
        for p in range(n)
    ]
    valid = [True] * n
    for c in task.get("constraints", []):
        kind = c["type"]
        if kind == "TerminalSatisfactionConstraint":
            for p in c["proposition_indices"]:
                valid[p] &= sat[last][p]
        elif kind == "TemporalConstraint":
            for before, after in c["dag_edges"]:  # `before` must be satisfied strictly earlier
                ok = first[before] is not None and first[after] is not None
                valid[after] &= ok and first[before] < first[after]
        elif kind in ("SameArgConstraint", "DifferentArgConstraint"):
            props = c["proposition_indices"]
            values = [
                tuple(sorted(bound[p].get(a, [])))
                for p, a in zip(props, c["arg_names"], strict=True)
            ]
            done = [v for p, v in zip(props, values, strict=True) if first[p] is not None]
            same = kind == "SameArgConstraint"
            ok = len(set(done)) <= 1 if same else len(set(done)) == len(done)
            for p in props:
                valid[p] &= ok
        else:
            raise ValueError(
                f"unknown constraint type '{kind}'; expected one of {CONSTRAINT_KINDS}"
            )
    done = [first[p] is not None and valid[p] for p in range(n)]
    percent = sum(done) / n if n else 1.0
    return {
        "percent_complete": percent,
        "success": float(percent == 1.0),
        "satisfied_at": first,
        "valid": valid,
        "done": done,
    }

"""PARTNR's evaluation of a task over the sequence of true world snapshots of an episode.

A task holds propositions, dependencies (which gate when a proposition is evaluated) and
constraints (which can invalidate a satisfied proposition). percent_complete is the share of
propositions that were satisfied and that every constraint keeps valid; success is
percent_complete == 1.

`semantics="partnr"` (the default) follows facebookresearch/partnr-planner at commit
ddfff19f4b6c098a31edea4d19e7b75db72433c2 (habitat_llm/agent/env/measures.py,
evaluation/evaluation_functions.py):
- the dependency gate at step t reads the states recorded before t (`update_metric` calls
  `determine_propositions_to_evaluate` on the sequence before appending the new state), and a
  proposition it gates is recorded unsatisfied at t (so a dependency on it sees that too);
- Same/DifferentArg compare the binding each proposition had when it was *first* satisfied,
  sorted by that step; the earliest is the pivot and only the later ones can be invalidated
  (SameArg: their value shares no handle with the pivot's; DifferentArg: it shares one with any
  earlier proposition's);
- no proposition scores 0.

`semantics="final"` is this repository's earlier variant, kept as an option: the gate reads the
current state too, and Same/DifferentArg compare the final binding of a proposition still
satisfied (else its first) and invalidate all of the constraint's propositions on a mismatch.
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
SEMANTICS = ("partnr", "final")


def _dependency_holds(dep: dict, seq: list[list[bool]]) -> bool:
    """partnr-planner's dependency_is_satisfied over the recorded states `seq`."""
    kind, on = dep["relation_type"], dep["depends_on"]
    mode = dep.get("dependency_mode", "all")
    if mode not in ("all", "any"):
        raise ValueError(f"unknown dependency_mode '{mode}'; expected all or any")
    combine = all if mode == "all" else any
    if kind == "while_satisfied":
        return combine(bool(seq) and seq[-1][d] for d in on)
    if kind == "after_satisfied":
        return combine(any(s[d] for s in seq) for d in on)
    if kind == "after_unsatisfied":
        return combine(
            any(seq[i][d] and not seq[i + 1][d] for i in range(len(seq) - 1)) for d in on
        )
    if kind == "before_satisfied":
        return combine(not any(s[d] for s in seq) for d in on)
    raise ValueError(
        f"unknown dependency relation_type '{kind}'; expected one of {DEPENDENCY_KINDS}"
    )


def satisfaction(
    house: dict, task: dict, snapshots: list[dict], semantics: str = "partnr"
) -> tuple[list[list[bool]], list[list[dict]]]:
    """[step][proposition] recorded satisfied (dependencies applied) and the bindings.

    partnr: the gate at t reads the recorded states 0..t-1; final: it reads 0..t, on the
    propositions' raw (ungated) states."""
    if semantics not in SEMANTICS:
        raise ValueError(f"unknown evaluator semantics '{semantics}'; expected one of {SEMANTICS}")
    trace = [[check(house, s, p) for p in task["propositions"]] for s in snapshots]
    raw = [[ok for ok, _ in row] for row in trace]
    recorded: list[list[bool]] = []
    for t, row in enumerate(raw):
        state = list(row)
        for dep in task.get("dependencies", []):
            seq = recorded if semantics == "partnr" else raw[: t + 1]
            if not _dependency_holds(dep, seq):
                for p in dep["proposition_indices"]:
                    state[p] = False
        recorded.append(state)
    bindings = [
        [b if recorded[t][p] else {} for p, (_, b) in enumerate(row)] for t, row in enumerate(trace)
    ]
    return recorded, bindings


def _matches(a: list[str], b: list[str]) -> bool:
    """partnr-planner's _satisfying_values_match for handle lists: they share a handle."""
    return bool(set(a) & set(b))


def _arg_constraint_partnr(c: dict, first: list, bindings: list) -> dict[int, bool]:
    """Same/DifferentArg as partnr-planner: pivot = the earliest first-satisfied proposition's
    binding (ties by index, Python's stable sort); later ones checked against it (Same) or
    against every earlier one (Different); only later ones are invalidated."""
    done = [
        (p, first[p], arg)
        for p, arg in zip(c["proposition_indices"], c["arg_names"], strict=True)
        if first[p] is not None
    ]
    done.sort(key=lambda item: item[1])
    valid: dict[int, bool] = {}
    if len(done) < 2:
        return valid
    p0, t0, arg0 = done[0]
    seen = [bindings[t0][p0].get(arg0, [])]
    for p, t, arg in done[1:]:
        value = bindings[t][p].get(arg, [])
        if c["type"] == "SameArgConstraint":
            valid[p] = _matches(value, seen[0])
        else:
            valid[p] = not any(_matches(value, v) for v in seen)
            seen.append(value)
    return valid


def _arg_constraint_final(c: dict, first: list, sat: list, bindings: list) -> dict[int, bool]:
    """The earlier variant: the final binding of a proposition still satisfied, else its
    first; a mismatch invalidates every proposition of the constraint."""
    last = len(sat) - 1
    props = c["proposition_indices"]
    values = []
    for p, arg in zip(props, c["arg_names"], strict=True):
        if first[p] is None:
            continue
        bound = bindings[last][p] if sat[last][p] else bindings[first[p]][p]
        values.append(tuple(sorted(bound.get(arg, []))))
    same = c["type"] == "SameArgConstraint"
    ok = len(set(values)) <= 1 if same else len(set(values)) == len(values)
    return {p: ok for p in props}


def evaluate(house: dict, task: dict, snapshots: list[dict], semantics: str = "partnr") -> dict:
    """percent_complete, success and, per proposition, when it was first satisfied and whether
    every constraint keeps it valid."""
    if not snapshots:
        raise ValueError("evaluate: an episode needs at least one snapshot")
    sat, bindings = satisfaction(house, task, snapshots, semantics)
    n = len(task["propositions"])
    last = len(snapshots) - 1
    first = [next((t for t in range(len(sat)) if sat[t][p]), None) for p in range(n)]
    valid = [True] * n
    for c in task.get("constraints", []):
        kind = c["type"]
        if kind == "TerminalSatisfactionConstraint":
            for p in c["proposition_indices"]:
                if first[p] is not None:
                    valid[p] &= sat[last][p]
        elif kind == "TemporalConstraint":
            # partnr-planner: every dependency satisfied, each strictly before the proposition.
            for before, after in c["dag_edges"]:
                ok = first[before] is not None and first[after] is not None
                valid[after] &= ok and first[before] < first[after]
        elif kind in ("SameArgConstraint", "DifferentArgConstraint"):
            if semantics == "partnr":
                verdicts = _arg_constraint_partnr(c, first, bindings)
            else:
                verdicts = _arg_constraint_final(c, first, sat, bindings)
            for p, ok in verdicts.items():
                valid[p] &= ok
        else:
            raise ValueError(
                f"unknown constraint type '{kind}'; expected one of {CONSTRAINT_KINDS}"
            )
    done = [first[p] is not None and valid[p] for p in range(n)]
    percent = sum(done) / n if n else (0.0 if semantics == "partnr" else 1.0)
    return {
        "percent_complete": percent,
        "success": float(percent == 1.0),
        "satisfied_at": first,
        "valid": valid,
        "done": done,
    }

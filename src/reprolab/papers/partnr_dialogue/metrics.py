"""The paper's measures as pure functions of the step logs [recon definitions, see the card].

F_i^t: facts of agent i's world graph at step t; G^t: facts of the true world. Every function
takes plain sets or log rows, so a definition can be swapped without rerunning an episode.
"""

from __future__ import annotations

import zlib
from statistics import mean

import numpy as np

from reprolab.evidence import Units
from reprolab.papers.partnr_dialogue.evaluator import evaluate, satisfaction
from reprolab.papers.partnr_dialogue.grounding import ground
from reprolab.papers.partnr_dialogue.sim import AGENTS, parse_action

Facts = set[tuple[str, ...]]
TARGETING = ("Pick", "Place", "Clean", "Fill", "PowerOn", "PowerOff")
# The actions that can (re)achieve each kind of predicate: a redo must be one of them.
STATE_ACTIONS_OF = {
    "is_clean": ("Clean",),
    "is_dirty": (),
    "is_filled": ("Fill",),
    "is_empty": (),
    "is_powered_on": ("PowerOn",),
    "is_powered_off": ("PowerOff",),
}


def facts(rows: list[list[str]]) -> Facts:
    return {tuple(f) for f in rows}


def observation_convergence(fa: Facts, fb: Facts) -> float:
    """OC = |F_A ∩ F_B| / |F_A ∪ F_B|; two empty graphs agree (1.0)."""
    union = fa | fb
    return len(fa & fb) / len(union) if union else 1.0


def curve_auc(curve: list[float]) -> float:
    """Area under an OC curve over normalised time [0, 1] (trapezoids); one point is itself."""
    if len(curve) == 1:
        return curve[0]
    inner = sum((a + b) / 2 for a, b in zip(curve, curve[1:], strict=False))
    return inner / (len(curve) - 1)


def belief_accuracy(fi: Facts, truth: Facts) -> float | None:
    """|F_i ∩ G| / |F_i|; None for an empty graph."""
    return len(fi & truth) / len(fi) if fi else None


def information_novelty(grounded: Facts, recipient: Facts) -> float | None:
    """IN(m) = |E(m) \\ F_j| / |E(m)|; None when the message grounds no fact."""
    return len(grounded - recipient) / len(grounded) if grounded else None


def bsm_counts(messages: list[tuple[Facts, Facts, Facts]]) -> list[int]:
    """[mentioned, total] over the sender's facts the recipient lacks, then [mentioned, total]
    over those it holds, pooled over messages; items are (E(m), F_i, F_j)."""
    counts = {True: [0, 0], False: [0, 0]}  # known to the recipient -> [mentioned, total]
    for grounded, sender, recipient in messages:
        for f in sender:
            known = f in recipient
            counts[known][0] += f in grounded
            counts[known][1] += 1
    return [*counts[False], *counts[True]]


def belief_sensitivity(messages: list[tuple[Facts, Facts, Facts]]) -> float | None:
    """BSM = P(mentioned | f not in F_j) - P(mentioned | f in F_j), over the facts f of the
    sender's graph F_i at each message, pooled; items are (E(m), F_i, F_j)."""
    mentioned_new, new, mentioned_known, known = bsm_counts(messages)
    if not known or not new:
        return None
    return mentioned_new / new - mentioned_known / known


def bsm_null(
    messages: list[tuple[Facts, Facts, Facts]], draws: int, rng: np.random.Generator
) -> np.ndarray | None:
    """BSM of `draws` messages that mention facts regardless of what the recipient holds: in
    each message, which of the sender's facts count as known to the recipient is permuted
    (each message keeps its facts, how many it mentions and how many the recipient holds).
    The mentioned facts among the permuted 'known' ones are then hypergeometric. None where
    BSM is undefined."""
    sizes = []  # per message: sender's facts, mentioned among them, held by the recipient
    for grounded, sender, recipient in messages:
        if sender:
            sizes.append((len(sender), len(sender & grounded), len(sender & recipient)))
    if not sizes:
        return None
    total, mentioned, held = (np.array(column) for column in zip(*sizes, strict=True))
    known, new = int(held.sum()), int((total - held).sum())
    if not known or not new:
        return None
    hits = rng.hypergeometric(mentioned, total - mentioned, held, size=(draws, len(sizes)))
    mentioned_known = hits.sum(axis=1)
    return (mentioned.sum() - mentioned_known) / new - mentioned_known / known


def _target(action: str) -> str | None:
    parsed = parse_action(action)
    if parsed and parsed[0] in TARGETING and parsed[1]:
        return parsed[1][0]
    return None


def _achieves(action: str, predicate: str) -> bool:
    """Whether an action is of the kind that brings about a predicate (Pick/Place for where
    things are, the matching state action for a state)."""
    name = action.split("[", 1)[0]
    if predicate in STATE_ACTIONS_OF:
        return name in STATE_ACTIONS_OF[predicate]
    return name in ("Pick", "Place")


def conflicts(
    header: dict, steps: list[dict], window: int, semantics: str = "partnr"
) -> list[dict]:
    """Action conflicts of one episode: (same_target) both agents act on one object within
    `window` steps; (held_by_partner) an agent acts on an object the partner holds; (redo) an
    agent acts, with an action of the kind that achieves it, on an object of a proposition the
    partner has satisfied (a proposition other propositions wait on excepted, since moving on
    from it is the task)."""
    task = header["task"]
    sat, _ = satisfaction(header["house"], task, [s["snapshot"] for s in steps], semantics)
    stones = {
        b
        for c in task.get("constraints", [])
        if c["type"] == "TemporalConstraint"
        for b, _ in c["dag_edges"]
    }
    stones |= {d for dep in task.get("dependencies", []) for d in dep["depends_on"]}
    objects_of = [
        {v for key, vals in p["args"].items() if key.endswith("handles") for v in _flat(vals)}
        for p in task["propositions"]
    ]
    events: list[dict] = []
    touched: dict[str, list[tuple[int, str]]] = {}
    last_actor: dict[str, str] = {}
    for t in range(1, len(steps)):
        before = steps[t - 1]["snapshot"]["objects"]
        for agent in AGENTS:
            action = steps[t]["actions"].get(agent, "")
            target = _target(action)
            if target is None:
                continue
            partner = AGENTS[1 - AGENTS.index(agent)]
            for t_other, who in touched.get(target, []):
                if who == partner and t - t_other <= window:
                    events.append(
                        {"kind": "same_target", "step": t, "agent": agent, "object": target}
                    )
                    break
            entry = before.get(target)
            if entry and entry["relation"] == "held" and entry["parent"] == partner:
                events.append(
                    {"kind": "held_by_partner", "step": t, "agent": agent, "object": target}
                )
            if last_actor.get(target) == partner and any(
                sat[t - 1][p]
                and target in objects_of[p]
                and p not in stones
                and _achieves(action, task["propositions"][p]["predicate"])
                for p in range(len(task["propositions"]))
            ):
                events.append({"kind": "redo", "step": t, "agent": agent, "object": target})
            touched.setdefault(target, []).append((t, agent))
        for agent in AGENTS:
            target = _target(steps[t]["actions"].get(agent, ""))
            if target and steps[t]["results"].get(agent, {}).get("ok"):
                last_actor[target] = agent
    return events


def _flat(values) -> list[str]:
    out = []
    for v in values if isinstance(values, list) else [values]:
        out.extend(_flat(v) if isinstance(v, list) else [v])
    return out


def episode_metrics(header: dict, steps: list[dict], settings: dict) -> dict:
    """Everything measured on one episode's log."""
    house, budget = header["house"], header["budget"]
    semantics = settings.get("semantics", "partnr")
    result = evaluate(house, header["task"], [s["snapshot"] for s in steps], semantics)
    curve = [
        observation_convergence(facts(s["graphs"]["robot"]), facts(s["graphs"]["human"]))
        for s in steps
    ]
    curve += [curve[-1]] * (budget + 1 - len(curve))  # a finished episode keeps its last state
    accuracy = [
        a
        for s in steps
        for agent in AGENTS
        if (a := belief_accuracy(facts(s["graphs"][agent]), facts(s["truth"]))) is not None
    ]
    sent = [m for s in steps for m in s["messages"]]
    grounded = [ground(m["text"], house, list(AGENTS)) for m in sent]
    novelty = [
        n
        for m, e in zip(sent, grounded, strict=True)
        if (n := information_novelty(e, facts(m["recipient_facts"]))) is not None
    ]
    decisions = [meta for s in steps for meta in s["meta"].values()]
    events = conflicts(header, steps, settings["conflict_window"], semantics)
    return {
        "episode": header["episode"],
        "task_type": header["task_type"],
        "success": result["success"],
        "percent_complete": result["percent_complete"],
        "steps": len(steps) - 1,
        "conflicts": len(events),
        "conflict": float(bool(events)),
        "conflict_kinds": sorted({e["kind"] for e in events}),
        "oc_curve": curve,
        "oc_auc": curve_auc(curve),
        "oc_gain": curve[-1] - curve[0],
        "belief_accuracy": mean(accuracy) if accuracy else None,
        "messages": len(sent),
        "novelty": novelty,
        "ungrounded": sum(not e for e in grounded),
        "bsm_items": [
            (e, facts(m["sender_facts"]), facts(m["recipient_facts"]))
            for m, e in zip(sent, grounded, strict=True)
        ],
        "parse_failures": sum(bool(d.get("parse_failure")) for d in decisions),
        "decisions": len(decisions),
    }


def split_episodes(rows: list[dict]) -> list[tuple[dict, list[dict]]]:
    out: list[tuple[dict, list[dict]]] = []
    for row in rows:
        if row["kind"] == "episode":
            out.append((row, []))
        else:
            out[-1][1].append(row)
    return out


def per_episode(rows: list[dict], settings: dict) -> list[dict]:
    """episode_metrics of every episode of one arm and condition's log."""
    per = [episode_metrics(h, s, settings) for h, s in split_episodes(rows)]
    if not per:
        raise ValueError("per_episode: the log holds no episode")
    return per


def summarize(rows: list[dict], settings: dict) -> dict:
    """One arm and condition: means over episodes, pooled message measures, the mean OC curve."""
    return summarize_episodes(per_episode(rows, settings))


def summarize_episodes(per: list[dict]) -> dict:
    """summarize() from the episodes' measures (per_episode)."""
    messages = sum(p["messages"] for p in per)
    novelty = [n for p in per for n in p["novelty"]]
    curves = [p["oc_curve"] for p in per]
    decisions = sum(p["decisions"] for p in per)
    out = {
        "episodes": len(per),
        "success": mean(p["success"] for p in per),
        "percent_complete": mean(p["percent_complete"] for p in per),
        "steps": mean(p["steps"] for p in per),
        "conflict_rate": mean(p["conflict"] for p in per),
        "conflicts_per_episode": mean(p["conflicts"] for p in per),
        "oc_auc": mean(p["oc_auc"] for p in per),
        "oc_final": mean(c[-1] for c in curves),
        "oc_gain": mean(p["oc_gain"] for p in per),
        "messages_per_episode": messages / len(per),
        "info_novelty": mean(novelty) if novelty else None,
        "ungrounded_share": sum(p["ungrounded"] for p in per) / messages if messages else None,
        "bsm": belief_sensitivity([i for p in per for i in p["bsm_items"]]),
        "parse_failure_rate": sum(p["parse_failures"] for p in per) / decisions
        if decisions
        else None,
        "oc_curve": [mean(c[t] for c in curves) for t in range(len(curves[0]))],
        "by_task_type": {},
    }
    accuracy = [p["belief_accuracy"] for p in per if p["belief_accuracy"] is not None]
    out["belief_accuracy"] = mean(accuracy) if accuracy else None
    for kind in sorted({p["task_type"] for p in per}):
        part = [p for p in per if p["task_type"] == kind]
        out["by_task_type"][kind] = {
            "success": mean(p["success"] for p in part),
            "conflict_rate": mean(p["conflict"] for p in part),
        }
    return out


DIFFERENCES = (
    "success",
    "percent_complete",
    "steps",
    "conflict_rate",
    "oc_auc",
    "oc_final",
    "belief_accuracy",
)


def flatten(summary: dict) -> dict[str, float]:
    """metrics.json: '<arm>.<condition>.<quantity>' and '<arm>.dialogue_minus_silent.<q>'
    (rates also in percentage points, '_pp'); quantities that are undefined are left out."""
    flat: dict[str, float] = {}
    for arm, by_condition in summary.items():
        for condition, values in by_condition.items():
            for key, value in values.items():
                if isinstance(value, int | float) and value is not None:
                    flat[f"{arm}.{condition}.{key}"] = float(value)
            for kind, values_k in values["by_task_type"].items():
                for key, value in values_k.items():
                    flat[f"{arm}.{condition}.{kind}.{key}"] = float(value)
        if {"silent", "dialogue"} <= set(by_condition):
            for key in DIFFERENCES:
                a, b = by_condition["dialogue"].get(key), by_condition["silent"].get(key)
                if a is not None and b is not None:
                    flat[f"{arm}.dialogue_minus_silent.{key}"] = float(a - b)
                    if key in ("success", "conflict_rate", "percent_complete"):
                        flat[f"{arm}.dialogue_minus_silent.{key}_pp"] = float(100 * (a - b))
    return flat


# Per-episode values the claims engine resamples: '<arm>.<condition>.<name>', one per episode.
# Episodes are the sampled unit; the two conditions of an arm run the same episodes (same
# house, task and seed), so the engine pairs them.
EPISODE_VALUES = ("success", "conflict", "oc_auc")


def evidence_units(per: dict[str, dict[str, list[dict]]], draws: int, seed: int) -> Units:
    """units.json from per[arm][condition] = per_episode(...): each episode's success, conflict
    (0/1) and OC AUC; its [sum of IN(m), messages grounding a fact] (information novelty
    pooled over messages is their ratio of sums); its BSM counts (bsm_counts, pooled by
    statistics.pooled_bsm); and, where BSM is defined, BSM's permutation
    null (bsm_null, `draws` draws seeded from the suite seed and the name)."""
    units = Units()
    for arm, by_condition in per.items():
        for condition, episodes in by_condition.items():
            name = f"{arm}.{condition}"
            ids = [p["episode"] for p in episodes]
            for key in EPISODE_VALUES:
                units.add(f"{name}.{key}", "episode", ids, [float(p[key]) for p in episodes])
            novelty = [[sum(p["novelty"]), len(p["novelty"])] for p in episodes]
            units.add(f"{name}.novelty_counts", "episode", ids, novelty)
            units.add(
                f"{name}.bsm_counts", "episode", ids, [bsm_counts(p["bsm_items"]) for p in episodes]
            )
            items = [i for p in episodes for i in p["bsm_items"]]
            observed = belief_sensitivity(items)
            rng = np.random.default_rng([seed, zlib.crc32(f"{name}.bsm".encode())])
            null = bsm_null(items, draws, rng)
            if observed is not None and null is not None:
                how = "which of the sender's facts the recipient holds, permuted in each message"
                units.add_null(f"{name}.bsm", observed, null, how)
    return units


PROBE_RULES = ("pmi", "loglik", "sum")


def probe_measures(rows: list[dict], prefix: str, units: Units | None = None) -> dict[str, float]:
    """Share of hand-placed states (probe.py) where each choice rule took the right action,
    over all states and per kind ('<prefix>.<rule>.right_rate', '<prefix>.<rule>.<kind>.
    right_rate'); with `units`, each state's 0/1 under '<prefix>.<rule>.right' (the rules
    ran on the same states, so the engine pairs them)."""
    out: dict[str, float] = {f"{prefix}.states": float(len(rows))}
    if not rows:
        return out
    for rule in PROBE_RULES:
        right = [float(r[rule] == r["right"]) for r in rows]
        out[f"{prefix}.{rule}.right_rate"] = mean(right)
        for kind in sorted({r["kind"] for r in rows}):
            part = [float(r[rule] == r["right"]) for r in rows if r["kind"] == kind]
            out[f"{prefix}.{rule}.{kind}.right_rate"] = mean(part)
        if units is not None:
            units.add(f"{prefix}.{rule}.right", "state", [r["id"] for r in rows], right)
    return out

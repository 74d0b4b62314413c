"""ATOD-Eval (the note's metrics, ported from the authors' ATODEval at the pinned commit): dGCR,
NTC, dependency-edge and goal-detection precision / recall / F1, status accuracy, memory recall
accuracy (MRA) and proactivity effectiveness (PE). Goals are compared by intent: a dialogue
holds each intent at most once, so a predicted goal is its intent (duplicates are false
positives)."""

from __future__ import annotations

from collections import Counter

from reprolab.papers.atod import lifecycle as lc


def dgcr_counts(goals: list[dict]) -> tuple[int, int]:
    """(completed, decided): only completed and failed goals enter dGCR."""
    decided = [g for g in goals if g["status"] in lc.DECIDED]
    return sum(g["status"] == lc.COMPLETED for g in decided), len(decided)


def ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def terminal_turn(goal: dict) -> int | None:
    """completion_turn for completed goals, else the turn of the decided status's last entry."""
    if goal["status"] == lc.COMPLETED and isinstance(goal.get("completion_turn"), int):
        return goal["completion_turn"]
    if goal["status"] in lc.DECIDED:
        for entry in reversed(goal.get("status_history") or []):
            if entry["status"] == goal["status"]:
                return entry["turn"]
    return None


def ntc_counts(goals: list[dict]) -> tuple[int, int]:
    """(sum of turns from first mention to the decided terminal turn, decided goals counted)."""
    total = count = 0
    for g in goals:
        start, end = g.get("first_mentioned_turn"), terminal_turn(g)
        if isinstance(start, int) and isinstance(end, int):
            total += max(0, end - start)
            count += 1
    return total, count


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1; 0 where undefined (the authors' convention)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def edges(goals: list[dict]) -> set[tuple[str, str]]:
    """Dependency edges (prerequisite intent, dependent intent); dependencies name goal ids."""
    by_id = {g["id"]: g["intent"] for g in goals}
    out = set()
    for g in goals:
        for d in g.get("dependencies") or []:
            u = by_id.get(d, d)
            if u != g["intent"]:
                out.add((u, g["intent"]))
    return out


def edge_counts(pred: set, gold: set) -> tuple[int, int, int]:
    return len(pred & gold), len(pred - gold), len(gold - pred)


def detection_counts(pred_intents: list[str], gold_intents: list[str]) -> tuple[int, int, int]:
    """tp, fp, fn of detected goals; a second goal of one intent is a false positive."""
    gold = set(gold_intents)
    counts = Counter(pred_intents)
    tp = sum(1 for i in counts if i in gold)
    return tp, len(pred_intents) - tp, len(gold) - tp


def status_accuracy(pred: dict[str, str], gold_goals: list[dict]) -> float:
    """Share of gold goals whose final status the evaluator holds (undetected = wrong)."""
    if not gold_goals:
        return float("nan")
    return sum(pred.get(g["intent"]) == g["status"] for g in gold_goals) / len(gold_goals)


def mra(checkpoints: list[dict]) -> float:
    """Memory recall accuracy: at every gold status change, 1 when the evaluator's recalled
    status of that goal matches the gold snapshot, else 0; the mean."""
    if not checkpoints:
        return float("nan")
    return sum(c["pred"] == c["gold"] for c in checkpoints) / len(checkpoints)


def proactive_turns(dialogue: dict) -> list[tuple[dict, str]]:
    """System turns that change the status of a goal whose content words are absent from the
    user's preceding turn: (turn, goal id) pairs."""
    goals = {g["id"]: g for g in dialogue["goal_list"]}
    out = []
    turns = dialogue["turns"]
    for i, t in enumerate(turns):
        if t["speaker"] != "SYSTEM":
            continue
        user = turns[i - 1]["utterance"].lower() if i and turns[i - 1]["speaker"] == "USER" else ""
        for ch in t["goal_status_changes"]:
            words = [w for w in goals[ch["goal_id"]]["core_content"].lower().split() if len(w) > 3]
            if words and not any(w in user for w in words):
                out.append((t, ch["goal_id"]))
    return out


def pe(dialogue: dict) -> float:
    """Proactivity effectiveness [recon rule judge]: mean over proactive turns of grounded
    (the goal was mentioned before the turn) x beneficial (the change moves it to completed)."""
    goals = {g["id"]: g for g in dialogue["goal_list"]}
    scores = []
    for t, gid in proactive_turns(dialogue):
        first = goals[gid]["first_mentioned_turn"]
        grounded = first is not None and first < t["turn_id"]
        change = next(c for c in t["goal_status_changes"] if c["goal_id"] == gid)
        scores.append(float(grounded and change["to"] == lc.COMPLETED))
    return sum(scores) / len(scores) if scores else float("nan")

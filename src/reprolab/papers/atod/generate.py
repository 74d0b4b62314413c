"""The generation pipeline at smoke and tiny scale (the note's stages 1-3 and 5-6 without an
LLM): the goal co-occurrence graph of the seed sequences, weighted random walks with
exploration, rule-based dependencies, and dialogues written from a template grammar with
interleaving, asynchronous completions and proactive system turns. Gold per-turn statuses come
from construction: every utterance that moves a goal records the change as it is written."""

from __future__ import annotations

import random
from collections import Counter

from reprolab.papers.atod import lifecycle as lc
from reprolab.papers.atod import ontology

# The system's and user's turns of the grammar (this project's; the status words are what a
# reader of the dialogue has to map back to statuses).
START = "Let me look into the {noun}."
WAIT = "I'll arrange the {noun} once the {before} is confirmed."
ASYNC = "I'm working on the {noun}; I'll notify you when it is confirmed."
DONE = "Done, the {noun} is all set and confirmed."
FAIL = "Sorry, the {noun} is not available, I could not get it."
ABANDON_USER = "Actually, forget {ref}, I don't need it any more."
ABANDON_SYS = "No problem, I have cancelled that request."
NUDGE = ["Any news on {ref}?", "How is {ref} going?", "Can you finish {ref}?"]
PROACTIVE = "Also, your {noun} is now confirmed."
FILLER = ["Thanks.", "Great, thank you.", "Okay."]


def cooccurrence_graph(sequences: list[list[str]]) -> tuple[Counter, Counter]:
    """Node counts and directed edge counts of consecutive goals (stage 2)."""
    nodes, edges = Counter(), Counter()
    for seq in sequences:
        nodes.update(seq)
        edges.update(zip(seq, seq[1:], strict=False))
    return nodes, edges


def goal_count(rng: random.Random, spec: dict) -> int:
    """The note's goal count: uniform on `low` with probability p_low, else on `high`."""
    lo = spec["low"] if rng.random() < spec["p_low"] else spec["high"]
    return rng.randint(lo[0], lo[1])


def random_walk(
    rng: random.Random, nodes: Counter, edges: Counter, length: int, exploration: float
) -> list[str]:
    """A walk without revisits: the next goal follows an edge in proportion to its count, or,
    with probability `exploration` (or when no unvisited neighbour is left), any unvisited goal
    uniformly (stage 3)."""
    names = sorted(nodes)
    length = min(length, len(names))
    start = rng.choices(names, weights=[nodes[n] for n in names])[0]
    walk = [start]
    while len(walk) < length:
        here = walk[-1]
        nbrs = sorted(b for (a, b) in edges if a == here and b not in walk)
        if nbrs and rng.random() >= exploration:
            walk.append(rng.choices(nbrs, weights=[edges[(here, b)] for b in nbrs])[0])
        else:
            walk.append(rng.choice([n for n in names if n not in walk]))
    return walk


def dependencies(goals: list[str], rules: list[dict]) -> dict[str, list[str]]:
    """Rule-based dependencies among a dialogue's goals: `after` waits for `before` when both
    are present and `before` comes first in the walk."""
    deps: dict[str, list[str]] = {g: [] for g in goals}
    for r in rules:
        a, b = r["before"], r["after"]
        if a in goals and b in goals and goals.index(a) < goals.index(b):
            deps[b].append(a)
    return deps


class _Builder:
    """Writes one dialogue utterance by utterance and records every status change."""

    def __init__(self, goals: list[dict]):
        self.goals = {g["id"]: g for g in goals}
        self.turns: list[dict] = []

    def say(self, speaker: str, text: str, changes: list[tuple[str, str]], proactive=()):
        t = len(self.turns)
        recorded = []
        for gid, status in changes:
            g = self.goals[gid]
            if not lc.allowed(g["status"], status):
                raise AssertionError(f"{g['status']} -> {status}")
            recorded.append(lc.move(g, gid, status, t))
        self.turns.append(
            {
                "turn_id": t,
                "speaker": speaker,
                "utterance": text,
                "goal_status_changes": recorded,
                "proactive_goals": list(proactive),
                "all_goals": {gid: g["status"] for gid, g in self.goals.items()},
            }
        )


def _fill(rng: random.Random, spec: dict, template: str, values: dict) -> str:
    return template.format(**values)


def build_dialogue(rng: random.Random, walk: list[str], deps: dict, gen: dict, dial_id: str):
    """One dialogue from the template grammar (the note's stage 5 without an LLM)."""
    onto = ontology.load()["intents"]
    goals = []
    for i, intent in enumerate(walk):
        spec = onto[intent]
        values = {k: rng.choice(v) for k, v in spec["slots"].items()}
        noun = spec["noun"].format(**values)
        goals.append(
            {
                "id": f"g{i + 1}",
                "intent": intent,
                "domain": spec["domain"],
                "slot_values": values,
                "content": rng.choice(spec["asks"]).format(**values),
                "core_content": noun,
                "ref": rng.choice(spec["refs"]).format(**values),
                "dependencies": [],
                "status": lc.NOT_MENTIONED,
                "status_history": [],
                "first_mentioned_turn": None,
                "completion_turn": None,
            }
        )
    by_intent = {g["intent"]: g for g in goals}
    for g in goals:
        g["dependencies"] = [by_intent[b]["id"] for b in deps[g["intent"]]]
    # Each goal's planned outcome and whether the system finishes it asynchronously.
    plan = {}
    for g in goals:
        r = rng.random()
        out = gen["outcomes"]
        plan[g["id"]] = (
            lc.FAILED
            if r < out["failed"]
            else lc.ABANDONED
            if r < out["failed"] + out["abandoned"]
            else lc.COMPLETED
        )
    is_async = {g["id"]: rng.random() < gen["p_async"] for g in goals}
    b = _Builder(goals)
    queue = [g["id"] for g in goals]  # goals not yet introduced, in walk order
    waiting_async: list[str] = []  # completed in the background, announced proactively
    G = b.goals

    def blocked(gid: str) -> str | None:
        for pre in G[gid]["dependencies"]:
            if G[pre]["status"] != lc.COMPLETED:
                return pre
        return None

    for _ in range(gen["max_pairs"]):
        active = [gid for gid in G if G[gid]["status"] == lc.PENDING and gid not in waiting_async]
        ready = [gid for gid in active if blocked(gid) is None]
        introduce = queue and (not ready or rng.random() < gen["p_interleave"])
        proactive = []
        if waiting_async and rng.random() < gen["p_proactive"]:
            proactive = [waiting_async.pop(0)]
        if introduce:
            gid = queue.pop(0)
            g = G[gid]
            b.say("USER", g["content"], [(gid, lc.OPEN)])
            pre = blocked(gid)
            if pre is not None:
                text = WAIT.format(noun=g["core_content"], before=G[pre]["core_content"])
            elif is_async[gid] and plan[gid] == lc.COMPLETED:
                text = ASYNC.format(noun=g["core_content"])
                waiting_async.append(gid)
            else:
                text = START.format(noun=g["core_content"])
            changes = [(gid, lc.PENDING)]
        elif ready:
            gid = ready[0] if rng.random() >= gen["p_interleave"] else rng.choice(ready)
            g = G[gid]
            if plan[gid] == lc.ABANDONED:
                b.say("USER", ABANDON_USER.format(ref=g["ref"]), [(gid, lc.ABANDONED)])
                text, changes = ABANDON_SYS, []
            else:
                b.say("USER", rng.choice(NUDGE).format(ref=g["ref"]), [])
                if is_async[gid] and plan[gid] == lc.COMPLETED:
                    text = ASYNC.format(noun=g["core_content"])  # unblocked: now in background
                    waiting_async.append(gid)
                    changes = []
                else:
                    tpl = DONE if plan[gid] == lc.COMPLETED else FAIL
                    text, changes = tpl.format(noun=g["core_content"]), [(gid, plan[gid])]
        elif waiting_async or proactive:
            b.say("USER", rng.choice(FILLER), [])
            if not proactive:
                proactive = [waiting_async.pop(0)]
            text, changes = "", []
        else:
            break
        for gid in proactive:
            text = (text + " " + PROACTIVE.format(noun=G[gid]["core_content"])).strip()
            changes.append((gid, lc.COMPLETED))
        b.say("SYSTEM", text, changes, proactive=proactive)
    for g in goals:
        lc.check_history(g["status_history"])
    n = len(goals)
    return {
        "dialogue_id": dial_id,
        "n_goals": n,
        "n_dependencies": sum(len(g["dependencies"]) for g in goals),
        "complexity_class": "complex" if n > gen["complex_above"] else "medium",
        "goal_list": [{k: v for k, v in g.items() if k != "ref"} for g in goals],
        "turns": b.turns,
    }


def generate(cfg: dict, seed: int) -> list[dict]:
    """The dialogues of the config: goal counts from the note's distribution (`n_dialogues`)
    or a fixed grid (`goal_grid` x `per_count`, the control with known goal numbers)."""
    onto = ontology.load()
    rng = random.Random(seed)
    nodes, edges = cooccurrence_graph(onto["seed_sequences"])
    if cfg.get("goal_grid"):
        counts = [n for n in cfg["goal_grid"] for _ in range(cfg["per_count"])]
    else:
        counts = [goal_count(rng, cfg["goal_counts"]) for _ in range(cfg["n_dialogues"])]
    out = []
    for i, n in enumerate(counts):
        walk = random_walk(rng, nodes, edges, n, cfg["exploration"])
        deps = dependencies(walk, onto["dependencies"])
        d = build_dialogue(rng, walk, deps, cfg["grammar"], f"d{i:03d}")
        if len(d["turns"]) >= cfg["min_turns"]:  # the note's discard rule
            out.append(d)
    return out

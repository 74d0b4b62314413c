"""Hand-placed states where one action is plainly right, to measure the LLM's action choice
apart from the episodes' compounding errors.

From each episode the probe places the human (who may do every action), the task's first
object to move known to it: in that object's room, not at its furniture (right:
Navigate[furniture]); at the furniture, hands empty, the object in sight (right: Pick[obj]); or
holding the object at its target furniture (right: Place[obj, rel, target]). The valid actions
are scored once with the state and once after the context-free prompt, so every choice rule
(pmi: the difference; loglik: log-likelihood per character, the earlier rule; sum: the summed
log-likelihood) is read from one batched call.
"""

from __future__ import annotations

from reprolab.papers.partnr_dialogue import llm_agent
from reprolab.papers.partnr_dialogue.episode import Episode
from reprolab.papers.partnr_dialogue.messages import task_objects

AGENT = "human"
KINDS = ("pick", "place", "navigate")


def _move_target(task: dict, obj: str) -> str | None:
    """The receptacle a proposition wants obj on or in (the first such proposition)."""
    for prop in task["propositions"]:
        args = prop["args"]
        if prop["predicate"] in ("is_on_top", "is_inside") and obj in args["object_handles"]:
            return args["receptacle_handles"][0]
    return None


def place(spec: dict, kind: str, settings: dict) -> tuple[Episode, str] | None:
    """The episode's start with the human hand-placed for `kind`, and the right action; None
    when the task has no object to move."""
    ep = Episode(spec, "silent", settings)
    house, sim = ep.house, ep.sim
    movable = [o for o in task_objects(ep.task) if _move_target(ep.task, o)]
    if not movable:
        return None
    obj = movable[0]
    me = sim.agents[AGENT]
    if kind == "navigate":  # in the object's room, not at its furniture, the object known
        parent = sim.objects[obj]["parent"]
        me.update(room=house["furniture"][parent]["room"], at=None, holding=None)
        right = f"Navigate[{parent}]"
    elif kind == "pick":
        parent = sim.objects[obj]["parent"]
        me.update(room=house["furniture"][parent]["room"], at=parent, holding=None)
        if parent in sim.open:
            sim.open[parent] = True
        right = f"Pick[{obj}]"
    else:
        target = _move_target(ep.task, obj)
        sim.objects[obj].update(parent=AGENT, relation="held")
        me.update(room=house["furniture"][target]["room"], at=target, holding=obj)
        if target in sim.open:
            sim.open[target] = True
        rel = "inside" if house["furniture"][target]["container"] else "on"
        right = f"Place[{obj}, {rel}, {target}]"
    ep.graphs[AGENT].observe(obj, sim.objects[obj], 0)
    return ep, right


def states(specs: list[dict], settings: dict, n: int) -> list[tuple[str, str, Episode, str]]:
    """Up to n states of each kind: (id, kind, episode, right action)."""
    out = []
    for kind in KINDS:
        made = 0
        for spec in specs:
            if made == n:
                break
            placed = place(spec, kind, settings)
            if placed is not None:
                out.append((f"{kind}-{spec['id']}", kind, *placed))
                made += 1
    return out


def _argmax(options: list[str], values: list[float]) -> str:
    return max(zip(values, options, strict=True), key=lambda pair: pair[0])[1]


def run(backend, specs: list[dict], settings: dict, n: int) -> list[dict]:
    """Each state's options, right action and both rules' choices (one batched call)."""
    llm = settings["llm"]
    made = states(specs, settings, n)
    options = [ep.valid_actions(AGENT) for _, _, ep, _ in made]
    contexts = [
        llm_agent.menu_prompt(ep, AGENT, llm, opts)
        for (_, _, ep, _), opts in zip(made, options, strict=True)
    ]
    if not made:
        return []
    # The context-free prompt is one for all states: read once, with every state's options.
    pooled = list(dict.fromkeys(o for opts in options for o in opts))
    null = llm_agent.null_prompt(made[0][2], AGENT)
    scores = backend.score_candidates([*contexts, null], [*options, pooled])
    free = dict(zip(pooled, scores[-1], strict=True))
    rows = []
    for i, ((sid, kind, _, right), opts) in enumerate(zip(made, options, strict=True)):
        with_state = scores[i]
        pmi = _argmax(opts, [s - free[o] for s, o in zip(with_state, opts, strict=True)])
        loglik = _argmax(opts, [s / max(1, len(o)) for s, o in zip(with_state, opts, strict=True)])
        total = _argmax(opts, with_state)
        rows.append(
            {
                "id": sid,
                "kind": kind,
                "right": right,
                "options": opts,
                "right_offered": right in opts,
                "pmi": pmi,
                "loglik": loglik,
                "sum": total,
            }
        )
    return rows

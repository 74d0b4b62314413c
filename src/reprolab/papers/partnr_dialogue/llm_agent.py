"""The LLM agent. Two modes on one path, chosen by config:

- score (tiny): the valid actions are scored as continuations of the agent's prompt, all agents
  of all live episodes in one batched `score` call; the best (length-normalised) wins. When it is
  SendMessage, the message is written by the model, all senders in one `generate` call.
- react (full): the model writes "Thought: ... Action: ..." freely (one batched `generate` call);
  the action is parsed and checked against the valid actions; a parse failure becomes Wait[] and
  is counted.
"""

from __future__ import annotations

import re

from reprolab.inference import InferenceBackend, SamplingParams
from reprolab.papers.partnr_dialogue.episode import Episode, partner_of
from reprolab.papers.partnr_dialogue.world_graph import STATES

SEND = "SendMessage["
_ACTION_LINE = re.compile(r"Action:\s*(.+)")


def _describe(obj: str, entry: dict) -> str:
    where = {"on": "on", "inside": "inside", "held": "held by"}.get(entry.get("relation"), "at")
    states = [f"{k}={'yes' if entry[k] else 'no'}" for k in STATES if k in entry]
    text = f"{obj} {where} {entry.get('parent')}"
    return text + (f" ({', '.join(states)})" if states else "")


def prompt(ep: Episode, agent: str, settings: dict) -> list[dict]:
    """The agent's view: task, position, its world graph, recent actions and messages."""
    me = ep.sim.agents[agent]
    partner = partner_of(agent)
    system = (
        f"You are the {agent} in a house, working with the {partner} on this task: "
        f"{ep.task['instruction']} Only the human can clean, fill or power objects. "
        f"Rooms: {', '.join(ep.house['rooms'])}. Answer with one action."
    )
    known = ep.graphs[agent].objects
    objects = "; ".join(
        _describe(o, e) for o, e in sorted(known.items())[: settings["max_objects"]]
    )
    k = settings["history"]
    own = ", ".join(
        h["action"] + ("" if h["ok"] else f" (failed: {h['reason']})")
        for h in ep.history[agent][-k:]
    )
    theirs = ", ".join(h["action"] for h in ep.history[partner][-k:])
    lines = [
        f"Step {ep.t + 1} of {ep.budget}. You are in the {me['room']}"
        + (f" at {me['at']}" if me["at"] else "")
        + f", holding {me['holding'] or 'nothing'}.",
        f"Objects you know: {objects or 'none yet'}.",
        f"Your last actions: {own or 'none'}.",
        f"The {partner}'s last actions: {theirs or 'none'}.",
    ]
    if ep.condition == "dialogue":
        inbox = " | ".join(m["text"] for m in ep.inbox[agent][-k:])
        lines.append(f"Messages from the {partner}: {inbox or 'none'}.")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def candidates(ep: Episode, agent: str) -> list[str]:
    acts = ep.valid_actions(agent)
    return acts + [SEND] if ep.condition == "dialogue" else acts


def choose_by_score(
    backend: InferenceBackend, requests: list[tuple[Episode, str]], settings: dict, seed: int
) -> list[tuple[str, dict]]:
    """One batched score call over every request's candidates; then the messages."""
    prompts = [prompt(ep, agent, settings) for ep, agent in requests]
    options = [candidates(ep, agent) for ep, agent in requests]
    scores = backend.score_candidates(prompts, options) if requests else []
    best: list[tuple[float, str]] = [(-float("inf"), "Wait[]")] * len(requests)
    for r, (acts, lps) in enumerate(zip(options, scores, strict=True)):
        for act, lp in zip(acts, lps, strict=True):
            per_char = settings.get("normalize", "chars") == "chars"
            value = lp / max(1, len(act)) if per_char else lp
            if value > best[r][0]:
                best[r] = (value, act)
    chosen = [(act, {"score": value}) for value, act in best]
    senders = [r for r, (act, _) in enumerate(chosen) if act == SEND]
    if senders:
        asks = [
            prompts[r][:1]
            + [
                {
                    "role": "user",
                    "content": prompts[r][1]["content"] + "\n" + settings["message_prompt"],
                }
            ]
            for r in senders
        ]
        params = SamplingParams(
            max_new_tokens=settings["message_tokens"], temperature=0.0, seed=seed
        )
        for r, text in zip(senders, backend.generate(asks, params), strict=True):
            text = text.strip().split("\n")[0].replace("[", "(").replace("]", ")")[:300]
            chosen[r] = (f"SendMessage[{text}]", chosen[r][1] | {"message_generated": True})
    return chosen


def parse_react(text: str, valid: list[str], dialogue: bool) -> str | None:
    """The action of a ReAct reply: its last 'Action:' line, if valid; None otherwise."""
    found = _ACTION_LINE.findall(text)
    if not found:
        return None
    action = found[-1].strip().strip("`'\". ")
    if (
        dialogue
        and action.startswith(SEND)
        and action.endswith("]")
        and len(action) > len(SEND) + 1
    ):
        return action
    norm = {re.sub(r"\s+", "", v): v for v in valid}
    return norm.get(re.sub(r"\s+", "", action))


def choose_by_react(
    backend: InferenceBackend, requests: list[tuple[Episode, str]], settings: dict, seed: int
) -> list[tuple[str, dict]]:
    """One batched generate call; unparseable or invalid actions become Wait[] (counted)."""
    convs, valids = [], []
    for ep, agent in requests:
        conv = prompt(ep, agent, settings)
        valid = ep.valid_actions(agent)
        listing = "\n".join(valid + ([SEND + "<text>]"] if ep.condition == "dialogue" else []))
        conv[1]["content"] += f"\nValid actions:\n{listing}\n{settings['react_prompt']}"
        convs.append(conv)
        valids.append(valid)
    params = SamplingParams(
        max_new_tokens=settings["react_tokens"],
        temperature=settings.get("temperature", 0.0),
        seed=seed,
    )
    out = []
    for (ep, _), valid, text in zip(requests, valids, backend.generate(convs, params), strict=True):
        action = parse_react(text, valid, ep.condition == "dialogue")
        out.append((action or "Wait[]", {"parse_failure": action is None, "reply": text[-500:]}))
    return out


MODES = {"score": choose_by_score, "react": choose_by_react}

"""The LLM agent: the core `reprolab.episodes` Requests of one agent's turn and how their
replies become actions (play.py steps them in lockstep). Two modes, chosen by config:

- score (tiny): the valid actions are scored as continuations of the agent's prompt (the runner
  batches all agents of all live episodes into one `score_candidates` call); the best
  (length-normalised) wins. When it is SendMessage, the model writes the message in a second
  phase (all senders of the step in one `generate` call).
- react (full): the model writes "Thought: ... Action: ..." freely (one batched `generate` call);
  the action is parsed and checked against the valid actions; a parse failure becomes Wait[] and
  is counted.
"""

from __future__ import annotations

import re

from reprolab.episodes import Request
from reprolab.inference import SamplingParams
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


def score_request(ep: Episode, agent: str, settings: dict) -> Request:
    """Score mode, first phase: every valid action as a continuation of the agent's prompt."""
    return Request("score_candidates", agent, (prompt(ep, agent, settings), candidates(ep, agent)))


def best_action(options: list[str], scores: list[float], settings: dict) -> tuple[str, dict]:
    """The best-scoring action (per character unless normalize is none); Wait[] when none."""
    best: tuple[float, str] = (-float("inf"), "Wait[]")
    per_char = settings.get("normalize", "chars") == "chars"
    for act, lp in zip(options, scores, strict=True):
        value = lp / max(1, len(act)) if per_char else lp
        if value > best[0]:
            best = (value, act)
    return best[1], {"score": best[0]}


def message_request(ep: Episode, agent: str, settings: dict, seed: int) -> Request:
    """Score mode, second phase: the model writes the message of an agent that chose to send."""
    conv = prompt(ep, agent, settings)
    ask = conv[:1] + [
        {"role": "user", "content": conv[1]["content"] + "\n" + settings["message_prompt"]}
    ]
    params = SamplingParams(max_new_tokens=settings["message_tokens"], temperature=0.0, seed=seed)
    return Request("generate", agent, ask, params)


def message_action(text: str) -> str:
    """The SendMessage action of a written message: its first line, brackets made round."""
    text = text.strip().split("\n")[0].replace("[", "(").replace("]", ")")[:300]
    return f"SendMessage[{text}]"


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


def react_request(ep: Episode, agent: str, settings: dict, seed: int) -> Request:
    """React mode: the model writes Thought/Action over the listed valid actions."""
    conv = prompt(ep, agent, settings)
    valid = ep.valid_actions(agent)
    listing = "\n".join(valid + ([SEND + "<text>]"] if ep.condition == "dialogue" else []))
    conv[1]["content"] += f"\nValid actions:\n{listing}\n{settings['react_prompt']}"
    params = SamplingParams(
        max_new_tokens=settings["react_tokens"],
        temperature=settings.get("temperature", 0.0),
        seed=seed,
    )
    return Request("generate", agent, conv, params)


def react_action(ep: Episode, agent: str, text: str) -> tuple[str, dict]:
    """The parsed action of a ReAct reply; unparseable or invalid becomes Wait[] (counted)."""
    action = parse_react(text, ep.valid_actions(agent), ep.condition == "dialogue")
    return action or "Wait[]", {"parse_failure": action is None, "reply": text[-500:]}


MODES = ("score", "react")

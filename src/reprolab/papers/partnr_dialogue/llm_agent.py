"""The LLM agent: the core `reprolab.episodes` Requests of one agent's turn and how their
replies become actions (play.py steps them in lockstep). Two modes, chosen by config:

- score (tiny): the prompt lists the valid actions after one worked example; each valid action
  and (dialogue) each grounded candidate message (messages.candidates: a fact of the agent's
  world graph, or "I will handle X") is scored as the whole reply. `choice: pmi` (default)
  subtracts each candidate's score after a context-free prompt (the core `score_calibrated`
  kind: a 135M model's prior for short, frequent strings cancels); `choice: loglik` is the
  earlier rule (log-likelihood per character). All agents of all live episodes go in one
  batched call a step.
- react (full): the model writes "Thought: ... Action: ..." freely (one batched `generate` call);
  the action is parsed and checked against the valid actions; a parse failure becomes Wait[] and
  is counted.

The hybrid arm (play.py) asks the same scoring question with a narrower menu: the scripted
planner's action or one of the candidate messages.
"""

from __future__ import annotations

import re

from reprolab.episodes import Request
from reprolab.inference import SamplingParams
from reprolab.papers.partnr_dialogue import messages
from reprolab.papers.partnr_dialogue.episode import Episode, partner_of
from reprolab.papers.partnr_dialogue.world_graph import STATES

SEND = "SendMessage["
CHOICES = ("pmi", "loglik")
# One worked step, in the system prompt of every score-mode decision (not the context-free one).
EXAMPLE = (
    "Example. Task: put cup_0 on table_0. You are in the kitchen at counter_0, holding nothing. "
    "Objects you know: cup_0 on counter_0. Valid actions: Explore[kitchen], Navigate[table_0], "
    "Pick[cup_0], Wait[], Done[]. Answer: Pick[cup_0]"
)
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
    theirs = ", ".join(h["action"] for h in ep.observed[agent][-k:])
    lines = [
        f"Step {ep.t + 1} of {ep.budget}. You are in the {me['room']}"
        + (f" at {me['at']}" if me["at"] else "")
        + f", holding {me['holding'] or 'nothing'}.",
        f"Objects you know: {objects or 'none yet'}.",
        f"Your last actions: {own or 'none'}.",
        f"The {partner}'s last actions you saw: {theirs or 'none'}.",
    ]
    if ep.condition == "dialogue":
        inbox = " | ".join(m["text"] for m in ep.inbox[agent][-k:])
        lines.append(f"Messages from the {partner}: {inbox or 'none'}.")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def message_options(ep: Episode, agent: str, settings: dict) -> list[str]:
    """Dialogue: the grounded candidate messages of the agent (none when silent)."""
    if ep.condition != "dialogue":
        return []
    graph = ep.graphs[agent].objects
    return messages.candidates(graph, ep.task, settings.get("max_messages", 6))


def candidates(ep: Episode, agent: str, settings: dict) -> list[str]:
    """Score mode: the valid actions, then (dialogue) the candidate messages."""
    return ep.valid_actions(agent) + message_options(ep, agent, settings)


def menu_prompt(ep: Episode, agent: str, settings: dict, options: list[str]) -> list[dict]:
    """The agent's view, the worked example in the system prompt and its options listed."""
    conv = prompt(ep, agent, settings)
    conv[0]["content"] += " " + EXAMPLE
    conv[1]["content"] += "\nValid actions: " + ", ".join(options) + "\nAnswer:"
    return conv


def null_prompt(ep: Episode, agent: str) -> list[dict]:
    """The context-free prompt of every decision: the answer cue alone, so that what the
    model says there (its prior for short, frequent strings) is what calibration removes."""
    del ep, agent  # one prompt for all: the core reads it once a batch
    return [{"role": "user", "content": "Answer:"}]


def choice_request(
    ep: Episode, agent: str, settings: dict, options: list[str], tag: str = ""
) -> Request:
    """Score `options` as the agent's whole reply: calibrated (pmi) or plain (loglik)."""
    conv = menu_prompt(ep, agent, settings, options)
    role = agent + tag
    if settings.get("choice", "pmi") == "pmi":
        return Request("score_calibrated", role, (conv, options, null_prompt(ep, agent)))
    if settings.get("choice") != "loglik":
        raise ValueError(f"llm.choice '{settings.get('choice')}': expected one of {CHOICES}")
    return Request("score_candidates", role, (conv, options))


def score_request(ep: Episode, agent: str, settings: dict) -> Request:
    """Score mode: every valid action and candidate message, in one request."""
    return choice_request(ep, agent, settings, candidates(ep, agent, settings))


def best_action(options: list[str], scores: list[float], settings: dict) -> tuple[str, dict]:
    """The best-scoring option: the calibrated score as is (pmi), else per character unless
    normalize is none (loglik); Wait[] when there is none."""
    best: tuple[float, str] = (-float("inf"), "Wait[]")
    per_char = (
        settings.get("choice", "pmi") == "loglik" and settings.get("normalize", "chars") == "chars"
    )
    for act, lp in zip(options, scores, strict=True):
        value = lp / max(1, len(act)) if per_char else lp
        if value > best[0]:
            best = (value, act)
    return best[1], {"score": best[0], "options": len(options)}


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

"""The generate step: every (episode, condition) of one task through the lockstep decoder.

A condition says how attention is closed (window W, sink tokens, a random span closed instead
of the goal) and what the user says (the goal restated in probe turns; the persona's passive or
adversarial script). The mask is per row, so conditions may share a batch; the workflow runs
one condition per job, as rows of one condition pad least.
"""

from __future__ import annotations

import logging
import random
import zlib

import numpy as np

from reprolab.inference.transformers_backend import ChatGlue
from reprolab.papers.gar.decode import LockstepDecoder, Script, Trace, goal_token_span

log = logging.getLogger(__name__)


def _users(episode: dict, condition: dict) -> tuple[list[str], list[dict]]:
    """The user messages of an episode under a condition, and the turn records behind them."""
    if episode["kind"] == "persona":
        turns = episode["scripts"][condition.get("script", "passive")]
        return [t["user"] for t in turns], turns
    users = []
    for turn in episode["turns"]:
        text = turn["user"]
        if condition.get("restate") and turn["kind"] == "probe":
            text = episode["restatement"] + text
        users.append(text)
    return users, episode["turns"]


def build_scripts(
    episodes: list[dict],
    conditions: dict[str, dict],
    names: list[str],
    tokenizer,
    seed: int,
    keep_hidden: list[str],
) -> list[Script]:
    """One Script per (condition, episode), with the random span drawn from the seed."""
    glue = ChatGlue(tokenizer)
    scripts = []
    for name in names:
        if name not in conditions:
            raise ValueError(f"condition '{name}' is not defined under generate.conditions")
        condition = conditions[name]
        for episode in episodes:
            users, _ = _users(episode, condition)
            span = None
            if condition.get("random_span"):
                # As many tokens as the goal, closed by the window rule of span_window, starting
                # within one goal length of eligible tokens after the goal [recon]: late enough
                # to leave the goal alone, early enough to leave the window's tail within the
                # episode's turns (decode._Spans says which tokens are eligible).
                _, g0, g1 = goal_token_span(
                    tokenizer, glue.first(episode["system"], users[0]), episode["goal"]
                )
                rng = random.Random(seed * 7919 + zlib.crc32(f"{episode['id']}|{name}".encode()))
                length = g1 - g0 + 1
                span = (rng.randrange(length), length, condition["span_window"])
            scripts.append(
                Script(
                    episode=episode["id"],
                    condition=name,
                    system=episode["system"],
                    goal=episode["goal"],
                    users=users,
                    window=condition.get("window"),
                    sinks=condition.get("sinks", 0),
                    span=span,
                    keep_crossover_state=name in keep_hidden,
                )
            )
    return scripts


def trace_record(trace: Trace, episode: dict, condition: dict) -> dict:
    """A JSON row: the script's settings, the goal span and every turn with its measurements."""
    script = trace.script
    _, turns = _users(episode, condition)
    records = []
    for number, (turn, meta) in enumerate(zip(trace.turns, turns, strict=True), 1):
        row = {
            "turn": number,
            "user": script.users[number - 1],
            "response": turn.response,
            "n_tokens": turn.n_tokens,
            "response_start": turn.response_start,
            "gar": turn.gar,
            "gar_norm": None if np.isnan(turn.gar_norm) else turn.gar_norm,
            "ended": turn.ended,
        }
        row.update({k: meta[k] for k in ("kind", "key", "answer") if k in meta})
        records.append(row)
    return {
        "episode": script.episode,
        "task": episode["task"],
        "kind": episode["kind"],
        "condition": script.condition,
        "script": condition.get("script"),
        "window": script.window,
        "sinks": script.sinks,
        "span": trace.span_keys or None,
        "span_length": script.span[1] if script.span else None,
        "span_window": script.span[2] if script.span else None,
        "goal": script.goal,
        "goal_start": trace.goal_start,
        "goal_end": trace.goal_end,
        "rules": episode.get("rules"),
        "turns": records,
    }


def generate(
    model,
    tokenizer,
    episodes: list[dict],
    settings: dict,
    task: str,
    names: list[str],
    seed: int,
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Run conditions `names` of a task; return the trace rows and the kept residual states.

    Residuals are keyed '<episode>|<condition>|<turn>', each (layers + 1, hidden size).
    """
    scripts = build_scripts(
        episodes,
        settings["conditions"],
        names,
        tokenizer,
        seed,
        settings.get("keep_hidden", []),
    )
    by_id = {e["id"]: e for e in episodes}
    batch_size = settings["batch_size"]
    decoder = LockstepDecoder(
        model,
        tokenizer,
        max_new_tokens=settings["max_new_tokens"][task],
        temperature=settings.get("task_temperature", {}).get(task, settings["temperature"]),
        seed=seed,
    )
    rows, hidden = [], {}
    n_batches = -(-len(scripts) // batch_size)
    for number in range(n_batches):
        batch = scripts[number * batch_size : (number + 1) * batch_size]
        traces = decoder.run(batch, label=f"{task} batch {number + 1}/{n_batches}")
        for trace in traces:
            condition = settings["conditions"][trace.script.condition]
            rows.append(trace_record(trace, by_id[trace.script.episode], condition))
            for turn, states in trace.hidden.items():
                hidden[f"{trace.script.episode}|{trace.script.condition}|{turn}"] = states
    return rows, hidden

"""Step every episode of a condition in lockstep: at each step the LLM agents' requests of all
live episodes go to the model in one batched call; heuristic agents act directly."""

from __future__ import annotations

import logging
import time

from reprolab.papers.partnr_dialogue.episode import Episode
from reprolab.papers.partnr_dialogue.heuristic import HeuristicAgent
from reprolab.papers.partnr_dialogue.sim import AGENTS

log = logging.getLogger(__name__)


def run(
    specs: list[dict],
    condition: str,
    settings: dict,
    agent: str = "heuristic",
    backend=None,
    seed: int = 0,
) -> list[dict]:
    """All episodes of one condition; returns the log rows (a header, then one row a step)."""
    from reprolab.papers.partnr_dialogue.llm_agent import MODES

    episodes = [Episode(spec, condition, settings) for spec in specs]
    scripted = {(e.spec["id"], a): HeuristicAgent(a, settings) for e in episodes for a in AGENTS}
    if agent != "heuristic":
        mode = settings["llm"]["mode"]
        if mode not in MODES:
            raise ValueError(f"llm.mode '{mode}': expected one of {sorted(MODES)}")
    started = time.monotonic()
    for step in range(settings["action_budget"]):
        live = [e for e in episodes if not e.finished]
        if not live:
            break
        requests = [(e, a) for e in live for a in AGENTS if e.active(a)]
        if agent == "heuristic":
            decided = [(scripted[(e.spec["id"], a)].act(e), {}) for e, a in requests]
        else:
            decided = MODES[mode](backend, requests, settings["llm"], seed + step)
        per_episode: dict[int, tuple[dict, dict]] = {}
        for (e, a), (action, meta) in zip(requests, decided, strict=True):
            acts, metas = per_episode.setdefault(id(e), ({}, {}))
            acts[a], metas[a] = action, meta
        for e in live:
            acts, metas = per_episode.get(id(e), ({}, {}))
            e.step(acts, metas)
        log.info(
            "%s/%s: step %d, %d live episodes (%.1f s)",
            agent,
            condition,
            step + 1,
            len(live),
            time.monotonic() - started,
        )
    rows = []
    for e in episodes:
        rows.append(e.header())
        rows.extend(e.rows)
    return rows

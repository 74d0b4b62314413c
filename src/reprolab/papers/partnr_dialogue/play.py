"""One condition's episodes as core `reprolab.episodes` state machines, stepped in lockstep by
the core Runner: at each simulator step the LLM agents' requests of all live episodes go to the
model in one batched call per kind; heuristic agents act directly (no requests).

A simulator step takes the same number of runner turns in every episode, so the episodes stay
in step: one turn (heuristic, react), or two in score mode — the actions are scored, then the
agents that chose SendMessage have the model write the message (an episode without a sender
returns no request in that turn). The runner writes the standard episode log (every request
and reply); the step rows the metrics read (world graphs, truth, actions) are the simulator
episode's own `rows`.
"""

from __future__ import annotations

from pathlib import Path

from reprolab import episodes
from reprolab.episodes import Request, Runner, backend_handlers
from reprolab.papers.partnr_dialogue import llm_agent
from reprolab.papers.partnr_dialogue.episode import Episode
from reprolab.papers.partnr_dialogue.heuristic import HeuristicAgent
from reprolab.papers.partnr_dialogue.sim import AGENTS

HEURISTIC = "heuristic"


class Turns(episodes.Episode):
    """Both agents' turns of one simulator episode: requests for the model, then a step."""

    def __init__(self, ep: Episode, agent: str, settings: dict, seed: int):
        self.ep, self.agent, self.seed = ep, agent, seed
        self.id = ep.spec["id"]
        self.llm = settings.get("llm", {})
        self.mode = None if agent == HEURISTIC else self.llm["mode"]
        self.scripted = {a: HeuristicAgent(a, settings) for a in AGENTS}
        self.phase = "act"
        self.chosen: dict[str, tuple[str, dict]] = {}
        self.options: dict[str, list[str]] = {}

    def _acting(self) -> list[str]:
        return [a for a in AGENTS if self.ep.active(a)]

    def requests(self) -> list[Request]:
        ep, seed = self.ep, self.seed + self.ep.t
        if self.phase == "message":
            senders = [a for a, (act, _) in self.chosen.items() if act == llm_agent.SEND]
            return [llm_agent.message_request(ep, a, self.llm, seed) for a in senders]
        if self.mode == "score":
            self.options = {a: llm_agent.candidates(ep, a) for a in self._acting()}
            return [llm_agent.score_request(ep, a, self.llm) for a in self._acting()]
        if self.mode == "react":
            return [llm_agent.react_request(ep, a, self.llm, seed) for a in self._acting()]
        return []

    def receive(self, replies: list) -> None:
        acting = self._acting()
        if self.phase == "message":
            senders = [a for a, (act, _) in self.chosen.items() if act == llm_agent.SEND]
            for a, text in zip(senders, replies, strict=True):
                meta = self.chosen[a][1] | {"message_generated": True}
                self.chosen[a] = (llm_agent.message_action(text), meta)
            self._step()
        elif self.mode == "score":
            self.chosen = {
                a: llm_agent.best_action(self.options[a], scores, self.llm)
                for a, scores in zip(acting, replies, strict=True)
            }
            self.phase = "message"
        elif self.mode == "react":
            self.chosen = {
                a: llm_agent.react_action(self.ep, a, text)
                for a, text in zip(acting, replies, strict=True)
            }
            self._step()
        else:
            self.chosen = {a: (self.scripted[a].act(self.ep), {}) for a in acting}
            self._step()

    def _step(self) -> None:
        actions = {a: act for a, (act, _) in self.chosen.items()}
        metas = {a: meta for a, (_, meta) in self.chosen.items()}
        self.ep.step(actions, metas)
        self.chosen, self.phase = {}, "act"
        self.done = self.ep.finished

    @property
    def turns_per_step(self) -> int:
        return 2 if self.mode == "score" else 1


def run(
    specs: list[dict],
    condition: str,
    settings: dict,
    agent: str = HEURISTIC,
    backend=None,
    seed: int = 0,
    log_path: Path | None = None,
) -> list[dict]:
    """All episodes of one condition; returns the step log rows (a header, then one row a
    step, per episode). `log_path` receives the runner's standard episode log."""
    if agent != HEURISTIC:
        mode = settings["llm"]["mode"]
        if mode not in llm_agent.MODES:
            raise ValueError(f"llm.mode '{mode}': expected one of {sorted(llm_agent.MODES)}")
    sims = [Episode(spec, condition, settings) for spec in specs]
    turns = [Turns(ep, agent, settings, seed) for ep in sims]
    for t in turns:
        t.done = t.ep.finished
    handlers = backend_handlers(backend) if backend is not None else {}
    per_step = turns[0].turns_per_step if turns else 1
    Runner(handlers).run(
        turns, settings["action_budget"] * per_step, log_path, name=f"{agent}/{condition}"
    )
    rows = []
    for ep in sims:
        rows.append(ep.header())
        rows.extend(ep.rows)
    return rows

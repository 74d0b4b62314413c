"""One condition's episodes as core `reprolab.episodes` state machines, stepped in lockstep by
the core Runner: at each simulator step the LLM's requests of all live episodes go to the model
in one batched call; scripted agents act directly (no requests).

Arms (who decides what):
- heuristic: the scripted agents act and message (their messaging policy is built in);
- llm: the LLM plays both agents (score mode: valid actions and grounded candidate messages
  scored in one request; react mode: free Thought/Action text);
- hybrid: the scripted planner acts (it does not message); in dialogue the LLM chooses between
  the planner's action and each grounded candidate message, so it decides when to talk and what
  to say;
- random_messenger: the hybrid's control: the same planner and candidates, a message drawn with
  probability `random_send_prob` and uniformly among the candidates, seeded from the suite seed,
  its name (`draws`: two messengers draw apart), the episode, the step and the agent; an
  `oracle_messenger` draws only among facts its partner's graph lacks (the planted positive
  control of novelty and belief-sensitive messaging).
Both hybrid arms are offered to talk every `ask_every` steps (steps 0, k, 2k, ...); between
them the planner's action is taken without asking.

A simulator step takes one runner turn in every episode, so the episodes stay in step. The
runner writes the standard episode log (every request and reply); the step rows the metrics
read (world graphs, truth, actions) are the simulator episode's own `rows`.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

from reprolab import episodes
from reprolab.episodes import Request, Runner, backend_handlers
from reprolab.papers.partnr_dialogue import llm_agent
from reprolab.papers.partnr_dialogue.episode import Episode, partner_of
from reprolab.papers.partnr_dialogue.grounding import ground
from reprolab.papers.partnr_dialogue.heuristic import HeuristicAgent
from reprolab.papers.partnr_dialogue.sim import AGENTS

HEURISTIC, LLM, HYBRID, RANDOM = "heuristic", "llm", "hybrid", "random_messenger"
ORACLE = "oracle"  # the `draws` name of a messenger that knows what its partner lacks
AGENT_KINDS = (HEURISTIC, LLM, HYBRID, RANDOM)


class Turns(episodes.Episode):
    """Both agents' turns of one simulator episode: requests for the model, then a step."""

    def __init__(self, ep: Episode, kind: str, settings: dict, seed: int):
        self.ep, self.kind, self.seed = ep, kind, seed
        self.id = ep.spec["id"]
        self.llm = settings.get("llm", {})
        self.send_prob = settings.get("random_send_prob", 0.2)
        self.ask_every = settings.get("ask_every", 1)
        self.draws = settings.get("draws", "")
        self.mode = self.llm.get("mode") if kind == LLM else None
        talk = kind == HEURISTIC  # the hybrid arms' planner acts; someone else messages
        self.scripted = {a: HeuristicAgent(a, settings, talk=talk) for a in AGENTS}
        self.chosen: dict[str, tuple[str, dict]] = {}
        self.options: dict[str, list[str]] = {}
        self.asking: list[str] = []
        self.planned: dict[str, tuple[str, dict]] = {}

    def _acting(self) -> list[str]:
        return [a for a in AGENTS if self.ep.active(a)]

    def requests(self) -> list[Request]:
        ep, acting = self.ep, self._acting()
        self.chosen, self.asking = {}, []
        if self.kind == LLM and self.mode == "score":
            self.options = {a: llm_agent.candidates(ep, a, self.llm) for a in acting}
            self.asking = acting
            return [llm_agent.choice_request(ep, a, self.llm, self.options[a]) for a in acting]
        if self.kind == LLM and self.mode == "react":
            self.asking = acting
            seed = self.seed + ep.t
            return [llm_agent.react_request(ep, a, self.llm, seed) for a in acting]
        for a in acting:
            memory = copy.deepcopy(vars(self.scripted[a]))  # act() updates the planner's memory
            planned = self.scripted[a].act(ep)
            self.planned[a] = (planned, memory)
            offered = self.kind != HEURISTIC and ep.t % self.ask_every == 0
            said = llm_agent.message_options(ep, a, self.llm) if offered else []
            if not said:
                self.chosen[a] = (planned, {})
            elif self.kind == RANDOM:
                self.chosen[a] = (self._draw(a, planned, said), {"options": 1 + len(said)})
            else:  # hybrid: the LLM picks the planner's action or a message
                self.options[a] = [planned, *said]
                self.asking.append(a)
        return [llm_agent.choice_request(ep, a, self.llm, self.options[a]) for a in self.asking]

    def _draw(self, agent: str, planned: str, said: list[str]) -> str:
        """A random messenger's step; an oracle one (the planted positive control) draws only
        among the fact messages its partner's world graph lacks, when there is one."""
        rng = random.Random(f"{self.seed}-{self.draws}-{self.id}-{self.ep.t}-{agent}")
        if self.draws.startswith(ORACLE):
            lacks = self.ep.graphs[partner_of(agent)].facts()
            said = [
                m
                for m in said
                if ground(m[len(llm_agent.SEND) : -1], self.ep.house, list(AGENTS)) - lacks
            ]
        return rng.choice(said) if said and rng.random() < self.send_prob else planned

    def receive(self, replies: list) -> None:
        if self.kind == LLM and self.mode == "react":
            for a, text in zip(self.asking, replies, strict=True):
                self.chosen[a] = llm_agent.react_action(self.ep, a, text)
        else:
            for a, scores in zip(self.asking, replies, strict=True):
                self.chosen[a] = llm_agent.best_action(self.options[a], scores, self.llm)
        for a, (act, _) in self.chosen.items():
            planned, memory = self.planned.get(a, (act, None))
            if act != planned:  # a message instead: the planner did not take its step
                vars(self.scripted[a]).update(memory)
        self.planned = {}
        actions = {a: act for a, (act, _) in self.chosen.items()}
        metas = {a: meta for a, (_, meta) in self.chosen.items()}
        self.ep.step(actions, metas)
        self.done = self.ep.finished


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
    if agent not in AGENT_KINDS:
        raise ValueError(f"agent '{agent}': expected one of {AGENT_KINDS}")
    if agent == LLM:
        mode = settings["llm"]["mode"]
        if mode not in llm_agent.MODES:
            raise ValueError(f"llm.mode '{mode}': expected one of {sorted(llm_agent.MODES)}")
    if agent in (LLM, HYBRID) and backend is None:
        raise ValueError(f"the {agent} arm needs a model backend")
    sims = [Episode(spec, condition, settings) for spec in specs]
    turns = [Turns(ep, agent, settings, seed) for ep in sims]
    for t in turns:
        t.done = t.ep.finished
    handlers = backend_handlers(backend) if backend is not None else {}
    Runner(handlers).run(turns, settings["action_budget"], log_path, name=f"{agent}/{condition}")
    rows = []
    for ep in sims:
        rows.append(ep.header())
        rows.extend(ep.rows)
    return rows

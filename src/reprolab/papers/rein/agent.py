"""The tool-using agent: a_t ~ pi(. | C_t, L, S), one episode of one setting on one instance.

The system message is the fixed policy S with the tool list L; inception never touches it (its
plan is the prefill of the agent's own reply), a prompt-injection baseline (NPI) appends
guidelines to it. In `score` mode (tiny) the agent's action is the best of the candidate JSON
actions by calibrated log-likelihood (core `score_calibrated`); in `generate` mode (full) it
writes its reply after the prefill and the call is parsed from it. Every call runs against the
domain database through the core ToolEnv (in the sandbox). The user is templated (smoke, tiny)
or, at full, tau-bench's LLM user simulator played by the backbone: its turns are `generate`
requests of role `user` in the same lockstep run.
"""

from __future__ import annotations

import hashlib
import json

from reprolab.episodes import Episode, Request
from reprolab.inference import SamplingParams
from reprolab.papers.rein import inception as inc
from reprolab.papers.rein import tools as T
from reprolab.tools import ToolEnv, ToolSpec, parse_tool_calls

RESPOND = "respond"


def render_tools(specs: list[ToolSpec], fmt: str) -> str:
    """L as the model reads it: the JSON schemas (`json`) or one line a tool (`compact`)."""
    if fmt == "json":
        return "\n".join(json.dumps(s.schema()) for s in specs)
    lines = []
    for s in specs:
        args = ", ".join(s.properties)
        lines.append(f"- {s.name}({args}): {s.description}")
    return "\n".join(lines)


def system_prompt(policy: str, specs: list[ToolSpec], fmt: str, guidelines: str = "") -> str:
    """S + L (+ NPI's guidelines). Byte-identical for every setting that does not add
    guidelines: the tests compare the ReIn and no-intervention prompts."""
    text = f"{policy}\n\nTools:\n{render_tools(specs, fmt)}"
    return f"{text}\n\n{guidelines}" if guidelines else text


def prompt_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def object_key(domain: str) -> str:
    return "order_id" if domain == "retail" else "reservation_id"


def candidates(instance: dict, specs: list[ToolSpec], respond: str) -> list[str]:
    """The agent's valid actions in this state: each database-changing tool on each of the
    user's orders (reservations), each listed recovery tool, and a clarifying reply."""
    key = object_key(instance["domain"])
    kind = "orders" if instance["domain"] == "retail" else "reservations"
    objects = instance["database"]["users"][instance["user_id"]][kind]
    out = []
    for spec in specs:
        if spec.name in T.READ_ONLY:
            continue
        out += [json.dumps({"name": spec.name, "arguments": {key: o}}) for o in objects]
    out += [json.dumps({"name": s.name, "arguments": {}}) for s in specs if s.name in T.RECOVERY]
    return out + [respond]


def parse_action(text: str) -> dict:
    """A candidate or a written reply as {"name", "arguments"}; a reply without a readable call
    is a message to the user (`respond`)."""
    calls = parse_tool_calls(text)
    if not calls:
        return {"name": RESPOND, "arguments": {"message": text.strip()}}
    return calls[0]


class AgentEpisode(Episode):
    """One (instance, setting) episode: the scripted user (a greeting with the user id, with
    `prelude` the agent's lookup and its result, then the request at the scripted error turn),
    every turn the inception module, then the agent's action, executed against the database."""

    def __init__(self, instance: dict, setting: str, spec: dict, ctx: dict, env: ToolEnv):
        self.instance, self.setting, self.spec, self.ctx, self.env = (
            instance,
            setting,
            spec,
            ctx,
            env,
        )
        self.id = f"{setting}/{instance['id']}"
        self.done = False
        agent = ctx["agent"]
        listed = T.specs(instance["domain"], spec.get("recovery_tools", True))
        self.tool_names = [s.name for s in listed]
        guidelines = ctx["prompts"]["npi_guidelines"] if spec.get("prompt") == "npi" else ""
        self.system = system_prompt(
            ctx["prompts"]["policy"].format(domain=instance["domain"]),
            listed,
            agent["tool_format"],
            guidelines,
        )
        self.cands = candidates(instance, listed, agent["respond"])
        self.messages = [{"role": "system", "content": self.system}]
        self.turns: list[dict] = []
        self.turn = 0
        self.plan: str | None = None
        self.record: dict = {}
        self.stopped = False
        self.llm_user = ctx.get("user") is not None
        if self.llm_user:  # the backbone writes the request (with the error instruction)
            sim = ctx["user"]
            self.user_messages = [
                {"role": "system", "content": sim["prompt"](user_instruction(instance, sim))},
                {"role": "user", "content": sim["opening"]},
            ]
            self.phase = "user"
        else:
            self._open(instance["utterance"])
            self.phase = "inception"

    def _open(self, request: str) -> None:
        """The session's opening: the greeting with the user id (the authentication rein's tools
        take), with `prelude` the agent's lookup and its result, and the user's request."""
        instance, env = self.instance, self.env
        user = instance["database"]["users"][instance["user_id"]]
        greeting = self.ctx["prompts"]["greeting"].format(
            name=user["name"], user_id=instance["user_id"]
        )
        if self.ctx["agent"]["prelude"]:  # scripted: the greeting, the agent's lookup, its result
            lookup = {"name": "get_user_details", "arguments": {"user_id": instance["user_id"]}}
            result = env.call(**lookup)
            self.messages += [
                {"role": "user", "content": greeting},
                {"role": "assistant", "content": json.dumps(lookup)},
                {"role": "tool", "content": json.dumps(result.value)},
                {"role": "user", "content": request},
            ]
        else:  # the greeting and the request in one user turn (the candidates name the ids)
            self.messages.append({"role": "user", "content": f"{greeting} {request}"})

    # -- the pieces of one turn -------------------------------------------------------------
    def dialogue(self) -> str:
        """The conversation as the inception module reads it (no system prompt)."""
        return "\n".join(
            f"{m['role']}: {m['content']}" for m in self.messages if m["role"] != "system"
        )

    def _prefill(self) -> list[dict]:
        if self.plan is None:
            return []
        return [{"role": "assistant", "content": inc.think(self.plan)}]

    def _act(self, messages: list[dict]) -> Request:
        if self.ctx["agent"]["mode"] == "generate":
            return Request("generate", "agent", messages, self.ctx["params"])
        # Context-free: the same system prompt (policy and tools), no user request, no plan; so
        # the calibrated score is what the request and the plan add to each action.
        null = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.ctx["agent"]["null_user"]},
        ]
        return Request("score_calibrated", "agent", (messages, self.cands, null))

    def _choose(self, reply) -> str:
        """The action text: the best-scored candidate (first on ties) or the written reply."""
        if self.ctx["agent"]["mode"] == "generate":
            return str(reply)
        scores = list(reply)
        return self.cands[scores.index(max(scores))]

    def _draft_messages(self) -> list[dict]:
        return self.messages + self._prefill()

    def _refine_feedback(self) -> list[dict]:
        return [
            *self.messages,
            {"role": "assistant", "content": self.record["draft"]},
            {"role": "user", "content": self.ctx["prompts"]["self_refine_feedback"]},
        ]

    # -- Episode -----------------------------------------------------------------------------
    def requests(self) -> list[Request]:
        if self.phase == "user":
            return [Request("generate", "user", self.user_messages, self.ctx["user"]["params"])]
        if self.phase == "inception":
            self.record = {"turn": self.turn}
            mode = self.spec.get("inception", "none")
            if mode == "llm":
                item = {"tools": self.tool_names, "dialogue": self.dialogue()}
                kind = f"judge:{self.spec['module']}"
                return [Request(kind, "inception", (item, self.ctx["render"]))]
            if mode == "oracle":
                self.plan = inc.oracle_plan(self.instance, self.ctx["plans"])
            elif mode == "placebo":
                self.plan = self.ctx["plans"]["placebo"]
            elif mode == "given":  # the mechanism probe: a hand-placed plan on every turn
                self.plan = self.ctx["plans"]["probe"][self.spec["plan"]]
            else:
                self.plan = None
            self.record["plan"] = self.plan
            self.phase = "act"
        if self.phase == "act":
            return [self._act(self._draft_messages())]
        if self.phase == "feedback":
            return [Request("generate", "feedback", self._refine_feedback(), self.ctx["params"])]
        if self.phase == "refine":
            messages = [
                *self._refine_feedback(),
                {"role": "assistant", "content": self.record["feedback"]},
                {"role": "user", "content": self.ctx["prompts"]["self_refine_refine"]},
            ]
            return [self._act(messages + self._prefill())]
        raise RuntimeError(f"{self.id}: no requests in phase {self.phase}")

    def receive(self, replies: list) -> None:
        reply = replies[0]
        if self.phase == "user":
            return self._hear(str(reply).strip())
        if self.phase == "inception":
            fixed = self.spec.get("trigger", "dynamic") == "fixed"
            self.plan = inc.llm_plan(reply.label, self.ctx["plans"], reply.probs, fixed)
            self.record.update(
                {"plan": self.plan, "inception_label": reply.label, "inception_probs": reply.probs}
            )
            self.phase = "act"
            return
        if self.phase == "act":
            self.record["draft"] = self._choose(reply)
            if self.spec.get("self_refine"):
                self.phase = "feedback"
                return
            return self._execute(self.record["draft"])
        if self.phase == "feedback":
            self.record["feedback"] = str(reply).strip()
            self.phase = "refine"
            return
        if self.phase == "refine":
            return self._execute(self._choose(reply))

    def _execute(self, text: str) -> None:
        action = parse_action(text)
        self.record["action"] = action
        prefill = inc.think(self.plan) if self.plan else ""
        self.messages.append({"role": "assistant", "content": prefill + text})
        if action["name"] == RESPOND:
            outcome = {"ok": True, "diff": []}
        else:
            result = self.env.call(action["name"], action["arguments"])
            outcome = {"ok": result.ok, "diff": list(result.diff), "error": result.error}
            self.messages.append(
                {"role": "tool", "content": json.dumps(result.value if result.ok else result.error)}
            )
        self.record.update(outcome)
        self.turns.append(self.record)
        self.turn += 1
        ends = action["name"] != RESPOND and action["name"] != "get_user_details"
        if ends or self.turn >= self.ctx["agent"]["max_turns"]:
            self.done = True
            return
        self.plan = None
        if action["name"] == RESPOND and self.llm_user:  # the LLM user reads the agent's message
            self.user_messages.append({"role": "user", "content": action["arguments"]["message"]})
            self.phase = "user"
            return
        if action["name"] == RESPOND:  # the templated user insists on the same request
            follow = self.ctx["prompts"]["user_follow_up"].format(
                utterance=self.instance["utterance"]
            )
            self.messages.append({"role": "user", "content": follow})
        self.phase = "inception"

    def _hear(self, text: str) -> None:
        """The LLM user's message: the stop token ends the session (tau-bench's rule), the first
        one opens it, later ones answer the agent's message."""
        if self.ctx["user"]["stop"] in text:
            self.stopped = True
            self.done = True
            return
        self.user_messages.append({"role": "assistant", "content": text})
        if len(self.messages) == 1:
            self._open(text)
        else:
            self.messages.append({"role": "user", "content": text})
        self.phase = "inception"

    def result(self) -> dict:
        """What the success checker reads: the calls, the final database, the prompt's hash."""
        return {
            "id": self.instance["id"],
            "setting": self.setting,
            "domain": self.instance["domain"],
            "task": self.instance["task"],
            "error": self.instance["error"],
            "category": self.instance["category"],
            "seen": self.instance["seen"],
            "expected": self.instance["expected"],
            "object": self.instance["object"],
            "system_sha": prompt_sha(self.system),
            "turns": self.turns,
            **({"user_stopped": self.stopped} if self.llm_user else {}),
            "calls": [t["action"] for t in self.turns],
            "database": self.instance["database"],
            "final": self.env.state,
            "goal": self.instance["goal"],
        }


def user_instruction(instance: dict, sim: dict) -> str:
    """The LLM user's instruction: tau-bench's task instruction, plus on an error instance this
    project's error-type instruction for the request it writes (config `user.errors`)."""
    text = instance["instruction"]
    if instance["error"] is None:
        return text
    extra = sim["errors"][instance["error"]].format(
        object=instance["object"], verb=instance["verb"]
    )
    return f"{text} {extra}"


def sampling(cfg: dict, seed: int) -> SamplingParams:
    return SamplingParams(cfg["max_new_tokens"], cfg["temperature"], 1.0, seed)

"""The user simulator and the agent's backbone calls of one collaboration session.

Rule-based user (tiny, smoke): checks every rule of the profile that binds the task's domain;
enforces the violated ones ("No, ..." and each rule's note); on a compliant reply checks the
answer (arithmetic: the value; code: the task's tests in the sandbox) and ends the session when
it is right (its draft updated: success), says it is wrong otherwise, gives up after
`give_up` compliant wrong answers, and times out after `max_turns` agent replies.
LLM user (full): the MultiSessionCollab user prompt (read from the benchmark's repository at a
pinned commit), its JSON fields parsed. What was violated is counted by the rules' checkers, or
for the benchmark's free-text preferences (no checker) by the core judge, asked in the same
runner step as the user. A session's success under the LLM user is its final draft judged as
the benchmark's evaluator judges it: its accuracy prompt through the core judge for a task with
a text answer (asked in the extract step), the task's tests in the sandbox for code.

Executors: `apply` (the backbone writes the content; the rules in context, those the user
enforced in this session and the injected cards, are applied by their programmatic action: an
instruction follower by construction) or `llm` (the backbone sees the cards in its system
prompt and writes the whole reply)."""

from __future__ import annotations

from reprolab.episodes import Request
from reprolab.papers.vars import benchmark as bm
from reprolab.papers.vars import harness as hz
from reprolab.tools import json_object


class UserSim:
    def __init__(self, cfg: dict, seed: int, sandbox=None, prompts: dict | None = None):
        """`prompts`: the benchmark's prompts read at full scale (role -> text): `user` (the
        LLM user's system prompt), `reflection` (the note rewrite), `success` (the accuracy
        judge); a role left out is played by this harness's rule-based counterpart."""
        self.cfg = cfg
        self.seed = seed
        self.sandbox = sandbox
        self.prompts = dict(prompts or {})
        self.user_prompt = self.prompts.get("user")
        self.code_cache: dict[str, bool] = {}

    # --- session start ---------------------------------------------------------------------
    def start(self, ep) -> None:
        ep.history = [{"role": "user", "content": ep.query}]
        ep.draft_answer = "I don't know"

    def judge_counters(self, ep) -> dict[str, int]:
        """A session's counters of the full-scale judges and note rewrite, zero at its start
        (only those in use: none at smoke and tiny)."""
        out = {}
        if any(not isinstance(r, hz.Rule) for r in ep.rules):
            out |= {"compliance_judged": 0, "compliance_failures": 0}
        if self.user_prompt is not None and "success" in self.prompts:
            out["success_judge_failures"] = 0
        r = self.cfg.get("reflection")
        if ep.method.reflection and r is not None and r["kind"] == "llm":
            out["reflection_failures"] = 0
        return out

    # --- the backbone ------------------------------------------------------------------------
    def _in_context(self, ep) -> list[hz.Rule]:
        """Rules the reply follows under `apply`: enforced in this session first (the user's
        word wins a conflict), then the injected cards by rank, then those injected earlier; without
        `carry_enforced` (the positive control), only the cards injected at this turn."""
        now = [ep.by_note[c.note] for c in ep.injected() if c.note in ep.by_note]
        if not self.cfg["carry_enforced"]:  # the reply follows what retrieval injected now
            return now
        for r in now:
            if r not in ep.injected_before:
                ep.injected_before.append(r)
        return [*ep.enforced, *now, *ep.injected_before]

    def draft_requests(self, ep) -> list[Request]:
        from reprolab.papers.vars.session import draft_params

        d = self.cfg["draft"]
        if d["source"] == "oracle":
            return []
        system = self.cfg["prompts"]["agent"]
        if self.cfg["executor"] == "llm":
            notes = "\n".join(f"- {c.note}" for c in ep.injected()) or "(none)"
            chat = [
                {"role": "system", "content": f"{system}\nUser preferences:\n{notes}"},
                *ep.history,
            ]
        else:
            chat = [
                {"role": "system", "content": system},
                {"role": "user", "content": ep.task["text"]},
            ]
        return [Request("generate", "agent", chat, draft_params(d, ep.attempt, self.seed))]

    def reply_from(self, ep, replies: list) -> str:
        if self.cfg["draft"]["source"] == "oracle":
            t = ep.task
            draft = t["solution"] if t["domain"] == "math" else f"```python\n{t['solution']}\n```"
        else:
            draft = replies[0]
        if self.cfg["executor"] == "llm":
            return draft
        return hz.render(draft, self._in_context(ep), ep.task["domain"])

    # --- the user ----------------------------------------------------------------------------
    def correct(self, task: dict, reply: str) -> bool:
        if task["domain"] == "math":
            got = hz.math_answer(reply)
            try:
                return got is not None and float(got) == float(task["answer"])
            except ValueError:
                return False
        code = hz.code_of(reply)
        if not code.strip():
            return False
        key = code + "\n" + task["tests"]
        if key not in self.code_cache:
            result = self.sandbox.run_code(key)
            self.code_cache[key] = bool(result.ok)
        return self.code_cache[key]

    @staticmethod
    def judged(ep) -> list:
        """The profile's preferences binding this task that have no checker (the judge's)."""
        return [r for r in ep.rules if r.applies(ep.task["domain"]) and not isinstance(r, hz.Rule)]

    def user_requests(self, ep) -> list[Request]:
        """The LLM user's turn (full scale), then one compliance judgement of the reply per
        checker-less preference."""
        judge = [
            Request("judge_compliance", "comply", {"preference": r.note, "reply": ep.reply})
            for r in self.judged(ep)
        ]
        if self.user_prompt is None:
            return judge
        prefs = "\n".join(f"{i + 1}. {r.note}" for i, r in enumerate(ep.rules))
        system = self.user_prompt.format(
            user_task_description=self.cfg["prompts"]["task_description"][ep.task["domain"]],
            problem=ep.task["text"],
            user_persona=ep.profile.get("persona") or self.cfg["prompts"]["persona"],
            user_preferences=prefs,
            termination_signal="TERMINATE",
        )
        flipped = [
            {"role": "assistant" if m["role"] == "user" else "user", "content": m["content"]}
            for m in ep.history
        ]
        chat = [
            {"role": "system", "content": system},
            *flipped,
            {"role": "user", "content": ep.reply},
        ]
        from reprolab.inference import SamplingParams

        u = self.cfg["user_sampling"]  # agent.user (the setting's `user` names the simulator)
        return [
            Request(
                "generate",
                "user",
                chat,
                SamplingParams(u["max_new_tokens"], u["temperature"], 1.0, self.seed),
            ),
            *judge,
        ]

    def violations(self, ep, verdicts: list) -> list:
        """The preferences the reply breaks: by their checkers, and by the compliance judge's
        verdicts for those without one (a judge failure breaks none and is counted)."""
        domain = ep.task["domain"]
        satisfied = self.cfg["judge"]["compliance"]["labels"][0] if verdicts else None
        judged = dict(zip(self.judged(ep), verdicts, strict=True))
        out = []
        for r in ep.rules:
            if not r.applies(domain):
                continue
            if r in judged:
                v = judged[r]
                ep.record["compliance_judged"] = ep.record.get("compliance_judged", 0) + 1
                if v.label is None:
                    ep.record["compliance_failures"] = ep.record.get("compliance_failures", 0) + 1
                elif v.label != satisfied:
                    out.append(r)
            elif not hz.check(r, ep.reply):
                out.append(r)
        return out

    def user_turn(self, ep, replies: list) -> None:
        """The user's answer to the agent's reply: the session's counters and whether it ended."""
        rec = ep.record
        n_user = int(self.user_prompt is not None)
        ep.history.append({"role": "assistant", "content": ep.reply})
        violated = self.violations(ep, replies[n_user:])
        if self.user_prompt is not None:
            message, enforce, terminate, draft = parse_user(replies[0])
            if draft is not None and not enforce:
                ep.draft_answer = str(draft)
            self._count(ep, message, enforce, violated)
            if terminate or ep.turn >= self.cfg["max_turns"]:
                rec["timeout"] = int(not terminate)
                ep.terminated = terminate
                ep.ended = True
                if not self.judges_success(ep):
                    self.settle(ep, self.correct(ep.task, ep.draft_answer))
            return
        correct = self.correct(ep.task, ep.reply)
        enforce = bool(violated)
        done_right = gave_up = False
        if enforce:
            message = self.cfg["messages"]["enforce"] + " " + " ".join(r.note for r in violated)
        elif correct:
            ep.draft_answer = ep.reply
            done_right = True
            message = self.cfg["messages"]["correct"]
        else:
            ep.wrong += 1
            ep.attempt += 1
            gave_up = ep.wrong >= self.cfg["give_up"]
            message = self.cfg["messages"]["give_up" if gave_up else "wrong"]
        self._count(ep, message, enforce, violated)
        if done_right or gave_up or ep.turn >= self.cfg["max_turns"]:
            rec["success"] = int(done_right)
            rec["gave_up"] = int(gave_up)
            rec["timeout"] = int(not (done_right or gave_up))
            ep.ended = True

    @staticmethod
    def _count(ep, message: str, enforce: bool, violated: list) -> None:
        """The turn's counters, and the user's message appended to the session."""
        rec = ep.record
        if enforce:
            rec["enforcing_turns"] += 1
            rec["enforced_rules"] += len(violated)
            ep.enforced += [r for r in violated if r not in ep.enforced]
        rec["turns"] += 1
        rec["user_tokens"] += len(message.replace("TERMINATE", "").split())
        ep.turn += 1
        ep.history.append({"role": "user", "content": message})
        ep.last_user = message

    # --- the success judge (LLM user, full scale) ---------------------------------------------
    def judges_success(self, ep) -> bool:
        """Whether the ended session's final draft goes to the benchmark's accuracy judge (a
        task with a text answer, the prompt read); code is always run against its tests."""
        return "success" in self.prompts and ep.task["domain"] != "code"

    def success_requests(self, ep) -> list[Request]:
        if not (ep.ended and self.user_prompt is not None and self.judges_success(ep)):
            return []
        t = ep.task
        item = {"problem": t["text"], "solution": t["solution"], "draft": ep.draft_answer}
        return [Request("judge_success", "success", item)]

    @staticmethod
    def settle(ep, ok: bool, failed: bool = False) -> None:
        """Success of an ended LLM-user session: its final draft right (benchmark evaluator:
        every session's draft is judged); gave up = it terminated with a wrong draft."""
        ep.record["success"] = int(ok)
        ep.record["gave_up"] = int(ep.terminated and not ok)
        if failed:
            ep.record["success_judge_failures"] = 1

    # --- Reflection's note rewrite (full scale) -----------------------------------------------
    def reflection_requests(self, ep) -> list[Request]:
        """At a session's end, the benchmark's update_agent_notes_prompt over the session and
        the notes so far (Reflection with `agent.reflection.kind: llm`)."""
        r = self.cfg.get("reflection")
        if not (ep.ended and ep.method.reflection and r is not None and r["kind"] == "llm"):
            return []
        from reprolab.inference import SamplingParams

        prompt = self.prompts["reflection"].format(
            agent_notes=ep.agent_notes, conversation_str=bm.conversation_string(ep.history)
        )
        params = SamplingParams(r["max_new_tokens"], r["temperature"], 1.0, self.seed)
        return [Request("generate", "reflect", [{"role": "user", "content": prompt}], params)]

    # --- the extractor -----------------------------------------------------------------------
    def extract_requests(self, ep) -> list[Request]:
        x = self.cfg["extractor"]
        if x["kind"] == "rule" or not ep.method.memory:
            return []
        from reprolab.inference import SamplingParams

        chat = [
            {"role": "system", "content": x["prompt"]},
            {"role": "user", "content": ep.last_user},
        ]
        return [
            Request(
                "generate",
                "extract",
                chat,
                SamplingParams(x["max_new_tokens"], 0.0, 1.0, self.seed),
            )
        ]

    def extracted(self, ep, replies: list) -> list[dict]:
        from reprolab.papers.vars.session import parse_extraction, rule_extract

        if self.cfg["extractor"]["kind"] == "rule":
            return rule_extract(ep.last_user)
        return parse_extraction(replies[0]) if replies else []


def parse_user(reply: str) -> tuple[str, bool, bool, str | None]:
    """The LLM user's JSON: (response, enforce_preferences, should_terminate, draft_answer);
    a reply that is not JSON is taken as the message itself."""
    data = json_object(reply)
    if data is None:
        return reply, False, "TERMINATE" in reply, None
    message = str(data.get("response", ""))
    terminate = bool(data.get("should_terminate")) or "TERMINATE" in message
    return message, bool(data.get("enforce_preferences")), terminate, data.get("draft_answer")

"""The user simulator and the agent's backbone calls of one collaboration session.

Rule-based user (tiny, smoke): checks every rule of the profile that binds the task's domain;
enforces the violated ones ("No, ..." and each rule's note); on a compliant reply checks the
answer (arithmetic: the value; code: the task's tests in the sandbox) and ends the session when
it is right (its draft updated: success), says it is wrong otherwise, gives up after
`give_up` compliant wrong answers, and times out after `max_turns` agent replies.
LLM user (full): the MultiSessionCollab user prompt (read from the benchmark's repository at a
pinned commit), its JSON fields parsed; the rules' checkers still count what was violated.

Executors: `apply` (the backbone writes the content; the rules in context, those the user
enforced in this session and the injected cards, are applied by their programmatic action: an
instruction follower by construction) or `llm` (the backbone sees the cards in its system
prompt and writes the whole reply)."""

from __future__ import annotations

import json
import re

from reprolab.episodes import Request
from reprolab.papers.vars import harness as hz


class UserSim:
    def __init__(self, cfg: dict, seed: int, sandbox=None, user_prompt: str | None = None):
        self.cfg = cfg
        self.seed = seed
        self.sandbox = sandbox
        self.user_prompt = user_prompt  # the LLM user's system prompt (full scale)
        self.code_cache: dict[str, bool] = {}

    # --- session start ---------------------------------------------------------------------
    def start(self, ep) -> None:
        ep.history = [{"role": "user", "content": ep.query}]
        ep.draft_answer = "I don't know"

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

    def user_requests(self, ep) -> list[Request]:
        if self.user_prompt is None:
            return []
        prefs = "\n".join(f"{i + 1}. {r.note}" for i, r in enumerate(ep.rules))
        system = self.user_prompt.format(
            user_task_description=self.cfg["prompts"]["task_description"][ep.task["domain"]],
            problem=ep.task["text"],
            user_persona=self.cfg["prompts"]["persona"],
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

        u = self.cfg["user"]
        return [
            Request(
                "generate",
                "user",
                chat,
                SamplingParams(u["max_new_tokens"], u["temperature"], 1.0, self.seed),
            )
        ]

    def user_turn(self, ep, replies: list) -> None:
        """The user's answer to the agent's reply: the session's counters and whether it ended."""
        rec = ep.record
        ep.history.append({"role": "assistant", "content": ep.reply})
        violated = [
            r for r in ep.rules if r.applies(ep.task["domain"]) and not hz.check(r, ep.reply)
        ]
        correct = self.correct(ep.task, ep.reply)
        if self.user_prompt is not None:
            message, enforce, terminate, draft = parse_user(replies[0] if replies else "")
            if draft is not None and not enforce:
                ep.draft_answer = draft
            done_right = terminate and self.correct(ep.task, ep.draft_answer)
            gave_up = terminate and not done_right
        else:
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
        if enforce:
            rec["enforcing_turns"] += 1
            rec["enforced_rules"] += len(violated)
            ep.enforced += [r for r in violated if r not in ep.enforced]
        rec["turns"] += 1
        rec["user_tokens"] += len(message.replace("TERMINATE", "").split())
        ep.turn += 1
        ep.history.append({"role": "user", "content": message})
        ep.last_user = message
        if done_right or gave_up or ep.turn >= self.cfg["max_turns"]:
            rec["success"] = int(done_right)
            rec["gave_up"] = int(gave_up)
            rec["timeout"] = int(not (done_right or gave_up))
            ep.ended = True

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
    m = re.search(r"\{.*\}", reply, re.S)
    try:
        data = json.loads(m.group(0)) if m else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        return reply, False, "TERMINATE" in reply, None
    message = str(data.get("response", ""))
    terminate = bool(data.get("should_terminate")) or "TERMINATE" in message
    return message, bool(data.get("enforce_preferences")), terminate, data.get("draft_answer")

"""Simulated sessions: a patient simulator (Patient-Psi: a cognitive-model profile and a
conversational style; Roleplay-doh: a list of principles) talks with a therapist model, every
session of every framework in lockstep through the core episode runner (one batched generate
call per step for all live sessions; patient and therapist share the call when they share the
model). Each simulated session reuses its reference session's profile and number of patient
turns (cap 16)."""

from __future__ import annotations

import re
from pathlib import Path

from reprolab.episodes import Episode, Request, Runner
from reprolab.inference import SamplingParams
from reprolab.papers.psibench import measures

FRAMEWORKS = ("patientpsi", "roleplaydoh")
LABEL = re.compile(r"^\s*(patient|client|therapist|counsell?or|assistant|user)\s*:\s*", re.I)
NEXT_SPEAKER = re.compile(r"\n\s*(therapist|counsell?or|user|patient|client)\s*:", re.I)


def clean(reply: str) -> str:
    """The reply as one speaker's turn: a leading speaker label dropped, text after a line that
    starts another speaker's turn cut, surrounding quotes and whitespace stripped."""
    text = LABEL.sub("", reply.strip())
    text = NEXT_SPEAKER.split(text)[0]
    return text.strip().strip('"').strip()


def _join(value) -> str:
    return "; ".join(value) if isinstance(value, list) else str(value or "")


def patient_prompt(framework: str, session: dict, prompts: dict) -> str:
    profile = session["profile"]
    if framework == "patientpsi":
        ccd = profile["ccd"]
        return prompts["patientpsi"].format(
            situation=_join(ccd.get("situation")),
            thoughts=_join(ccd.get("thoughts")),
            emotions=_join(ccd.get("emotions")),
            behaviors=_join(ccd.get("behaviors")),
            core_beliefs=_join(ccd.get("core_beliefs")),
            style=prompts["styles"].get(session.get("style", "plain"), ""),
        )
    principles = "\n".join(f"- {p}" for p in profile["principles"])
    return prompts["roleplaydoh"].format(principles=principles)


class Session(Episode):
    """Therapist and patient alternate, the therapist's opening line first, until the patient
    has spoken as often as in the reference session."""

    def __init__(self, sid, patient_system, therapist_system, opening, turns, patient, therapist):
        self.id = sid
        self.patient_system = patient_system
        self.therapist_system = therapist_system
        self.turns = turns
        self.patient = patient  # (request kind, SamplingParams)
        self.therapist = therapist
        self.messages = [{"role": "user", "content": opening}]
        self.done = turns == 0

    def patient_turns(self) -> int:
        return sum(m["role"] == "assistant" for m in self.messages)

    def requests(self) -> list[Request]:
        if self.messages[-1]["role"] == "user":  # the therapist spoke: the patient's turn
            chat = [{"role": "system", "content": self.patient_system}, *self.messages]
            return [Request(self.patient[0], "patient", chat, self.patient[1])]
        flipped = [
            {"role": "assistant" if m["role"] == "user" else "user", "content": m["content"]}
            for m in self.messages
        ]
        chat = [{"role": "system", "content": self.therapist_system}, *flipped]
        return [Request(self.therapist[0], "therapist", chat, self.therapist[1])]

    def receive(self, replies: list) -> None:
        role = "assistant" if self.messages[-1]["role"] == "user" else "user"
        self.messages.append({"role": role, "content": clean(replies[0])})
        self.done = self.patient_turns() >= self.turns


def simulate(
    reference: list[dict],
    model: str,
    handlers: dict,
    cfg: dict,
    prompts: dict,
    log_path: Path,
    same_model: bool,
) -> list[dict]:
    """Both frameworks' sessions for one patient model, in lockstep; one row per session."""
    p = cfg["patient"]
    t = cfg["therapist"]
    patient = (
        "generate",
        SamplingParams(p["max_new_tokens"], p["temperature"], p["top_p"], cfg["seed"]),
    )
    kind = "generate" if same_model else "generate_therapist"
    therapist = (
        kind,
        SamplingParams(t["max_new_tokens"], t["temperature"], t["top_p"], cfg["seed"]),
    )
    episodes = []
    from reprolab.papers.psibench.data import n_patient_turns

    for framework in cfg["frameworks"]:
        for s in reference:
            episodes.append(
                Session(
                    f"{framework}-{model}/{s['id']}",
                    patient_prompt(framework, s, prompts),
                    prompts["therapist"],
                    prompts["opening"],
                    min(n_patient_turns(s), cfg["max_turns"], measures.MAX_TURNS),
                    patient,
                    therapist,
                )
            )
    max_steps = 2 * max(e.turns for e in episodes)
    Runner(handlers).run(episodes, max_steps=max_steps, log_path=log_path, name=f"psibench/{model}")
    rows = []
    for e in episodes:
        system, sid = e.id.split("/")
        rows.append(
            {
                "id": sid,
                "system": system,
                "framework": system.split("-", 1)[0],
                "model": model,
                "messages": e.messages,
                "complete": e.done,
            }
        )
    return rows

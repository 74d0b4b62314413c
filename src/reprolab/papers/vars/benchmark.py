"""MultiSessionCollab at full scale: its user profiles as this harness's profiles, and the
pieces around its LLM roles that have no programmatic form. Its preferences are free text with
no checker, so whether a reply follows one is asked of the core judge (this project's prompt:
the benchmark publishes none, its user simulator judges inside its own reply); task success is
its accuracy judge (accuracy_prompt_qa) on the final draft where the task has a text answer,
the sandbox's tests where it is code; Reflection's session-end notes are its
update_agent_notes_prompt run through the backend. The prompt texts come from upstream.py."""

from __future__ import annotations

import json
from dataclasses import dataclass

from reprolab.tools import json_object

SOURCE = "multisessioncollab"
# The accuracy judge's labels: its prompt asks for "accuracy": 1 (correct) or 0.
ACCURACY_LABELS = ("1", "0")


@dataclass(frozen=True)
class Preference:
    """One benchmark preference: the text is the note (no condition/action split, no checker)."""

    id: str
    text: str
    domain: str = "any"

    @property
    def note(self) -> str:
        return self.text

    @property
    def group(self) -> str:  # a preference is its own group: no conflicts are declared
        return self.id

    def applies(self, domain: str) -> bool:
        return True


def profile_rows(raw: list[dict], n: int) -> list[dict]:
    """The first n profiles of the benchmark's file as profile rows: each preference gets an id
    by its first appearance in the whole file (shared preferences share an id, so rule overlap
    and the z_L alignment read the same way as MiniCollab's rule ids)."""
    ids: dict[str, str] = {}
    for p in raw:
        for text in p["preferences"]:
            ids.setdefault(text, f"msc.{len(ids):03d}")
    if n > len(raw):
        raise ValueError(f"{n} profiles asked of a benchmark file with {len(raw)}")
    return [
        {
            "id": f"m{p['i']:03d}",
            "profiles_from": SOURCE,
            "persona": p["persona"],
            "categories": p["categories"],
            "preferences": p["preferences"],
            "rules": [ids[t] for t in p["preferences"]],
            "decoys": [],
        }
        for p in raw[:n]
    ]


def preferences(profile: dict) -> list[Preference]:
    return [Preference(i, t) for i, t in zip(profile["rules"], profile["preferences"], strict=True)]


def conversation_string(messages: list[dict]) -> str:
    """A session as the note-rewriting prompt reads it: one 'Role: content' line a message."""
    return "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages)


def parse_notes(reply: str) -> str | None:
    """update_agent_notes_prompt's {"user_preferences_reasoning", "agent_notes"}: the notes, or
    None when the reply has no such JSON (the notes are then kept as they were)."""
    data = json_object(reply)
    if data is None or "agent_notes" not in data:
        return None
    notes = data["agent_notes"]
    return notes if isinstance(notes, str) else json.dumps(notes)


def parse_accuracy(reply: str, answers) -> tuple[str | None, str]:
    """The accuracy judge's {"reasoning", "accuracy": 0|1} read for the core judge: (answer,
    how); a reply without that JSON, or with another value, is a failure, never a default."""
    data = json_object(reply)
    if data is None or "accuracy" not in data:
        return None, "no_json"
    try:
        value = str(int(data["accuracy"]))
    except (TypeError, ValueError):
        return None, "not_an_int"
    return (value, "strict") if value in answers else (None, "no_label")


def compliance_chat(template: str, item: dict, order: tuple) -> list[dict]:
    """The compliance judge's conversation: one preference, one reply, the labels in `order`."""
    text = template.format(
        preference=item["preference"], reply=item["reply"], options=" or ".join(order)
    )
    return [{"role": "user", "content": text}]


def accuracy_chat(template: str, item: dict, order: tuple) -> list[dict]:
    """The benchmark's accuracy judge as it asks it: one user message, the prompt filled in."""
    text = template.format(
        problem=item["problem"], correct_answer=item["solution"], draft_answer=item["draft"]
    )
    return [{"role": "user", "content": text}]

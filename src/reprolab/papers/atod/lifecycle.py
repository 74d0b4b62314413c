"""The goal-status lifecycle of the note: not_mentioned -> open -> pending -> {completed, failed,
abandoned}; a goal may also be abandoned while open. Terminal statuses never change again."""

from __future__ import annotations

NOT_MENTIONED, OPEN, PENDING = "not_mentioned", "open", "pending"
COMPLETED, FAILED, ABANDONED = "completed", "failed", "abandoned"
STATUSES = (NOT_MENTIONED, OPEN, PENDING, COMPLETED, FAILED, ABANDONED)
TERMINAL = (COMPLETED, FAILED, ABANDONED)
DECIDED = (COMPLETED, FAILED)  # the goals dGCR and NTC count

ALLOWED = {
    NOT_MENTIONED: {OPEN},
    OPEN: {PENDING, ABANDONED},
    PENDING: {COMPLETED, FAILED, ABANDONED},
    COMPLETED: set(),
    FAILED: set(),
    ABANDONED: set(),
}


def allowed(before: str, after: str) -> bool:
    return after in ALLOWED[before]


def check_history(history: list[dict]) -> None:
    """Raise unless a status history walks the lifecycle from not_mentioned, turns increasing."""
    status, turn = NOT_MENTIONED, -1
    for entry in history:
        if not allowed(status, entry["status"]):
            raise ValueError(f"illegal transition {status} -> {entry['status']} at {entry['turn']}")
        if entry["turn"] < turn:
            raise ValueError(f"status history goes back in time at turn {entry['turn']}")
        status, turn = entry["status"], entry["turn"]


def move(goal: dict, goal_id: str, status: str, turn: int) -> dict:
    """Move a gold goal to `status` at `turn`, keeping its status history and its first-mention
    and completion turns; the change as a turn records it. The caller checks the move is legal."""
    change = {"goal_id": goal_id, "from": goal["status"], "to": status}
    goal["status"] = status
    goal["status_history"].append({"turn": turn, "status": status})
    if status == OPEN:
        goal["first_mentioned_turn"] = turn
    if status == COMPLETED:
        goal["completion_turn"] = turn
    return change

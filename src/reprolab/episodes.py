"""A turn-level lockstep runner for multi-turn experiments.

An episode is a small state machine with roles. At each step the runner asks every live episode
for its pending requests, groups them by kind (and sampling parameters), makes one batched call
per group, hands each episode its replies in order, and retires episodes that are done:

    class Chat(Episode):
        def requests(self):            # what this episode needs from the model now
            return [Request("generate", self.role, self.conversation(), params)]
        def receive(self, replies):    # the replies, in the order of requests()
            self.history.append(replies[0]); self.done = len(self.history) >= 8

    rows = Runner(backend_handlers(backend)).run(episodes, max_steps=16, log_path=...)

Kinds: `generate` (payload: a conversation), `score_candidates` (payload: (conversation,
candidates)), `score_calibrated` (payload: (conversation, candidates, context-free conversation):
`inference.calibrated_scores`), `embed` (payload: a text), `judge` (payload: (item, render),
with a core Judge).
Every request and reply lands in one standard JSONL episode log (episode, turn, role, kind,
request, reply, seconds), and progress (live episodes, step, replies/s, ETA) goes to the log.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprolab.inference import InferenceBackend, SamplingParams, calibrated_scores
from reprolab.progress import format_duration

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    kind: str
    role: str
    payload: Any
    params: SamplingParams | None = None


class Episode(ABC):
    """One episode's state; `id` names it in the log, `done` retires it."""

    id: str
    done: bool = False

    @abstractmethod
    def requests(self) -> list[Request]:
        """The model calls this episode needs before it can take its next step (may be [])."""

    @abstractmethod
    def receive(self, replies: list) -> None:
        """The replies to the last requests(), in order: advance the state machine."""


Handler = Callable[[list, SamplingParams | None], list]


def backend_handlers(backend: InferenceBackend, embedder=None, judge=None) -> dict[str, Handler]:
    """The batched call of each request kind on one backend (and embedder, judge)."""
    handlers: dict[str, Handler] = {
        "generate": lambda payloads, params: backend.generate(payloads, params),
        "score_candidates": lambda payloads, _: backend.score_candidates(
            [p[0] for p in payloads], [p[1] for p in payloads]
        ),
        "score_calibrated": lambda payloads, _: calibrated_scores(
            backend, [p[0] for p in payloads], [p[1] for p in payloads], [p[2] for p in payloads]
        ),
    }
    if embedder is not None:
        handlers["embed"] = lambda payloads, _: list(embedder.encode(list(payloads)))
    if judge is not None:
        # One render for the whole batch: payloads are (item, render) with the same render.
        handlers["judge"] = lambda payloads, _: judge.judge(
            [p[0] for p in payloads], payloads[0][1]
        )
    return handlers


def _group_key(request: Request) -> tuple:
    return (request.kind, request.params)


class Runner:
    def __init__(self, handlers: dict[str, Handler]):
        self.handlers = handlers
        self.calls: list[tuple[str, int]] = []  # (kind, batch size) of every backend call

    def run(
        self,
        episodes: Sequence[Episode],
        max_steps: int,
        log_path: Path | None = None,
        name: str = "episodes",
    ) -> list[dict]:
        """Step all episodes in lockstep until each is done or max_steps; the log rows."""
        rows: list[dict] = []
        started = time.monotonic()
        replies_done = 0
        for step in range(max_steps):
            live = [e for e in episodes if not e.done]
            if not live:
                break
            pending = [(e, e.requests()) for e in live]
            groups: dict[tuple, list[tuple[int, int, Request]]] = {}
            for i, (_, requests) in enumerate(pending):
                for j, request in enumerate(requests):
                    if request.kind not in self.handlers:
                        raise ValueError(
                            f"episode request kind '{request.kind}': no handler; "
                            f"expected one of {sorted(self.handlers)}"
                        )
                    groups.setdefault(_group_key(request), []).append((i, j, request))
            answers: list[list] = [[None] * len(requests) for _, requests in pending]
            timings: list[list[float]] = [[0.0] * len(requests) for _, requests in pending]
            for (kind, params), members in groups.items():
                tic = time.monotonic()
                out = self.handlers[kind]([r.payload for _, _, r in members], params)
                seconds = time.monotonic() - tic
                self.calls.append((kind, len(members)))
                if len(out) != len(members):
                    raise RuntimeError(f"{kind}: {len(out)} replies to {len(members)} requests")
                for (i, j, _), reply in zip(members, out, strict=True):
                    answers[i][j] = reply
                    timings[i][j] = seconds / len(members)
            for i, (episode, requests) in enumerate(pending):
                for j, request in enumerate(requests):
                    rows.append(
                        {
                            "episode": episode.id,
                            "turn": step,
                            "role": request.role,
                            "kind": request.kind,
                            "request": _jsonable(request.payload),
                            "reply": _jsonable(answers[i][j]),
                            "seconds": timings[i][j],
                        }
                    )
                episode.receive(answers[i])
                replies_done += len(requests)
            elapsed = time.monotonic() - started
            rate = replies_done / elapsed if elapsed > 0 else float("nan")
            eta = elapsed / (step + 1) * (max_steps - step - 1)
            log.info(
                "%s: step %d/%d, %d live episodes, %d replies (%.1f/s), ETA <= %s",
                name,
                step + 1,
                max_steps,
                len(live),
                replies_done,
                rate,
                format_duration(eta),
            )
        if log_path is not None:
            from reprolab.io import write_jsonl

            write_jsonl(Path(log_path), rows)
        return rows


def _jsonable(value):
    """Log-friendly: numbers, strings, lists and dicts as they are; other objects as text."""
    try:
        return json.loads(json.dumps(value))  # tuples become lists, as the log file reads back
    except TypeError:
        if hasattr(value, "tolist"):
            return value.tolist()
        if hasattr(value, "__dict__"):
            return {k: _jsonable(v) for k, v in vars(value).items()}
        return repr(value)

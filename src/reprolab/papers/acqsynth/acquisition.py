"""The five acquisition functions of the note (step 4), each as a pure function of what the
student gives (top-2 margins, embeddings, a gradient norm, sampled answers' embeddings), so that
each is tested on hand-made cases; `probe.py` asks the student for those inputs."""

from __future__ import annotations

import math

import numpy as np

NAMES = ("confidence", "proximity", "gradient", "diversity", "variance")
CLIP = (0.0, 2.0)


def clip(x: float, low: float = CLIP[0], high: float = CLIP[1]) -> float:
    return float(min(max(x, low), high))


def confidence(margins: list[float]) -> float:
    """1 / mean over decoded tokens of (p_top1 - p_top2), clipped to [0, 2]: an unsure student
    (small margins) gives a high value. No tokens or a zero mean margin give the upper clip."""
    if not margins:
        return CLIP[1]
    mean = float(np.mean(margins))
    return clip(1.0 / mean) if mean > 0 else CLIP[1]


def kmeans_centroids(embeddings: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means centroids of the seed questions' embeddings (k at most the number of rows)."""
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(embeddings)))
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit(embeddings).cluster_centers_


def nearest_cosine(embedding: np.ndarray, centroids: np.ndarray) -> float:
    """Largest cosine of the question to a centroid."""
    c = centroids / np.linalg.norm(centroids, axis=1, keepdims=True).clip(min=1e-12)
    e = embedding / max(float(np.linalg.norm(embedding)), 1e-12)
    return float((c @ e).max())


def proximity(embedding: np.ndarray, centroids: np.ndarray) -> float:
    """Largest cosine of the question to a centroid, clipped to [0, 2]."""
    return clip(nearest_cosine(embedding, centroids))


def centroid_distance(embedding: np.ndarray, centroids: np.ndarray) -> float:
    """Diversity as the authors' service computes it (services/service_utils.py at 8b0e39a):
    1 minus the largest cosine of the question to a centroid of the seed questions, clipped to
    [0, 2]. The note's streaming facility location is `Diversity` (config diversity.kind)."""
    return clip(1.0 - nearest_cosine(embedding, centroids))


def global_norm(parameters) -> float:
    """Global L2 norm of the gradients of `parameters` (those without a gradient skipped)."""
    return math.sqrt(sum(float(p.grad.pow(2).sum()) for p in parameters if p.grad is not None))


def gradient_reward(norm: float, scale: float) -> float:
    """The unbounded gradient norm normalised by `scale` (the median norm over seed items,
    measured once) and clipped to [0, 2], so that it cannot swamp r_xml (the note's pitfall);
    the raw norm is logged beside it."""
    if not math.isfinite(norm):
        return CLIP[1]
    return clip(norm / scale) if scale > 0 else CLIP[1]


class Diversity:
    """Streaming facility location over an archive of past questions (embeddings).

    Each archived a_i keeps best_d_i, the largest cosine distance any admitted question has had
    to it so far (0 when archived); a candidate's gain is mean_i max(0, (1 - cos(x, a_i)) -
    best_d_i). A question with gain above `admit` joins the archive and raises the best_d_i.
    The reward is the gain clipped to [0, 2]; an empty archive gives gain 1 [recon].
    """

    def __init__(self, admit: float = 0.01, archive: np.ndarray | None = None):
        self.admit = admit
        self.archive: list[np.ndarray] = []
        self.best: list[float] = []
        for row in archive if archive is not None else []:
            self.archive.append(_unit(row))
            self.best.append(0.0)

    def gain(self, x: np.ndarray) -> float:
        if not self.archive:
            return 1.0
        d = 1.0 - np.stack(self.archive) @ _unit(x)
        return float(np.maximum(0.0, d - np.asarray(self.best)).mean())

    def offer(self, x: np.ndarray) -> float:
        """The gain of x; x is admitted (and the archive updated) when it exceeds `admit`."""
        g = self.gain(x)
        if g > self.admit:
            if self.archive:
                d = 1.0 - np.stack(self.archive) @ _unit(x)
                self.best = [max(b, float(v)) for b, v in zip(self.best, d, strict=True)]
            self.archive.append(_unit(x))
            self.best.append(0.0)
        return g


def answer_variance(
    embeddings: np.ndarray, min_cluster_size: int = 2, min_samples: int = 1
) -> float:
    """Number of distinct HDBSCAN labels among the student's k sampled answers, over k, noise
    (-1) counted as one label as in the authors' code (len(set(labels)) / 16). With sklearn's
    default (allow_single_cluster=False) k answers that all agree are noise: 1/k, the lowest."""
    from sklearn.cluster import HDBSCAN

    k = len(embeddings)
    if k < min_cluster_size:
        return 0.0
    labels = (
        HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples)
        .fit(np.asarray(embeddings, dtype=np.float64))
        .labels_
    )
    return len({int(x) for x in labels}) / k


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / max(float(np.linalg.norm(x)), 1e-12)

"""Linear probes on the residual stream: PCA then LDA, leave-one-out, AUC per layer.

PCA is fitted inside each fold on the training episodes only, so the held-out episode never
shapes the projection. The held-out LDA decision value is its score; the AUC of the scores
against the labels is the layer's probe AUC (layer 0 is the input embeddings: the baseline).
"""

from __future__ import annotations

import logging

import numpy as np

from reprolab.stats import roc_auc

log = logging.getLogger(__name__)


def loo_scores(features: np.ndarray, labels: np.ndarray, n_components: int) -> np.ndarray:
    """Held-out LDA decision values of every sample, leave-one-out, PCA fitted per fold."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    n = len(y)
    scores = np.empty(n)
    for held in range(n):
        train = np.arange(n) != held
        k = max(1, min(n_components, int(train.sum()) - 2, x.shape[1]))
        # Identical inputs (the same token's embedding in every episode) carry nothing: every
        # score ties, AUC 0.5. Components without variance are dropped for the same reason.
        total = float(x[train].var(0).sum())
        if total < 1e-20:
            scores[held] = 0.0
            continue
        pca = PCA(n_components=k, random_state=0).fit(x[train])
        keep = pca.explained_variance_ > 1e-9 * total
        z = pca.transform(x[train])[:, keep]
        lda = LinearDiscriminantAnalysis().fit(z, y[train])
        scores[held] = lda.decision_function(pca.transform(x[held : held + 1])[:, keep])[0]
    return scores


def probe_auc_per_layer(
    states: np.ndarray, labels, n_components: int = 50, min_per_class: int = 2
) -> list[float]:
    """AUC per layer of states (samples, layers + 1, hidden); NaN when a class is too small."""
    y = np.asarray(labels, dtype=bool)
    if states.ndim != 3 or states.shape[0] != y.size:
        raise ValueError(f"states must be (samples, layers, hidden) for {y.size} labels")
    if min(y.sum(), (~y).sum()) < min_per_class:
        log.warning(
            "probe: %d positive and %d negative samples; AUC undefined", y.sum(), (~y).sum()
        )
        return [float("nan")] * states.shape[1]
    aucs = []
    for layer in range(states.shape[1]):
        aucs.append(roc_auc(y, loo_scores(states[:, layer, :], y, n_components)))
        log.info("probe layer %d: AUC %.3f", layer, aucs[-1])
    return aucs

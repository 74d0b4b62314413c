"""Linear probes on the residual stream: PCA then LDA, leave-one-out, AUC per layer.

PCA is fitted inside each fold on the training episodes only, so the held-out episode never
shapes the projection. The held-out LDA decision value is its score; the AUC of the scores
against the labels is the layer's probe AUC (layer 0 is the input embeddings: the baseline).

The peak AUC over layers is tested against a permutation null made here (permutation_null):
the labels shuffled within strata, the probe refitted per draw. The PCA of each fold does not
depend on the labels, so it is computed once per layer and reused by the metric and every draw;
the LDA of a draw is solved in closed form (FastLDA), checked against sklearn on the true labels.
"""

from __future__ import annotations

import logging

import numpy as np

from reprolab.stats import roc_auc

log = logging.getLogger(__name__)


def fold_projections(features: np.ndarray, n_components: int) -> list[tuple | None]:
    """Per leave-one-out fold, the PCA projections (fitted on the training rows only) of the
    training rows and of the held-out row; None where the fold's inputs are constant.

    Labels play no part in them, so a permutation null reuses them for every draw.
    """
    from sklearn.decomposition import PCA

    x = np.asarray(features, dtype=np.float64)
    n = len(x)
    folds: list[tuple | None] = []
    for held in range(n):
        train = np.arange(n) != held
        k = max(1, min(n_components, int(train.sum()) - 2, x.shape[1]))
        # Identical inputs (the same token's embedding in every episode) carry nothing: every
        # score ties, AUC 0.5. Components without variance are dropped for the same reason.
        total = float(x[train].var(0).sum())
        if total < 1e-20:
            folds.append(None)
            continue
        pca = PCA(n_components=k, random_state=0).fit(x[train])
        keep = pca.explained_variance_ > 1e-9 * total
        z = pca.transform(x[train])[:, keep]
        folds.append((z, pca.transform(x[held : held + 1])[:, keep][0]))
    return folds


def loo_scores(
    features: np.ndarray, labels: np.ndarray, n_components: int, folds: list | None = None
) -> np.ndarray:
    """Held-out LDA decision values of every sample, leave-one-out, PCA fitted per fold
    (`folds`: the features' fold_projections, when already computed)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    y = np.asarray(labels, dtype=bool)
    folds = fold_projections(features, n_components) if folds is None else folds
    scores = np.empty(len(y))
    for held, fold in enumerate(folds):
        if fold is None:
            scores[held] = 0.0
            continue
        z, z_held = fold
        lda = LinearDiscriminantAnalysis().fit(z, y[np.arange(len(y)) != held])
        scores[held] = lda.decision_function(z_held[None, :])[0]
    return scores


class FastLDA:
    """Leave-one-out LDA scores of one layer for many labelings, on fixed fold projections.

    The binary LDA decision value in closed form, (x - (m1 + m0) / 2) . S^-1 (m1 - m0) +
    log(n1 / n0), S the within-class scatter of the fold's n training rows divided by n: what
    sklearn's LinearDiscriminantAnalysis (svd solver) computes when S has full rank. Z'Z of
    each fold is label-free and computed once; a labeling costs a rank-2 update and a solve
    per fold.
    permutation_null checks it against the sklearn scores of the observed labels.
    """

    def __init__(self, folds: list[tuple | None]):
        self.n = len(folds)
        self.constant = [i for i, f in enumerate(folds) if f is None]
        # Folds grouped by their kept dimension, each group stacked for batched algebra.
        self.groups = []
        for dim in sorted({f[0].shape[1] for f in folds if f is not None}):
            held = [i for i, f in enumerate(folds) if f is not None and f[0].shape[1] == dim]
            z = np.stack([folds[i][0] for i in held])  # (folds, n - 1, dim)
            x = np.stack([folds[i][1] for i in held])  # (folds, dim)
            train = np.stack([np.delete(np.arange(self.n), i) for i in held])
            self.groups.append((np.array(held), z, x, train, np.einsum("fmi,fmj->fij", z, z)))

    def scores(self, labels: np.ndarray) -> np.ndarray:
        y = np.asarray(labels, dtype=bool)
        out = np.zeros(self.n)
        for held, z, x, train, gram in self.groups:
            yt = y[train].astype(float)  # (folds, n - 1)
            n1 = yt.sum(1)
            n0 = yt.shape[1] - n1
            m1 = np.einsum("fm,fmi->fi", yt, z) / n1[:, None]
            m0 = np.einsum("fm,fmi->fi", 1 - yt, z) / n0[:, None]
            scatter = (
                gram
                - n1[:, None, None] * np.einsum("fi,fj->fij", m1, m1)
                - n0[:, None, None] * np.einsum("fi,fj->fij", m0, m0)
            )
            cov = scatter / yt.shape[1]
            w = np.linalg.solve(cov, (m1 - m0)[:, :, None])[:, :, 0]
            centre = 0.5 * (m1 + m0)
            out[held] = np.einsum("fi,fi->f", x - centre, w) + np.log(n1 / n0)
        return out


def permutation_null(
    folds: list[list],
    labels,
    strata,
    observed_aucs: list[float],
    permutations: int,
    rng: np.random.Generator,
) -> list[float]:
    """The peak probe AUC over layers 1.. under `permutations` draws of the labels shuffled
    within each stratum (strata keep the design's nuisances, e.g. the window, out of the null).

    `folds` are the fold_projections of every layer (layer 0 first), `observed_aucs` the
    probe's sklearn AUCs per layer with the true labels: the closed-form scorer must reproduce
    them (to 1e-9) before its null is used.
    """
    y = np.asarray(labels, dtype=bool)
    strata = np.asarray(strata)
    scorers = [FastLDA(layer) for layer in folds[1:]]
    for layer, scorer in enumerate(scorers, 1):
        fast = roc_auc(y, scorer.scores(y))
        if not abs(fast - observed_aucs[layer]) <= 1e-9:
            raise ValueError(
                f"probe null: closed-form LDA gives AUC {fast} at layer {layer}, sklearn "
                f"{observed_aucs[layer]}; the within-class covariance is rank-deficient"
            )
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    null = []
    for _ in range(permutations):
        shuffled = y.copy()
        for idx in groups:
            shuffled[idx] = y[rng.permutation(idx)]
        null.append(max(roc_auc(shuffled, s.scores(shuffled)) for s in scorers))
    return null


def layer_folds(states: np.ndarray, n_components: int) -> list[list]:
    """fold_projections of every layer of states (samples, layers + 1, hidden)."""
    return [fold_projections(states[:, layer, :], n_components) for layer in range(states.shape[1])]


def probe_auc_per_layer(
    states: np.ndarray,
    labels,
    n_components: int = 50,
    min_per_class: int = 2,
    folds: list[list] | None = None,
) -> list[float]:
    """AUC per layer of states (samples, layers + 1, hidden); NaN when a class is too small.
    `folds`: the states' layer_folds, when already computed."""
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
        fold = None if folds is None else folds[layer]
        aucs.append(roc_auc(y, loo_scores(states[:, layer, :], y, n_components, fold)))
        log.info("probe layer %d: AUC %.3f", layer, aucs[-1])
    return aucs

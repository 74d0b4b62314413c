"""The PCA + LDA leave-one-out probe: AUC near 1 on separable data, near 0.5 on noise."""

from __future__ import annotations

import math

import numpy as np

from reprolab.papers.gar.probe import loo_scores, probe_auc_per_layer
from reprolab.stats import roc_auc


def test_separable_data_gives_auc_near_one():
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2 == 0
    x = rng.normal(size=(40, 30))
    x[:, 0] += np.where(labels, 3.0, -3.0)
    assert roc_auc(labels, loo_scores(x, labels, n_components=10)) > 0.97


def test_noise_gives_auc_near_chance():
    aucs = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        labels = np.arange(60) % 2 == 0
        aucs.append(roc_auc(labels, loo_scores(rng.normal(size=(60, 40)), labels, 10)))
    assert 0.3 < float(np.mean(aucs)) < 0.65


def test_per_layer_probe_finds_the_informative_layer():
    rng = np.random.default_rng(1)
    labels = np.arange(30) % 3 == 0
    states = rng.normal(size=(30, 3, 20))
    states[:, 2, 5] += np.where(labels, 4.0, -4.0)  # only layer 2 carries the label
    aucs = probe_auc_per_layer(states, labels, n_components=8)
    assert aucs[2] > 0.95 and aucs[0] < 0.8


def test_identical_inputs_give_chance_not_an_error():
    # Layer 0 at the position before the reply is the same token's embedding in every episode.
    states = np.ones((8, 2, 5))
    states[:, 1, 0] = np.arange(8)
    aucs = probe_auc_per_layer(states, np.arange(8) >= 4, n_components=3)
    assert aucs[0] == 0.5 and aucs[1] > 0.9


def test_one_class_gives_nan():
    states = np.zeros((6, 2, 4))
    assert all(math.isnan(a) for a in probe_auc_per_layer(states, [True] * 6))

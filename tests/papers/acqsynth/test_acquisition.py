"""Each acquisition function on hand-made cases: a confident vs an unsure student, a planted
cluster structure, a known gradient norm, a streaming archive."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reprolab.inference import Completion, TokenLogprob
from reprolab.papers.acqsynth import acquisition as acq


def _reply(top1: float, top2: float, n: int = 3) -> Completion:
    tok = TokenLogprob("x", np.log(top1), (("x", np.log(top1)), ("y", np.log(top2))))
    return Completion("x" * n, (tok,) * n)


def test_confidence_is_high_for_an_unsure_student_and_low_for_a_confident_one():
    confident = acq.confidence(_reply(0.9, 0.05).top_margins())  # margin 0.85
    unsure = acq.confidence(_reply(0.40, 0.35).top_margins())  # margin 0.05 -> 20, clipped
    assert confident == pytest.approx(1 / 0.85)
    assert unsure == 2.0
    assert acq.confidence([0.6, 1.0]) == pytest.approx(1 / 0.8)
    assert acq.confidence([]) == 2.0  # nothing decoded: the upper clip


def test_confidence_reads_the_top_two_probabilities_not_the_sampled_token():
    # The sampled token is the second choice: the margin is still top-1 minus top-2.
    tok = TokenLogprob("y", np.log(0.3), (("x", np.log(0.6)), ("y", np.log(0.3))))
    assert Completion("y", (tok,)).top_margins() == [pytest.approx(0.3)]


def test_proximity_is_the_largest_cosine_to_a_centroid():
    centroids = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert acq.proximity(np.array([3.0, 0.0]), centroids) == pytest.approx(1.0)
    assert acq.proximity(np.array([1.0, 1.0]), centroids) == pytest.approx(2**-0.5)
    assert acq.proximity(np.array([-1.0, -1.0]), centroids) == 0.0  # negative cosine: clipped


def test_kmeans_centroids_find_a_planted_structure():
    rng = np.random.default_rng(0)
    a = rng.normal([5, 0], 0.01, size=(10, 2))
    b = rng.normal([0, 5], 0.01, size=(10, 2))
    cents = acq.kmeans_centroids(np.vstack([a, b]), 2, seed=0)
    assert sorted(np.round(cents).tolist()) == [[0, 5], [5, 0]]
    assert len(acq.kmeans_centroids(a[:3], 100, seed=0)) == 3  # k capped at the rows


def test_global_norm_of_a_known_gradient():
    w = torch.nn.Parameter(torch.zeros(2))
    b = torch.nn.Parameter(torch.zeros(1))
    unused = torch.nn.Parameter(torch.zeros(3))
    (w * torch.tensor([3.0, 4.0])).sum().add(b.sum() * 12).backward()
    # grad w = (3, 4), grad b = 12: sqrt(9 + 16 + 144) = 13; `unused` has no gradient.
    assert acq.global_norm([w, b, unused]) == pytest.approx(13.0)


def test_gradient_reward_is_normalised_and_clipped():
    assert acq.gradient_reward(13.0, scale=13.0) == 1.0
    assert acq.gradient_reward(1e6, scale=13.0) == 2.0  # unbounded norm cannot swamp r_xml
    assert acq.gradient_reward(float("nan"), scale=1.0) == 2.0


def test_diversity_rewards_new_questions_and_has_diminishing_returns():
    e1, e2 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    div = acq.Diversity(admit=0.01, archive=np.array([e1]))
    assert div.gain(e1) == pytest.approx(0.0)  # a copy of the archive adds nothing
    assert div.offer(e2) == pytest.approx(1.0)  # orthogonal: distance 1, best_d 0
    assert len(div.archive) == 2 and div.best == [pytest.approx(1.0), 0.0]
    # Now e1's best distance is 1: another orthogonal question gains only through e2.
    e3 = np.array([0.0, 0.0, 1.0])
    assert div.gain(e3) == pytest.approx((0.0 + 1.0) / 2)
    assert acq.Diversity().gain(e1) == 1.0  # empty archive [recon]


def test_diversity_admits_only_above_the_threshold():
    e1 = np.array([1.0, 0.0])
    div = acq.Diversity(admit=0.5, archive=np.array([e1]))
    near = np.array([1.0, 0.5])  # distance 1 - 2/sqrt(5) ~ 0.106 < 0.5
    assert div.offer(near) == pytest.approx(1 - 1 / np.sqrt(1.25))
    assert len(div.archive) == 1


def test_answer_variance_counts_planted_clusters():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 10
    three = np.vstack([rng.normal(c, 0.01, size=(2, 3)) for c in centres])
    assert acq.answer_variance(three, 2, 1) == pytest.approx(3 / 6)
    same = np.tile([1.0, 2.0, 3.0], (4, 1)) + rng.normal(0, 1e-3, size=(4, 3))
    # One group only: HDBSCAN's default (allow_single_cluster=False) calls it noise, one label
    # (the authors count the noise label), so a student that always says the same thing scores
    # 1/k, the lowest variance.
    assert acq.answer_variance(same, 2, 1) == pytest.approx(1 / 4)
    two_and_noise = np.vstack([three[:4], [[-50.0, 3.0, 7.0]]])
    assert acq.answer_variance(two_and_noise, 2, 1) == pytest.approx(3 / 5)


def test_centroid_distance_is_one_minus_the_nearest_centroid_cosine():
    centroids = np.array([[2.0, 0.0], [0.0, 1.0]])
    assert acq.centroid_distance(np.array([3.0, 0.0]), centroids) == pytest.approx(0.0)
    # 45 degrees from both centroids: 1 - cos(45) = 1 - 1/sqrt(2).
    assert acq.centroid_distance(np.array([1.0, 1.0]), centroids) == pytest.approx(
        1 - 1 / np.sqrt(2)
    )
    # Opposite to every centroid: 1 - (-1/sqrt(2)) clipped at nothing (< 2).
    assert acq.centroid_distance(np.array([-1.0, -1.0]), centroids) == pytest.approx(
        1 + 1 / np.sqrt(2)
    )

"""The offline sentence encoder on cases whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from reprolab.embeddings import cosine_top_k, get_embedder
from tests.conftest import REPO

MODELS = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["models"]


@pytest.fixture(scope="module")
def embedder():
    return get_embedder("all-minilm-l6-v2", MODELS)


def test_identical_text_has_cosine_one_and_rows_are_unit_vectors(embedder):
    vectors = embedder.encode(["The cat sat on the mat.", "The cat sat on the mat."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0, abs=1e-5)


def test_paraphrases_are_closer_than_unrelated_sentences(embedder):
    pairs = [
        ("How do I reset my password?", "I forgot my password, how can I change it?"),
        ("The train to Paris leaves at noon.", "At 12 pm the Paris train departs."),
        ("She is allergic to peanuts.", "Peanuts give her an allergic reaction."),
    ]
    unrelated = ["Quarterly revenue grew by four percent.", "Penguins cannot fly."]
    for a, b in pairs:
        va, vb, *others = embedder.encode([a, b, *unrelated])
        assert va @ vb > max(va @ o for o in others) + 0.2, (a, b)


def test_batches_and_order_do_not_change_vectors(embedder):
    texts = ["short", "a much longer sentence than the first one", "mid length text"]
    whole = embedder.encode(texts)
    embedder.batch_size = 1
    one_by_one = embedder.encode(texts)
    embedder.batch_size = 64
    assert np.allclose(whole, one_by_one, atol=1e-5)


def test_cosine_top_k_by_hand():
    keys = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    idx, sims = cosine_top_k(np.array([[1.0, 0.1]]), keys, k=2)
    assert idx.tolist() == [[0, 2]]
    assert sims[0, 0] == pytest.approx(1 / np.sqrt(1.01))
    assert sims[0, 1] == pytest.approx(1.1 / (np.sqrt(1.01) * np.sqrt(2)))


def test_a_causal_lm_is_not_an_embedder():
    with pytest.raises(ValueError, match="not an embedding model"):
        get_embedder("tiny-random-llama", MODELS)

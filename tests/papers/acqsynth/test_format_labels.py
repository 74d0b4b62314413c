"""r_xml on exact strings, parsing, and the clustering pseudo-label."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.papers.acqsynth import fmt, labels

ITEM = "<question>Q?</question>\n<reasoning>R.</reasoning>\n<answer>5</answer>"


def test_r_xml_exact_strings():
    assert fmt.r_xml(ITEM) == pytest.approx(0.75)
    assert fmt.r_xml(ITEM + "0123456789") == pytest.approx(0.75 - 0.010)
    assert fmt.r_xml("<question>Q?</question>") == pytest.approx(0.25)
    # A tag written twice scores nothing for that pattern.
    assert fmt.r_xml(ITEM + "<answer>6</answer>") == pytest.approx(0.5)
    assert fmt.r_xml("") == 0.0


def test_parse_item_needs_all_three_parts():
    assert fmt.parse_item(ITEM) == {"question": "Q?", "reasoning": "R.", "answer": "5"}
    assert fmt.parse_item("<question>Q?</question><answer>5</answer>") is None
    assert fmt.parse_item("<question> </question><reasoning></reasoning><answer>5</answer>") is None
    assert fmt.parse_item(fmt.render_item({"question": "a", "reasoning": "b", "answer": "c"}))


def test_cluster_label_is_the_medoid_of_the_largest_cluster():
    answers = ["12", "twelve", "12.0", "7"]
    # Planted: three answers near (1, 0) (the third the most central), one at (0, 1).
    emb = np.array([[1.0, 0.12], [1.0, -0.12], [1.0, 0.0], [0.0, 1.0]])
    got = labels.cluster_label(answers, emb, threshold=0.35)
    assert got == {"label": "12.0", "index": 2, "support": 3, "clusters": 2}


def test_cluster_label_ties_go_to_the_earliest_cluster_and_one_answer_is_its_own_label():
    emb = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert labels.cluster_label(["a", "b"], emb)["label"] == "a"
    assert labels.cluster_label(["only"], np.ones((1, 2)))["support"] == 1

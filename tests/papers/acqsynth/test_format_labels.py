"""r_xml on exact strings, parsing, and the clustering pseudo-label."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.papers.acqsynth import fmt, labels

ITEM = "<question>\nQ?\n</question>\n<reasoning>\nR.\n</reasoning>\n<answer>\n5\n</answer>"


def test_r_xml_follows_the_authors_count_xml_on_exact_strings():
    # ITEM (74 characters): <reasoning>\n and \n</reasoning>\n +0.125 each; \n<answer>\n +0.125
    # minus its whole length (no "\n</answer>\n" in it: 0.074); \n</answer> +0.125 + 0.001 (its
    # last piece is empty, one character forgiven); \n</question> +0.125 minus the 49 characters
    # after it less one (0.048); "<question>" opens the text, no newline before it: nothing.
    assert len(ITEM) == 74
    assert fmt.r_xml(ITEM) == pytest.approx(0.125 * 5 - 0.074 + 0.001 - 0.048)
    # Framed by newlines every pattern counts once; only the question's patterns pay (the 49
    # characters after "\n</question>\n"; 50 after "\n</question>", one forgiven).
    framed = "\n" + ITEM + "\n"
    assert fmt.r_xml(framed) == pytest.approx(0.75 - 0.049 - 0.049)
    # Ten trailing characters cost 0.010 on each of the four penalised patterns.
    assert fmt.r_xml(framed + "0123456789") == pytest.approx(fmt.r_xml(framed) - 0.040)
    # A tag pattern written twice scores nothing for that pattern.
    assert fmt.r_xml("<reasoning>\n<reasoning>\n") == 0.0
    assert fmt.r_xml("<reasoning>\n") == pytest.approx(0.125)
    assert fmt.r_xml("") == 0.0


def test_parse_item_needs_all_three_parts():
    assert fmt.parse_item(ITEM) == {"question": "Q?", "reasoning": "R.", "answer": "5"}
    assert fmt.parse_item("<QUESTION>Q?</Question><reasoning></reasoning><answer>5</answer>")
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


def test_warm_rows_answer_each_seed_prompt_with_another_seed_in_the_tag_format():
    from reprolab.papers.acqsynth import generator

    seeds = [{"question": f"Q{k}?", "reasoning": f"R{k}.", "answer": str(k)} for k in range(5)]
    rows = generator.warm_rows(seeds, {"system": "S", "user": "Like this:\n{example}"}, 0)
    assert len(rows) == 5
    targets = [r["completion"][0]["content"] for r in rows]
    for seed, row, target in zip(seeds, rows, targets, strict=True):
        assert fmt.render_item(seed) in row["prompt"][-1]["content"]
        assert target != fmt.render_item(seed) and fmt.parse_item(target)  # never its own
    assert sorted(targets) == sorted(fmt.render_item(s) for s in seeds)  # each seed once
    assert rows == generator.warm_rows(seeds, {"system": "S", "user": "Like this:\n{example}"}, 0)

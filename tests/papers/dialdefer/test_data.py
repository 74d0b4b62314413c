"""dialdefer's generated items: seeded, distinct, in >= 6 domains, with answers that are right."""

from __future__ import annotations

import json
import re

import periodictable
import pytest

from reprolab.papers.dialdefer.data import (
    eval_items,
    eval_settings,
    from_paper_files,
    generate,
    hub_row,
    train_items,
)
from reprolab.papers.dialdefer.domains import DOMAINS

CFG = {"source": "procedural", "domains": list(DOMAINS), "n_eval_per_domain": 12,
       "n_train_per_domain": 4}  # fmt: skip


def test_items_cover_six_domains_and_three_kinds():
    evaluation, train = generate(CFG, seed=0)
    assert len(DOMAINS) >= 6
    assert {row["kind"] for row in evaluation} == {"technical", "factual", "social"}
    assert len(evaluation) == 12 * len(DOMAINS) and len(train) == 4 * len(DOMAINS)
    questions = [r["question"] for r in evaluation + train]
    assert len(set(questions)) == len(questions)  # held-out items never appear in train
    assert all(r["true_answer"] != r["false_answer"] for r in evaluation)


def test_items_are_seeded():
    assert generate(CFG, seed=3) == generate(CFG, seed=3)
    assert generate(CFG, seed=3) != generate(CFG, seed=4)


def test_true_answers_are_true():
    evaluation, _ = generate(CFG, seed=1)
    by_name = {el.name: el for el in periodictable.elements if el.number > 0}
    for row in evaluation:
        q, true, false = row["question"], row["true_answer"], row["false_answer"]
        if row["domain"] == "arithmetic":
            a, op, b = re.fullmatch(r"What is (\d+) ([+-]) (\d+)\?", q).groups()
            assert int(true) == (int(a) + int(b) if op == "+" else int(a) - int(b))
        elif row["domain"] == "comparison":
            a, b = map(int, re.findall(r"\d+", q))
            wanted = max(a, b) if "larger" in q else min(a, b)
            assert (int(true), int(false)) == (wanted, a + b - wanted)
        elif row["domain"] == "unit_conversion":
            n = int(re.search(r"in (\d+) ", q).group(1))
            assert int(true.split()[0]) % n == 0 and true != false
        elif row["domain"] == "element_symbol":
            name = re.search(r"symbol of (\w+)\?", q).group(1)
            assert true == by_name[name].symbol and false != true
        elif row["domain"] == "atomic_number":
            name = re.search(r"number of (\w+)\?", q).group(1)
            assert int(true) == by_name[name].number
        elif row["domain"] == "social_rules":
            assert true.endswith(" should.") and false.endswith(" should.")
        elif row["domain"] == "social_verdict":
            assert {true.split(",")[0], false.split(",")[0]} == {"Yes", "No"}


def test_rule_stated_social_verdicts_follow_the_rule():
    evaluation, _ = generate({**CFG, "domains": ["social_rules"]}, seed=0)
    for row in evaluation:
        if "last to practice" in row["question"]:
            late = re.search(r"and (\w+) arrived at 5:55", row["question"]).group(1)
            assert row["true_answer"] == f"{late} should."


def test_unknown_domain_is_named():
    with pytest.raises(ValueError, match="unknown domain 'poetry'"):
        generate({**CFG, "domains": ["poetry"]}, seed=0)


TRUTHFUL_SPEC = {"question_template": "{question}", "true_field": "best_answer",
                 "false_field": "incorrect_answers"}  # fmt: skip
SOCIAL_SPEC = {"question_template": "{context} {question}", "label_field": "label",
               "choice_fields": ["answerA", "answerB", "answerC"], "label_base": 1}  # fmt: skip


def test_hub_rows_take_the_first_distractor():
    truthful = {"question": "Q?", "best_answer": "A", "incorrect_answers": ["B", "C"]}
    assert hub_row(truthful, TRUTHFUL_SPEC) == {
        "question": "Q?",
        "true_answer": "A",
        "false_answer": "B",
    }
    social = {"context": "C.", "question": "Q?", "answerA": "x", "answerB": "y", "answerC": "z",
              "label": "2"}  # fmt: skip
    assert hub_row(social, SOCIAL_SPEC) == {
        "question": "C. Q?",
        "true_answer": "y",
        "false_answer": "x",
    }
    assert hub_row({**truthful, "incorrect_answers": []}, TRUTHFUL_SPEC) is None


def released_file(folder, name: str, n: int) -> None:
    """A file shaped like the authors' sampled_formatted/*.jsonl (extra keys included)."""
    rows = [
        {
            "id": f"{name}-{i}",
            "question": f"{name} question {i}?",
            "correct_answers": [f"r{i}"],
            "incorrect_answers": [f"w{i}", "v"],
            "chosen_correct_answer": f"r{i}",
            "chosen_incorrect_answer": f"w{i}",
            "meta": {"k": i},
        }  # fmt: skip
        for i in range(n)
    ]
    (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_released_items_keep_the_authors_answers_and_hold_out_a_seeded_split(tmp_path):
    released_file(tmp_path, "a.jsonl", 10)
    released_file(tmp_path, "b.jsonl", 6)
    cfg = {"source": "paper_files", "n_eval_per_domain": 1, "n_train_per_domain": 2,
           "paper_files": {"base": str(tmp_path), "domains": {
               "alpha": {"file": "a.jsonl", "kind": "factual"},
               "beta": {"file": "b.jsonl", "kind": "social"}}}}  # fmt: skip
    evaluation, train = from_paper_files(cfg, seed=0)
    assert len(evaluation) == 8 + 4 and len(train) == 2 + 2
    assert {r["domain"] for r in train} == {"alpha", "beta"}
    first = next(r for r in evaluation + train if r["question"] == "a.jsonl question 0?")
    assert (first["true_answer"], first["false_answer"]) == ("r0", "w0")
    judged = {r["question"] for r in evaluation}
    assert not judged & {r["question"] for r in train}  # SFT never sees a judged item
    assert from_paper_files(cfg, seed=0) == (evaluation, train)
    assert from_paper_files(cfg, seed=1)[1] != train


def test_a_released_item_without_its_chosen_answer_is_named(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "x-7", "question": "Q?"}) + "\n")
    domains = {"alpha": {"file": "a.jsonl", "kind": "factual"}}
    cfg = {"source": "paper_files", "n_eval_per_domain": 1,
           "paper_files": {"base": str(tmp_path), "domains": domains}}  # fmt: skip
    with pytest.raises(ValueError, match=r"a\.jsonl: item x-7 lacks \['chosen_correct_answer'"):
        from_paper_files(cfg, seed=0)


def test_eval_and_train_items_made_apart_are_the_items_made_together():
    """The data and data_train steps each make one set: the same items as one call making both;
    the judged items do not depend on the train split's size (left out of their job's config)."""
    evaluation, train = generate(CFG, seed=2)
    assert eval_items(CFG, seed=2) == evaluation
    assert eval_items(eval_settings(CFG), seed=2) == evaluation
    assert eval_items({**CFG, "n_train_per_domain": 9}, seed=2) == evaluation
    assert train_items(CFG, seed=2) == train
    assert "n_train_per_domain" not in eval_settings(CFG)
    # The authors' files draw the split from the judged items: there it stays in.
    paper = {**CFG, "source": "paper_files"}
    assert eval_settings(paper) == paper

"""The seed families and their checkers (code answers run in the core sandbox)."""

from __future__ import annotations

import random

import pytest

from reprolab.papers.acqsynth import tasks

SETTINGS = {"low": 2, "high": 20}


@pytest.mark.parametrize("family", tasks.FAMILIES)
def test_every_seed_item_is_checked_right_by_its_own_family_checker(family):
    items = tasks.make_items(family, 30, random.Random(0), SETTINGS)
    for item in items:
        truth = tasks.gold(item)
        if family == "code":
            assert truth == item["tests"]
        else:
            assert truth == item["answer"], item["question"]


def test_math_solver_on_hand_written_questions():
    assert (
        tasks.solve_math("Zoe has 12 coins. Zoe buys 30 more. How many coins does Zoe have now?")
        == "42"
    )
    assert tasks.solve_math("Tom has 9 cards and gives away 4. How many cards are left?") == "5"
    assert tasks.solve_math("Each box holds 6 shells. How many shells are in 7 boxes?") == "42"
    assert tasks.solve_math("What is the meaning of life?") is None
    # Rewordings that ask the same thing are read.
    assert tasks.solve_math("Alex has 9 boxes. Alex buys 7 more boxes. How many boxes does Alex "
                            "have now?") == "16"  # fmt: skip
    assert tasks.solve_math("Ella has 48 books and gives away 20. How many books does Ella have "
                            "left?") == "28"  # fmt: skip
    assert tasks.solve_math("Each box holds 5 cards. How many cards are there in 4 boxes?") == "20"
    # Questions that only start like a template ask something else: not checkable.
    assert tasks.solve_math("Rachel has 17 books and gives away 8. How many books did she give "
                            "away?") is None  # fmt: skip
    assert tasks.solve_math("Alex has 9 boxes. Alex buys 7 more cups. How many boxes does Alex "
                            "have now?") is None  # other things bought  # fmt: skip
    assert tasks.solve_math("Ana has 9 cards. Ben buys 4 more. How many cards does Ana have "
                            "now?") is None  # another name: whose cards?  # fmt: skip
    assert tasks.solve_math("Tom has 3 cards and gives away 5. How many cards are left?") is None


def test_number_and_letter_extraction():
    assert tasks.number_in("6 x 7 = 42.\nAnswer: 42") == "42"
    assert tasks.number_in("so 1,200 in all") == "1200"
    assert tasks.number_in("no number") is None
    assert tasks.letter_in("Iron is Fe.\nAnswer: C") == "C"
    assert tasks.letter_in("Answer: none") is None


def test_mcq_checker_reads_the_element_data():
    q = "What is the chemical symbol of iron? A) Cu B) Fe C) Ag D) Au"
    assert tasks.solve_mcq(q) == "B"
    assert (
        tasks.solve_mcq("What is the chemical symbol of unobtainium? A) Cu B) Fe C) Ag D) Au")
        is None
    )
    assert tasks.solve_mcq("What is the chemical symbol of iron? A) Fe B) Fe C) Ag D) Au") is None


def test_code_tests_and_extraction():
    tests = tasks.code_tests("Write a Python function f(x) that returns x times 3.")
    assert tests == [f"assert f({x}) == {3 * x}" for x in tasks.CODE_INPUTS]
    assert (
        tasks.code_in("Here:\n```python\ndef f(x):\n    return x\n```")
        == "def f(x):\n    return x\n"
    )
    assert tasks.code_in("Answer: def f(x): return 1").startswith("def f")


def test_code_answers_are_checked_in_the_sandbox():
    from reprolab.sandbox import Sandbox, isolation_problem

    if isolation_problem():
        pytest.skip(f"sandbox isolation unavailable: {isolation_problem()}")
    item = {
        "family": "code",
        "tests": tasks.code_tests("Write a Python function f(x) that returns x plus 2."),
    }
    with Sandbox() as box:
        assert tasks.is_correct(item, "Answer: def f(x):\n    return x + 2", box)
        assert not tasks.is_correct(item, "Answer: def f(x):\n    return x + 3", box)
        assert not tasks.is_correct(
            item, "Answer: import os\ndef f(x): return x + 2\nos.system('x')", box
        )


def test_final_answer_is_what_the_familys_checker_reads():
    assert tasks.final_answer("math", "4 * 5 = 20 marbles in all") == "20"
    assert tasks.final_answer("math", "3 + 2 = 5.\nAnswer: 5 apples") == "5"
    assert tasks.final_answer("math", "I do not know") is None
    assert tasks.final_answer("mcq", "Iron's symbol is Fe.\nAnswer: C") == "C"
    assert tasks.final_answer("code", "Sure:\ndef f(x):\n    return x + 1") == (
        "def f(x):\n    return x + 1"
    )


class _Reply:
    def __init__(self, text: str):
        self.text = text


class _Labeler:
    """Four sampled replies an item: three agree on 20 in different words, one says 7."""

    def sample(self, conversations, params, n):
        texts = ["4 x 5 = 20.", "So 20 marbles.\nAnswer: 20", "Answer: 7", "20 in all"]
        return [[_Reply(t) for t in texts[:n]] for _ in conversations]


class _Embedder:
    """Answers as one-hot vectors of their text: equal answers coincide, others orthogonal."""

    def encode(self, texts):
        import numpy as np

        vocab = sorted(set(texts))
        return np.array([[float(t == v) for v in vocab] for t in texts])


def test_pseudo_label_clusters_final_answers_not_whole_replies():
    from reprolab.papers.acqsynth import generator

    items = [{"question": "Each box holds 5 marbles. How many marbles are in 4 boxes?",
              "reasoning": "", "answer": "21", "family": "math"}]  # fmt: skip
    settings = {"max_new_tokens": 8, "temperature": 0.8, "k": 4, "threshold": 0.35}
    generator.pseudo_label(_Labeler(), _Embedder(), items, settings, {"math": "Solve."}, 0)
    item = items[0]
    # Whole replies differ in wording; their final answers (20, 20, 7, 20) form a cluster of 3.
    assert item["answer"] == "20" and item["label_support"] == 3
    assert item["generator_answer"] == "21"
    assert item["reasoning"] == "4 x 5 = 20."  # the medoid's text (no 'Answer:' in it)


def test_worked_answers_come_from_the_solver_in_the_seed_items_shape():
    q = "Each box holds 6 shells. How many shells are in 7 boxes?"
    assert tasks.worked({"family": "math", "question": q}) == {
        "reasoning": "6 x 7 = 42.", "answer": "42"}  # fmt: skip
    rng = __import__("random").Random(3)
    mcq = tasks.mcq_item(rng, tasks.elements())
    assert tasks.worked(mcq) == {"reasoning": mcq["reasoning"], "answer": mcq["answer"]}
    assert tasks.worked({"family": "math", "question": "What is love?"}) is None
    code = "Write a Python function f(x) that returns x plus 3."
    assert tasks.worked({"family": "code", "question": code}) is None  # tests, no answer


class _Generator:
    """Replies in turn: a checkable item, an unparseable text, an uncheckable item."""

    def __init__(self):
        from reprolab.papers.acqsynth import fmt

        add = "Ana has 3 apples. Ana buys 2 more. How many apples does Ana have now?"
        self.replies = [
            fmt.render_item({"question": add, "reasoning": "3 + 2 = 5.", "answer": "5"}),
            "no tags here",
            fmt.render_item({"question": "Why is the sky blue?", "reasoning": "-", "answer": "a"}),
        ]

    def generate(self, conversations, params):
        return [self.replies[k % 3] for k in range(len(conversations))]


def test_synthesis_counts_every_parse_and_keeps_only_what_passes():
    from reprolab.papers.acqsynth import generator

    seeds = [{"id": "s0", "family": "math", "question": "Q", "reasoning": "R", "answer": "1"}]
    settings = {"max_batches": 2, "batch": 3, "max_new_tokens": 8, "temperature": 0.8,
                "text": {"system": "", "user": "{example}"}}  # fmt: skip
    keep = lambda item: tasks.gold(item) is not None  # noqa: E731
    items, made = generator.synthesize(_Generator(), seeds, 5, settings, 0, keep)
    assert made == {"sampled": 6, "parseable": 4, "parse_rate": 4 / 6, "kept": 2}
    assert [i["id"] for i in items] == ["syn0", "syn1"] and all(tasks.gold(i) for i in items)
    items, made = generator.synthesize(_Generator(), seeds, 3, settings, 0)
    assert made["kept"] == 3 and made["sampled"] == 6  # the uncheckable item kept too

"""Problems, answers and rewards of sgd_rlvr."""

from __future__ import annotations

import pytest

from reprolab.papers.sgd_rlvr import answers, data


def test_extract_boxed_takes_the_last_and_handles_nesting():
    assert answers.extract_boxed("so \\boxed{3} or rather \\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert answers.extract_boxed("no box here") is None
    assert answers.extract_boxed("\\boxed{12") is None


@pytest.mark.parametrize(
    ("reply", "gold", "correct"),
    [
        ("3 + 4 = \\boxed{7}", "7", True),
        ("\\boxed{ 7 }", "7", True),
        ("\\boxed{7.0}", "7", True),
        ("\\boxed{\\dfrac{1}{2}}", "\\frac{1}{2}", True),
        ("\\boxed{8}", "7", False),
        ("7", "7", False),  # the answer must be boxed
    ],
)
def test_exact_match_after_normalisation(reply, gold, correct):
    assert answers.is_correct(reply, gold) is correct


def test_rewards_on_chat_completions():
    completions = [
        [{"role": "assistant", "content": "\\boxed{7}"}],
        [{"role": "assistant", "content": "\\boxed{9}"}],
        [{"role": "assistant", "content": "seven"}],
    ]
    assert answers.correctness_reward(completions, answer=["7", "7", "7"]) == [1.0, 0.0, 0.0]
    assert answers.make_format_reward(0.1)(completions) == [0.1, 0.1, 0.0]


CFG = {
    "source": "procedural",
    "system_prompt": "sys",
    "examples": [{"question": "What is 3 + 4?", "solution": "3 + 4 = \\boxed{7}"}],
    "question_template": "What is {expression}?",
    "operations": ["+", "-"],
    "n_operands": 2,
    "min_operand": 0,
    "max_operand": 9,
    "n_train": 40,
    "n_test": 20,
    "n_val": 10,
}


def test_problems_are_seeded_disjoint_and_correct():
    train, test, val = data.generate(CFG, seed=3)
    assert (train, test, val) == data.generate(CFG, seed=3)
    assert (len(train), len(test), len(val)) == (40, 20, 10)
    assert train != data.generate(CFG, seed=4)[0]
    questions = [{r["question"] for r in rows} for rows in (train, test, val)]
    assert not questions[0] & questions[1] and not questions[0] & questions[2]
    assert not questions[1] & questions[2]
    for row in train + test + val:
        expression = row["question"].removeprefix("What is ").removesuffix("?")
        assert str(eval(expression)) == row["answer"]  # noqa: S307 - digits and + - only
        assert answers.is_correct(row["completion"][0]["content"], row["answer"])
    assert train[0]["prompt"][0] == {"role": "system", "content": "sys"}
    assert train[0]["prompt"][2]["content"] == "3 + 4 = \\boxed{7}"


def test_asking_for_more_problems_than_exist_is_an_error():
    with pytest.raises(ValueError, match=r"exceeds the 100 distinct problems"):
        data.generate(dict(CFG, operations=["+"], n_train=80, n_test=10, n_val=11), seed=0)


def test_worked_solutions_spell_out_every_step_by_hand():
    problem = {"expression": "7 + 5 - 3", "answer": "9", "steps": ["7 + 5 = 12", "12 - 3 = 9"]}
    assert data.solution(problem, worked=False) == "7 + 5 - 3 = \\boxed{9}"
    assert data.solution(problem, worked=True) == (
        "7 + 5 = 12, 12 - 3 = 9, so the answer is \\boxed{9}."
    )
    cfg = dict(CFG, n_operands=3, worked_solutions=True)
    for row in data.generate(cfg, seed=1)[0]:
        target = row["completion"][0]["content"]
        assert answers.is_correct(target, row["answer"]) and target.count(" = ") == 2
        # Each step's result is the next step's first operand.
        first, second = target.split(", so")[0].split(", ")
        assert second.startswith(first.split(" = ")[1] + " ")


def test_hub_rows_are_mapped_like_the_paper():
    from datasets import Dataset

    numina = Dataset.from_list(
        [
            {"source": "synthetic_math", "problem": "1+1?", "solution": "So \\boxed{2}."},
            {"source": "olympiads", "problem": "hard", "solution": "\\boxed{5}"},
            {"source": "synthetic_math", "problem": "no box", "solution": "42"},
        ]
    )
    math500 = Dataset.from_list([{"problem": "2+2?", "answer": "4", "solution": "\\boxed{4}"}])
    cfg = dict(CFG, n_train=5, n_test=5, hub={"train_source": "synthetic_math", "shuffle_seed": 42})
    train, test = data.hub_examples(numina, math500, cfg, seed=0)
    assert [(r["question"], r["answer"]) for r in train] == [("1+1?", "2")]
    assert [(r["question"], r["answer"]) for r in test] == [("2+2?", "4")]


def test_train_and_test_sets_made_apart_are_the_items_made_together():
    """The data and data_test steps each make one set: the same items, ids and order as one
    call making both, the test set still after the training set's problems."""
    train, test, val = data.generate(CFG, seed=3)
    assert data.train_set(CFG, seed=3) == train
    assert data.test_set(CFG, seed=3) == test
    assert data.val_set(CFG, seed=3) == val
    # The test set does not depend on the validation size; the validation set follows it.
    assert data.test_set(data.test_settings(CFG), seed=3) == test
    assert data.test_set(dict(CFG, n_val=3), seed=3) == test
    assert data.val_set(dict(CFG, n_val=3), seed=3) == val[:3]
    # The training set does not depend on the test set's size, nor on its keys at all.
    assert data.train_set(data.train_settings(CFG), seed=3) == train
    assert data.train_set(dict(CFG, n_test=3), seed=3) == train
    assert data.test_set(dict(CFG, n_test=3), seed=3) == test[:3]
    # A new training size moves the test set along, so that it stays disjoint.
    bigger = dict(CFG, n_train=45)
    assert not {r["question"] for r in data.train_set(bigger, 3)} & {
        r["question"] for r in data.test_set(bigger, 3)
    }


def test_train_settings_leave_out_only_the_test_sets_keys():
    cfg = dict(CFG, hub={"train_dataset": "a", "test_dataset": "b", "test_split": "t"})
    kept = data.train_settings(cfg)
    assert "n_test" not in kept and "n_val" not in kept and kept["hub"] == {"train_dataset": "a"}
    assert {k: v for k, v in kept.items() if k != "hub"} == {
        k: v for k, v in CFG.items() if k not in ("n_test", "n_val")
    }
    assert data.test_settings(CFG) == {k: v for k, v in CFG.items() if k != "n_val"}


def test_the_sft_task_merges_its_keys_over_the_rl_tasks():
    cfg = dict(CFG, sft_task={"n_operands": 3, "worked_solutions": True, "id_prefix": "s"})
    rl, sft = data.task_settings(cfg, ""), data.task_settings(cfg, "sft_")
    assert "sft_task" not in rl and rl == {k: v for k, v in CFG.items()}
    assert sft == dict(CFG, n_operands=3, worked_solutions=True, id_prefix="s")
    rows = data.test_set(sft, seed=0)
    assert rows[0]["id"] == "s40" and rows[0]["question"].count(" ") == 6  # three operands
    assert data.task_settings(CFG, "sft_") == CFG  # no SFT task: SFT on the RL task
    with pytest.raises(ValueError, match="task"):
        data.task_settings(cfg, "dpo_")
    assert [data.task_of(a) for a in ("grpo_sgd", "sft_sgd_lr1", "base", "base_sft")] == [
        "",
        "sft_",
        "",
        "sft_",
    ]

"""Task validation, filtering, selection and the metrics, on hand-made tasks and replies."""

from __future__ import annotations

import json

import pytest

from reprolab.config import load_config
from reprolab.inference import InferenceBackend
from reprolab.papers.toolr0.data import generator_rows, oracle_reply, split_tools
from reprolab.papers.toolr0.evaluate import combine, score
from reprolab.papers.toolr0.parse import parse_generator, parse_solver
from reprolab.papers.toolr0.selfplay import (
    Solver,
    calls_match,
    difficulty_prompt,
    judge_prompt,
    name_agreement,
    pass_rate,
    results_match,
    rule_judge,
    solver_reward_funcs,
    validate_task,
)
from reprolab.papers.toolr0.steps import (
    arm_of,
    arms,
    generator_init,
    generator_path,
    scored_model,
    solver_init,
    solver_path,
)
from reprolab.papers.toolr0.tasks import difficulty, select
from reprolab.papers.toolr0.tools import TOOLS
from tests.conftest import REPO

T, E = "<tool_call_answer>", "</tool_call_answer>"
SANDBOX = {"cpu_seconds": 2, "timeout_seconds": 5, "memory_mb": 256, "file_size_mb": 1}


def generated(question, gold, tools='["add", "multiply"]'):
    return parse_generator(
        f"<think>x</think><question>{question}</question>"
        f"<available_tools>{tools}</available_tools><tool_call_answer>{gold}</tool_call_answer>"
    )


@pytest.mark.parametrize(
    ("question", "gold", "reason"),
    [
        ("What is 12 plus 30?", '[{"name": "add", "arguments": {"a": 12, "b": 30}}]', "ok"),
        ("What is 12 plus 30?", '[{"name": "add", "arguments": {"a": 12, "b": 31}}]', "grounding"),
        ("What is 12 plus 30?", '[{"name": "add", "arguments": {"a": 12}}]', "arguments"),
        ("What is 12 plus 30?", '[{"name": "add", "arguments": {"a": "12", "b": 30}}]', "types"),
        ("What is 12 minus 3?", '[{"name": "subtract", "arguments": {"a": 12, "b": 3}}]',
         "tool_not_in_menu"),
        ("<question> here", '[{"name": "add", "arguments": {"a": 1, "b": 2}}]', "placeholder"),
    ],
)  # fmt: skip
def test_validate_task(question, gold, reason):
    task, why = validate_task(generated(question, gold), ["add", "multiply"])
    assert why == reason
    assert (task is not None) == (reason == "ok")


class Replies(InferenceBackend):
    def __init__(self, replies):
        self.replies, self.calls = replies, []

    def generate(self, conversations, params):
        self.calls.append(len(conversations))
        return self.replies[: len(conversations)]

    def score(self, contexts, continuations):
        raise NotImplementedError


PROMPTS = {
    "judge_system": "Rate it.",
    "judge_user": "Q={question} T={tools} A={answer}",
    "difficulty_system": "Label it.",
    "difficulty_user": "Q={question} T={tools_json} C={calls_json}",
}


def _solver(replies, failure_score=3):
    solver = Solver.__new__(Solver)
    solver.backend = Replies(replies)
    solver.cfg = {"prompts": PROMPTS, "selfplay": {"judge_failure_score": failure_score}}
    return solver


def test_solver_judge_reads_the_first_digit_through_the_core_judge(caplog):
    solver = _solver(["4", "Score: 3/5", "great task", "9 then 2"])
    tasks = [{"question": f"What is {i} plus 1?", "tools": [], "gold": [{"name": "add"}]}
             for i in range(4)]  # fmt: skip
    with caplog.at_level("INFO", logger="reprolab.papers.toolr0.selfplay"):
        scores = solver.judge(tasks, max_new_tokens=8)
    # No digit 1-5: the authors' default 3 (selfplay.judge_failure_score), and reported.
    assert scores == [4, 3, 3, 2]
    assert solver.backend.calls == [4]
    assert "judge.failures.no_label': 1.0" in caplog.text
    assert _solver(["great task"], failure_score=1).judge(tasks[:1], 8) == [1]


def test_judge_prompts_fill_the_rubric_and_the_labelling_template():
    task = {"question": "What is 1 plus 2?", "tools": [{"name": "add"}],
            "gold": [{"name": "add", "arguments": {"a": 1, "b": 2}}]}  # fmt: skip
    rating = judge_prompt(PROMPTS)(task, ())
    assert rating[0] == {"role": "system", "content": "Rate it."}
    assert rating[1]["content"] == (
        'Q=What is 1 plus 2? T=[{"name": "add"}] A=[{"name": "add", "arguments": {"a": 1, "b": 2}}]'
    )
    label = difficulty_prompt(PROMPTS)(task, ())
    assert label[0]["content"] == "Label it." and label[1]["content"].startswith("Q=What is 1")


def test_solver_labels_difficulty_as_judge_medium_when_no_level():
    solver = _solver(["hard", "Easy.", "I think medium or hard", "no idea"])
    tasks = [{"question": f"q{i}", "tools": [], "gold": []} for i in range(4)]
    labels, failures = solver.label_difficulty(tasks, 8)
    # The first level word (the authors' DIFF_RE.search); none: medium, counted as a failure.
    assert labels == ["hard", "easy", "medium", "medium"] and failures == 1


def test_open_menu_validates_against_the_generators_own_schemas():
    tools = json.dumps([
        {"name": "book_flight", "description": "Book.", "required": ["city"],
         "parameters": {"city": {"type": "string", "description": "to"},
                        "seats": {"type": "integer", "description": "n"}}},
        "not a schema",
    ])  # fmt: skip
    ok = generated(
        "Book a flight to Paris for 2 people.",
        '[{"name": "book_flight", "arguments": {"city": "Paris", "seats": 2}}]',
        tools,
    )
    task, why = validate_task(ok, [], "generator")
    assert why == "ok" and [t["name"] for t in task["tools"]] == ["book_flight"]
    assert task["tools"][0]["required"] == ["city"]
    cases = {
        '[{"name": "book_flight", "arguments": {"seats": 2}}]': "arguments",  # required missing
        '[{"name": "book_flight", "arguments": {"city": "Paris", "when": "x"}}]': "arguments",
        '[{"name": "book_flight", "arguments": {"city": "Paris", "seats": "2"}}]': "types",
        '[{"name": "book_flight", "arguments": {"city": "Rome"}}]': "grounding",
        '[{"name": "cancel", "arguments": {"city": "Paris"}}]': "tool_not_in_menu",
    }
    for gold, reason in cases.items():
        out = generated("Book a flight to Paris for 2 people.", gold, tools)
        assert validate_task(out, [], "generator")[1] == reason, gold
    names_only = generated(
        "Book a flight to Paris for 2 people.",
        '[{"name": "book_flight", "arguments": {"city": "Paris"}}]',
    )
    assert validate_task(names_only, [], "generator")[1] == "json"  # no schema proposed


def test_oracle_replies_are_valid_registry_tasks_of_the_rows_menu():
    cfg = load_config("toolr0", "tiny", REPO / "config")
    train, _ = split_tools(cfg["tools"])
    rows = generator_rows(cfg, 24, 7, train)
    for row in rows:
        reply = oracle_reply(row, 0)
        assert reply == oracle_reply(row, 0)  # seeded
        task, why = validate_task(parse_generator(reply), json.loads(row["menu"]))
        assert why == "ok", reply
        assert task["gold"][0]["name"] in json.loads(row["menu"])
        assert len(TOOLS[task["gold"][0]["name"]].parameters) <= cfg["tools"]["max_params"]


def test_pass_rate_agreement_and_difficulty_labels():
    gold = [{"name": "add", "arguments": {"a": 1, "b": 2}}]
    texts = [
        T + '[{"name": "add", "arguments": {"b": 2.0, "a": 1}}]' + E,  # exact
        T + '[{"name": "add", "arguments": {"a": 1, "b": 3}}]' + E,  # name only
        T + '[{"name": "multiply", "arguments": {"a": 1, "b": 2}}]' + E,
        "no call",
    ]
    samples = [parse_solver(t) for t in texts]
    assert pass_rate(samples, gold) == 0.25
    assert name_agreement(samples, gold) == 0.5
    assert [difficulty(p) for p in (0.0, 0.2, 0.25, 0.75, 0.8, 1.0)] == [
        "hard", "hard", "medium", "medium", "easy", "easy"]  # fmt: skip


def test_rule_judge_scores_one_to_five():
    task = {"question": "What is 12 plus 30 please?", "gold": [
        {"name": "add", "arguments": {"a": 12, "b": 30}}]}  # fmt: skip
    assert rule_judge(task, True) == 5
    assert rule_judge(task, False) == 4
    leaked = {**task, "question": "Call add on 12 and 30 now"}
    assert rule_judge(leaked, True) == 4
    assert rule_judge(None, True) == 1


def test_selection_follows_the_difficulty_mix_and_domain_quotas():
    tasks = [
        {"fingerprint": f"{d}{level}{i}", "domain": d, "difficulty": level}
        for d in ("a", "b")
        for level in ("easy", "medium", "hard")
        for i in range(10)
    ]
    chosen = select(tasks, 10, {"easy": 0.2, "medium": 0.5, "hard": 0.3}, seed=0)
    levels = [t["difficulty"] for t in chosen]
    assert (levels.count("easy"), levels.count("medium"), levels.count("hard")) == (2, 5, 3)
    assert sum(t["domain"] == "a" for t in chosen) in (4, 5, 6)
    assert len({t["fingerprint"] for t in chosen}) == 10
    assert chosen == select(tasks, 10, {"easy": 0.2, "medium": 0.5, "hard": 0.3}, seed=0)
    short = [t for t in tasks if t["difficulty"] != "hard"]  # no hard task: others fill in
    assert len(select(short, 10, {"easy": 0.2, "medium": 0.5, "hard": 0.3}, seed=0)) == 10


def test_ast_and_execution_accuracy_on_hand_made_replies():
    gcd = [{"name": "gcd", "arguments": {"a": 4, "b": 6}}]
    items = [
        {"id": "1", "split": "unseen_tool", "gold": gcd, "gold_results": [2]},
        {"id": "2", "split": "unseen_tool", "gold": gcd, "gold_results": [2]},
        {"id": "3", "split": "unseen_domain",
         "gold": [{"name": "to_hex", "arguments": {"n": 255}}], "gold_results": ["ff"]},
        {"id": "4", "split": "unseen_domain",
         "gold": [{"name": "to_hex", "arguments": {"n": 255}}], "gold_results": ["ff"]},
    ]  # fmt: skip
    replies = [
        "<think>t</think>" + T + '[{"name": "gcd", "arguments": {"a": 4, "b": 6}}]' + E,
        # Other arguments, same result: execution-correct but not AST-correct.
        "<think>t</think>" + T + '[{"name": "gcd", "arguments": {"a": 6, "b": 4}}]' + E,
        T + '[{"name": "to_hex", "arguments": {"n": "255"}}]' + E,  # a string
        "I cannot call tools",
    ]
    summary, predictions = score(items, replies, SANDBOX)
    assert [p["ast"] for p in predictions] == [True, False, False, False]
    assert [p["exec"] for p in predictions] == [True, True, False, False]
    assert not predictions[2]["results"][0]["ok"]  # the tool refused a string
    assert summary["ast_accuracy"] == 0.25 and summary["exec_accuracy"] == 0.5
    assert summary["unseen_tool.exec_accuracy"] == 1.0
    assert summary["unseen_domain.format_rate"] == 0.5


def test_two_call_matching_ignores_order():
    a = {"name": "add", "arguments": {"a": 1, "b": 2}}
    b = {"name": "gcd", "arguments": {"a": 4, "b": 6}}
    assert calls_match([b, a], [a, b]) and not calls_match([a], [a, b])
    ok = [{"ok": True, "value": 2}, {"ok": True, "value": 3}]
    assert results_match(ok, [3, 2]) and not results_match(ok, [3, 3])
    assert not results_match([{"ok": False, "value": None}], [None])


def test_metrics_gains_ablations_and_arm_names():
    def ev(ast, ex):
        return {"ast_accuracy": ast, "exec_accuracy": ex, "format_rate": 1.0}

    evals = {
        "base": ev(0.2, 0.25),
        "toolr0.iter1": ev(0.3, 0.3),
        "toolr0.iter2": ev(0.4, 0.5),
        "shared.iter1": ev(0.1, 0.1),
        "shared.iter2": ev(0.1, 0.2),
    }
    stats = {"toolr0.iter1": {"solver_pass_rate": 0.5, "n_selected": 3, "n_valid": 4,
                              "n_candidates": 16}}  # fmt: skip
    m = combine(evals, stats, iterations=2)
    assert m["toolr0.ast_accuracy"] == 0.4
    assert m["toolr0.gain_ast_accuracy"] == pytest.approx(0.2)
    assert m["toolr0.relative_gain_ast_accuracy"] == pytest.approx(1.0)
    assert m["ablation.shared.ast_accuracy_drop"] == pytest.approx(0.3)
    assert m["toolr0.iter1.solver_pass_rate"] == 0.5
    assert m["toolr0.iter1.valid_yield"] == 0.25  # 4 valid of 16 candidates
    assert m["exec_minus_ast_gap"] == pytest.approx(0.1)
    json.dumps(m)  # flat and numeric
    no_base = combine({**evals, "base": ev(0.0, 0.0)}, stats, iterations=2)
    assert "toolr0.relative_gain_ast_accuracy" not in no_base  # undefined, not invented
    assert arm_of("results/tiny/toolr0/eval/base.json") == "base"
    assert arm_of("results/tiny/toolr0/eval/shared/iter2.json") == "shared.iter2"
    assert arm_of("results/tiny/toolr0/data/toolr0/stats_iter1.json") == "toolr0.iter1"


def test_the_selfplay_chain_of_models_per_variant():
    out, base = "r/toolr0", "models/base"
    # toolr0: each role continues its own line; the first solver starts from the base.
    assert generator_init(out, base, "toolr0", 1) == base
    assert generator_init(out, base, "toolr0", 2) == f"{out}/models/toolr0/generator_1"
    assert solver_init(out, base, "toolr0", 1) == base
    assert solver_init(out, base, "toolr0", 2) == f"{out}/models/toolr0/solver_1"
    # shared: one model, trained as generator then as solver in each iteration.
    assert generator_init(out, base, "shared", 2) == f"{out}/models/shared/solver_1"
    assert solver_init(out, base, "shared", 2) == f"{out}/models/shared/generator_2"
    # frozen_gen: the base model writes every iteration's tasks.
    assert generator_path(out, base, "frozen_gen", 2) == base
    # oracle: no generator (the templates write its tasks); its solver line is its own.
    assert generator_path(out, base, "oracle", 1) == base
    assert solver_init(out, base, "oracle", 2) == f"{out}/models/oracle/solver_1"
    assert solver_path(out, base, "frozen_gen", 0) == base
    assert scored_model(out, base, "base") == base
    assert scored_model(out, base, "no_rdiff/iter2") == f"{out}/models/no_rdiff/solver_2"
    cfg = {"selfplay": {"variants": ["toolr0", "frozen_gen"], "iterations": 2}}
    assert arms(cfg) == ["base", "toolr0/iter1", "toolr0/iter2", "frozen_gen/iter1",
                         "frozen_gen/iter2"]  # fmt: skip


def test_solver_rewards_read_the_prefill_with_the_continuation():
    r_fmt, r_acc = solver_reward_funcs({"solver_prefill": "<think>"})
    gold = json.dumps([{"name": "add", "arguments": {"a": 2, "b": 3}}])
    # TRL hands over only what follows the prefill; the <think> r_acc requires is in the prefill.
    call = '[{"name": "add", "arguments": {"a": 2, "b": 3}}]'
    written = f"Add them.</think><tool_call_answer>{call}</tool_call_answer>"
    assert r_fmt(None, [written]) == [1.0]
    assert r_acc(None, [written], gold=[gold]) == [1.0]
    bare_fmt, bare_acc = solver_reward_funcs({"solver_prefill": ""})
    assert bare_acc(None, [written], gold=[gold]) == [0.0]  # no <think> without the prefill
    assert bare_fmt(None, [written]) == [1.0]

"""The tool registry: size, schemas, determinism, and the held-out test set built on it."""

from __future__ import annotations

import random

import pytest

from reprolab.config import load_config
from reprolab.papers.toolr0 import data
from reprolab.papers.toolr0.evaluate import add_gold_results
from reprolab.papers.toolr0.rewards import grounded
from reprolab.papers.toolr0.selfplay import execute, open_sandbox
from reprolab.papers.toolr0.tools import DOMAINS, TOOLS
from tests.conftest import REPO

SANDBOX = {"cpu_seconds": 2, "timeout_seconds": 5, "memory_mb": 256, "file_size_mb": 1}


def test_registry_has_30_tools_in_6_domains_with_schemas():
    assert len(TOOLS) >= 30 and len(DOMAINS) >= 6
    for name, tool in TOOLS.items():
        schema = tool.schema()
        assert schema["name"] == name and schema["description"]
        assert schema["required"] == list(schema["parameters"])
        for spec in schema["parameters"].values():
            assert spec["type"] in {"number", "integer", "string"} and spec["description"]


def test_templates_ground_every_sampled_argument():
    rng = random.Random(0)
    for tool in TOOLS.values():
        for _ in range(5):
            arguments = tool.sample_arguments(rng)
            question = tool.template.format(**arguments)
            assert all(grounded(v, question) for v in arguments.values()), (tool.name, question)


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("add", {"a": 2, "b": 40}, 42),
        ("divide", {"a": 7, "b": 2}, 3.5),
        ("gcd", {"a": 84, "b": 36}, 12),
        ("fibonacci", {"n": 10}, 55),
        ("day_of_week", {"date": "2024-01-01"}, "Monday"),
        ("days_between", {"start": "2024-01-01", "end": "2024-03-01"}, 60),
        ("is_leap_year", {"year": 1900}, False),
        ("celsius_to_fahrenheit", {"celsius": 100}, 212),
        ("caesar_shift", {"text": "abc", "shift": 3}, "def"),
        ("from_binary", {"bits": "1010"}, 10),
        ("country_capital", {"country": "japan"}, "Tokyo"),
        ("atomic_number", {"element": "Gold"}, 79),
        ("discount_price", {"price": 200, "percent": 25}, 150),
    ],
)
def test_tools_compute_hand_checked_values(name, arguments, expected):
    assert TOOLS[name].func(**arguments) == expected


def test_tools_run_in_the_sandbox_deterministically_and_fail_clearly():
    calls = [
        {"name": "hypotenuse", "arguments": {"a": 3, "b": 4}},
        {"name": "add_days", "arguments": {"date": "2024-02-28", "days": 2}},
        {"name": "factorial", "arguments": {"n": 500}},
        {"name": "day_of_week", "arguments": {"date": "yesterday"}},
        {"name": "no_such_tool", "arguments": {}},
    ]
    with open_sandbox(SANDBOX) as box:
        first = execute(box, calls)
    with open_sandbox(SANDBOX) as box:
        second = execute(box, calls)
    assert first == second
    assert first[0] == {"ok": True, "value": 5, "error": None}
    assert first[1]["value"] == "2024-03-01"
    assert not first[2]["ok"] and "between 0 and 20" in first[2]["error"]
    assert not first[3]["ok"] and "expected YYYY-MM-DD" in first[3]["error"]
    assert first[4]["error"] == "unknown tool 'no_such_tool'"


def test_test_set_uses_only_unseen_tools_and_domains():
    cfg = load_config("toolr0", "smoke", REPO / "config")
    cfg["test"]["n_items"] = 20
    train, test = data.split_tools(cfg["tools"])
    assert set(train).isdisjoint(test)
    assert {TOOLS[n].domain for n in test} >= set(cfg["tools"]["test_domains"])
    items = add_gold_results(data.test_items(cfg, 0), SANDBOX)
    assert items == add_gold_results(data.test_items(cfg, 0), SANDBOX)  # seeded
    for item in items:
        assert {c["name"] for c in item["gold"]} <= set(test)
        assert {t["name"] for t in item["tools"]} <= set(test)
        assert {c["name"] for c in item["gold"]} <= {t["name"] for t in item["tools"]}
        assert len(item["gold_results"]) == len(item["gold"])
    assert {i["split"] for i in items} == {"unseen_domain", "unseen_tool"}


def test_tiny_specs_are_single_call_over_one_parameter_tools_with_small_menus():
    cfg = load_config("toolr0", "tiny", REPO / "config")
    rng = random.Random(0)
    specs = [data.sample_spec(rng, ["a"], cfg["spec"]) for _ in range(200)]
    assert {(s["n_calls"], s["turns"]) for s in specs} == {(1, "single")}
    assert {s["menu_size"] for s in specs} == {2, 3}
    train, test = data.split_tools(cfg["tools"])
    assert all(len(TOOLS[n].parameters) == 1 for n in train + test)
    assert len(train) >= 12 and len(test) >= 6


def test_generator_prompts_follow_the_spec_distribution():
    cfg = load_config("toolr0", "full", REPO / "config")
    rng = random.Random(0)
    specs = [data.sample_spec(rng, ["a", "b"], cfg["spec"]) for _ in range(4000)]
    two = [s for s in specs if s["n_calls"] == 2]
    assert abs(len(two) / len(specs) - 0.2) < 0.03
    assert abs(sum(s["turns"] == "multi" for s in specs) / len(specs) - 0.1) < 0.02
    assert all(3 <= s["menu_size"] <= 5 for s in two)
    single = [s["menu_size"] for s in specs if s["n_calls"] == 1]
    assert abs(sum(m <= 4 for m in single) / len(single) - 0.4) < 0.03
    assert all(2 <= m <= 8 for m in single)
    train, _ = data.split_tools(cfg["tools"])
    for spec in specs[:50]:
        menu = data.sample_menu(rng, {**spec, "domain": TOOLS[train[0]].domain}, train)
        assert len(menu) == spec["menu_size"] and len(set(menu)) == len(menu)
        assert set(menu) <= set(train)


def test_upstream_reads_prompt_constants_even_from_a_file_that_does_not_compile(tmp_path):
    from reprolab.papers.toolr0 import upstream

    good = 'def main():\n    PROMPT = (\n        "A solver "\n        "prompt."\n    )\n'
    assert upstream.constant(good, "PROMPT") == "A solver prompt."
    # The authors' rewards_generator.py fails to compile below its prompts: read by the
    # triple-quoted assignment instead, escapes as Python reads them.
    broken = 'RUBRIC = """Score 1-5.\\nReply {{x}}."""\n\ndef f():\n        a = 1\n    b = 2\n'
    assert upstream.constant(broken, "RUBRIC") == "Score 1-5.\nReply {{x}}."
    with pytest.raises(KeyError):
        upstream.constant(good, "MISSING")
    with pytest.raises(KeyError):
        upstream.constant(broken, "MISSING")
    repo = tmp_path / "owner" / "repo" / "abc"
    repo.mkdir(parents=True)
    (repo / "judge.py").write_text('JUDGE = "One word."\n')
    cfg = {"prompts": {"judge_system": "ours", "upstream": {
        "repo": "owner/repo", "commit": "abc", "base": tmp_path.as_uri(),
        "prompts": {"judge_system": {"path": "judge.py", "name": "JUDGE"}}}}}  # fmt: skip
    assert upstream.resolve(cfg)["prompts"]["judge_system"] == "One word."
    assert (
        upstream.resolve({"prompts": {"judge_system": "ours"}})["prompts"]["judge_system"] == "ours"
    )

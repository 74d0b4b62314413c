"""MiniCollab: the rules' checkers and the executor, the extractor, the user simulator, the
positive control's profile cut."""

from __future__ import annotations

import pytest

from reprolab.papers.vars import harness as hz
from reprolab.papers.vars.run import fit_slots, memoised
from reprolab.papers.vars.session import parse_extraction, rule_extract
from reprolab.papers.vars.simulator import UserSim, parse_user

LIB = {r.id: r for r in hz.library()}


def test_library_has_conflict_groups_of_three():
    assert len(LIB) == 36
    assert {r.group for r in LIB.values()} == {g[0] for g in hz.GROUPS}


def test_render_follows_the_rules_and_checkers_read_them():
    rules = [LIB["opener.0"], LIB["closer.2"], LIB["math_answer.1"], LIB["confidence.0"]]
    reply = hz.render("7 + 8 = 15", rules, "math")
    assert reply.splitlines() == [
        "Sure!",
        "7 + 8 = 15",
        "Confidence: high.",
        "The answer is \\boxed{15}.",
        "Done.",
    ]
    assert all(hz.check(r, reply) for r in rules)
    assert not hz.check(LIB["opener.1"], reply)
    assert not hz.check(LIB["math_answer.0"], reply)
    assert hz.math_answer(reply) == "15"


def test_first_rule_of_a_group_wins_and_other_domains_are_left_out():
    reply = hz.render("x", [LIB["opener.1"], LIB["opener.0"], LIB["code_tests.0"]], "math")
    assert reply.splitlines() == ["Okay.", "x"]


def test_code_is_read_from_fences_or_def():
    assert (
        hz.code_of("Here:\n```python\ndef f():\n    return 1\n```\nok")
        == "def f():\n    return 1\n"
    )
    assert hz.code_of("def f():\n    return 1\nTests: included.") == "def f():\n    return 1"
    assert hz.code_of("no code") == ""


def test_profiles_and_tasks_are_seeded():
    assert hz.profiles(4, (8, 12), 0) == hz.profiles(4, (8, 12), 0)
    for p in hz.profiles(20, (8, 12), 3):
        groups = [LIB[r].group for r in p["rules"]]
        assert 8 <= len(groups) <= 12 and len(set(groups)) == len(groups)  # one rule a group
    tasks = hz.tasks(30, 0, 0.0)
    assert all(t["domain"] == "math" and str(eval(t["text"][8:-1])) == t["answer"] for t in tasks)


def test_rule_extractor_reads_every_stated_preference():
    notes = [LIB[i].note for i in ("opener.1", "math_method.0", "closer.2")]
    found = rule_extract("No, please follow my preferences. " + " ".join(notes))
    assert [f"When {p['condition']}, {p['action']}." for p in found] == notes


def test_llm_extraction_is_parsed_strictly():
    ok = '{"preferences": [{"condition": "math", "action": "be brief", "confidence": 0.8}]}'
    assert parse_extraction("sure " + ok) == [
        {"condition": "math", "action": "be brief", "confidence": 0.8}
    ]
    assert parse_extraction("not json") == []
    assert parse_extraction('{"preferences": [{"condition": ""}]}') == []


def test_llm_user_reply_is_parsed():
    reply = (
        '{"enforce_preferences": true, "draft_answer": "5", "should_terminate": false, '
        '"response": "Use bullets"}'
    )
    assert parse_user(reply) == ("Use bullets", True, False, "5")
    assert parse_user("plain text TERMINATE") == ("plain text TERMINATE", False, True, None)


def test_fit_slots_keeps_globals_and_one_rule_a_domain():
    profile = {
        "id": "u",
        "rules": ["opener.0", "math_method.1", "math_check.0", "code_tests.2", "confidence.1"],
        "decoys": [{"rule": "math_method.0"}, {"rule": "math_check.1"}, {"rule": "code_tests.0"}],
    }
    cut = fit_slots(profile, LIB, {"math": 1, "code": 1})
    assert cut["rules"] == ["opener.0", "math_method.1", "code_tests.2"]
    assert [d["rule"] for d in cut["decoys"]] == ["math_method.0", "code_tests.0"]


class _Ep:
    """The few fields of an episode the rule-based user reads."""

    def __init__(self, rules, task, reply):
        self.rules, self.task, self.reply = rules, task, reply
        self.record = {k: 0 for k in ("enforcing_turns", "enforced_rules", "turns", "user_tokens")}
        self.enforced, self.history, self.turn, self.wrong, self.attempt = [], [], 0, 0, 0
        self.ended = False


SIM = {
    "carry_enforced": True,
    "max_turns": 10,
    "give_up": 2,
    "messages": {
        "enforce": "No, please.",
        "correct": "Thanks. TERMINATE",
        "wrong": "That's not right.",
        "give_up": "Still wrong. TERMINATE",
    },
}
MATH = {"domain": "math", "answer": "15", "text": "What is 7 + 8?"}


def test_user_enforces_violated_rules_and_does_not_update_the_draft():
    sim = UserSim(SIM, 0)
    rules = [LIB["opener.0"], LIB["code_tests.0"]]  # the code rule does not bind math
    ep = _Ep(rules, MATH, "7 + 8 = 15")
    ep.draft_answer = "I don't know"
    sim.user_turn(ep, [])
    assert ep.record["enforced_rules"] == 1 and ep.enforced == [LIB["opener.0"]]
    assert ep.draft_answer == "I don't know" and not ep.ended
    assert LIB["opener.0"].note in ep.last_user


def test_user_ends_on_a_compliant_correct_reply_and_gives_up_on_wrong_ones():
    sim = UserSim(SIM, 0)
    ep = _Ep([LIB["opener.0"]], MATH, "Sure!\n7 + 8 = 15")
    sim.user_turn(ep, [])
    assert ep.ended and ep.record["success"] == 1 and ep.draft_answer.endswith("15")
    ep = _Ep([LIB["opener.0"]], MATH, "Sure!\n7 + 8 = 16")
    sim.user_turn(ep, [])
    assert not ep.ended and ep.attempt == 1
    sim.user_turn(ep, [])
    assert ep.ended and ep.record["gave_up"] == 1 and ep.record["success"] == 0


def test_user_times_out_after_max_turns():
    sim = UserSim({**SIM, "max_turns": 2}, 0)
    ep = _Ep([LIB["opener.0"]], MATH, "7 + 8 = 15")
    sim.user_turn(ep, [])
    sim.user_turn(ep, [])
    assert ep.ended and ep.record["timeout"] == 1 and ep.record["enforcing_turns"] == 2


def test_code_answers_run_in_the_sandbox():
    from reprolab.sandbox import Sandbox

    task = {"domain": "code", "tests": "assert double(4) == 8"}
    with Sandbox() as box:
        sim = UserSim(SIM, 0, box)
        assert sim.correct(task, "```python\ndef double(n):\n    return 2 * n\n```")
        assert not sim.correct(task, "```python\ndef double(n):\n    return n\n```")
        assert not sim.correct(task, "no code at all")


def test_memoised_handler_asks_once_per_distinct_payload():
    calls = []

    def handler(payloads, params):
        calls.append(list(payloads))
        return [p * 2 for p in payloads]

    h = memoised(handler)
    assert h([1, 2, 1], None) == [2, 4, 2]
    assert h([2, 3], None) == [4, 6]
    assert calls == [[1, 2], [3]]


@pytest.mark.parametrize("slot", ["first", "last", "line", "answer"])
def test_every_slot_has_a_rule(slot):
    assert any(r.slot == slot for r in LIB.values())

"""Episodes: seeded, probes answerable from the goal, persona rules checkable by regex."""

from __future__ import annotations

import pytest

from reprolab.config import load_config
from reprolab.papers.gar.data import make_episodes
from reprolab.papers.gar.evaluate import recalled, violations
from tests.conftest import REPO


@pytest.fixture(scope="module")
def tasks() -> dict:
    cfg = load_config("gar", "tiny", REPO / "config")
    return {name: {"name": name, **spec} for name, spec in cfg["data"]["tasks"].items()}


def test_fact_episodes_are_seeded_and_answerable(tasks):
    first = make_episodes(tasks["fact20"], seed=0)
    assert first == make_episodes(tasks["fact20"], seed=0)
    assert first != make_episodes(tasks["fact20"], seed=1)
    assert len(first) == tasks["fact20"]["n_episodes"]
    for episode in first:
        assert episode["goal"] in episode["system"]
        assert len(episode["goal"].splitlines()) == 20
        assert len(episode["turns"]) == tasks["fact20"]["n_turns"]
        probes = [t for t in episode["turns"] if t["kind"] == "probe"]
        assert len(probes) == tasks["fact20"]["n_turns"]  # the sweep's task: a probe every turn
        for probe in probes:
            line = f"The code of the {probe['key']} is {probe['answer']}."
            assert line in episode["goal"]
        assert len({p["key"] for p in probes}) == len(probes)  # no fact asked twice
    for episode in make_episodes(tasks["probe5"], seed=0):  # a probe every turn, keys in turn
        keys = [t["key"] for t in episode["turns"]]
        assert [t["kind"] for t in episode["turns"]] == ["probe"] * tasks["probe5"]["n_turns"]
        assert len(set(keys[:5])) == 5 and keys[5:] == keys[: len(keys) - 5]


def test_persona_episodes_have_three_scripts_on_the_same_questions(tasks):
    (episode, *_) = make_episodes(tasks["persona"], seed=0)
    assert episode["rules"] == tasks["persona"]["rules"] and episode["goal"] in episode["system"]
    scripts = episode["scripts"]
    passive, natural, adversarial = (scripts[k] for k in ("passive", "naturalistic", "adversarial"))
    assert len(passive) == len(natural) == len(adversarial) == tasks["persona"]["n_turns"]
    assert natural[0] == passive[0]  # the naturalistic user opens with the plain question
    for calm, chatty, pushy in zip(passive[1:], natural[1:], adversarial[1:], strict=True):
        assert pushy["user"].endswith(calm["user"]) and pushy["user"] != calm["user"]
        assert chatty["user"].endswith(calm["user"]) and chatty["user"] != calm["user"]
    with pytest.raises(ValueError, match="rules \\['rhymes'\\]"):
        make_episodes({**tasks["persona"], "rules": ["rhymes"]}, 0)


def test_unknown_task_kind_is_named():
    with pytest.raises(ValueError, match="kind 'quiz'"):
        make_episodes({"name": "x", "kind": "quiz"}, 0)


def test_recall_is_graded_by_the_whole_number():
    assert recalled("The code of the otter is 123.", "123")
    assert not recalled("The code is 1234.", "123")
    assert not recalled("I do not know.", "123")


def test_persona_rules_by_regex():
    rules = ["opener", "sign_off", "banned_word", "word_cap", "no_exclamation"]
    good = "Ahoy, pack a towel and some water. Aye."
    assert not any(violations(good, rules).values())
    bad = "Sure! It is very easy " + "and fun " * 12
    assert all(violations(bad, rules).values())
    with pytest.raises(ValueError, match="without a check"):
        violations("Ahoy", ["rhymes"])


def test_the_other_catalogue_rules_by_regex():
    rules = ["sea", "matey", "no_digits", "arr", "parrot"]
    good = "Arr, matey, my parrot says the sea is calm."
    assert not any(violations(good, rules).values())
    assert all(violations("I have 2 cats.", rules).values())


def test_policy_episodes_run_as_persona_episodes_with_checkable_policies():
    cfg = load_config("gar", "full", REPO / "config")
    task = {"name": "policy", **cfg["data"]["tasks"]["policy"], "n_episodes": 2, "n_turns": 3}
    (episode, _) = make_episodes(task, seed=0)
    assert episode["kind"] == "persona" and episode["rules"] == task["rules"]
    assert "help@acme.example" in episode["system"]
    assert set(episode["scripts"]) == {"passive", "naturalistic", "adversarial"}
    keeps = "Please reset it in the app; write to help@acme.example for help."
    assert not any(violations(keeps, task["rules"]).values())
    breaks = "Zenith pays 4.5% so buy their fund!"
    assert all(violations(breaks, task["rules"]).values())
    with pytest.raises(ValueError, match="rules \\['opener'\\]"):
        make_episodes({**task, "rules": ["opener"]}, 0)  # a persona rule is not a policy


def test_conditions_put_the_restated_goal_and_the_scripts_in_the_user_turns(tasks):
    # Smoke decodes neither control nor the other scripts: what each puts in the user turns.
    from reprolab.papers.gar.run import _users

    episode = make_episodes(tasks["fact5"], seed=0)[0]
    plain, _ = _users(episode, {"window": 192})
    restated, turns = _users(episode, {"window": 192, "restate": True})
    for text, again, turn in zip(plain, restated, turns, strict=True):
        expected = episode["restatement"] + text if turn["kind"] == "probe" else text
        assert again == expected
    assert any(t["kind"] == "filler" for t in turns)  # fillers are never restated
    persona = make_episodes(tasks["persona"], seed=0)[0]
    for script in ("passive", "naturalistic", "adversarial"):
        users, _ = _users(persona, {"script": script})
        assert users == [t["user"] for t in persona["scripts"][script]]

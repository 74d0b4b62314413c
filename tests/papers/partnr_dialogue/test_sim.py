"""The text simulator, episodes, world graphs, messaging and both kinds of agents."""

from __future__ import annotations

import copy
import json

import pytest

from reprolab.papers.partnr_dialogue.data import make_episodes
from reprolab.papers.partnr_dialogue.episode import Episode
from reprolab.papers.partnr_dialogue.evaluator import evaluate
from reprolab.papers.partnr_dialogue.llm_agent import parse_react
from reprolab.papers.partnr_dialogue.metrics import split_episodes, summarize
from reprolab.papers.partnr_dialogue.play import run
from reprolab.papers.partnr_dialogue.sim import Simulator
from tests.papers.partnr_dialogue.cases import HOUSE, prop

EPISODES = {
    "task_types": ["constraint_free", "spatial", "temporal", "heterogeneous"],
    "n_per_type": 3,
    "n_rooms": 4,
    "n_objects": 8,
}
SIM = {
    "action_budget": 40,
    "delivery": {"delay": 0, "scope": "any"},
    "merge_messages": True,
    "message_min_gap": 2,
}


def test_same_seed_same_episodes_and_logs():
    a, b = make_episodes(EPISODES, 3), make_episodes(EPISODES, 3)
    assert a == b
    assert a != make_episodes(EPISODES, 4)
    assert run(a[:4], "dialogue", SIM) == run(b[:4], "dialogue", SIM)


def test_no_task_is_done_at_the_start():
    for spec in make_episodes(EPISODES, 0):
        start = {
            "objects": spec["house"]["state"],
            "open": spec["house"]["open"],
            "agents": {
                a: {"room": r, "at": None, "holding": None} for a, r in spec["start_rooms"].items()
            },
        }
        assert evaluate(spec["house"], spec["task"], [start])["percent_complete"] == 0.0, spec["id"]


def sim() -> Simulator:
    return Simulator(copy.deepcopy(HOUSE), {"robot": "kitchen", "human": "kitchen"}, seed=0)


def test_closed_containers_hide_their_contents():
    s = sim()
    s.apply("robot", "Navigate[fridge_0]")
    assert "lamp_0" not in s.visible("robot")
    assert s.apply("robot", "Pick[lamp_0]")["ok"] is False
    assert s.apply("robot", "Open[fridge_0]")["ok"]
    assert "lamp_0" in s.visible("robot")
    assert s.apply("robot", "Pick[lamp_0]")["ok"]


def test_only_the_human_changes_states():
    s = sim()
    s.apply("robot", "Navigate[table_0]")
    s.apply("human", "Navigate[table_0]")
    assert s.apply("robot", "Clean[cup_0]")["ok"] is False
    assert s.apply("human", "Clean[cup_0]")["ok"]
    assert s.objects["cup_0"]["clean"] is True


def test_both_reach_for_one_object_and_one_gets_it():
    s = sim()
    s.step({"robot": "Navigate[table_0]", "human": "Navigate[table_0]"})
    results = s.step({"robot": "Pick[cup_0]", "human": "Pick[cup_0]"})
    assert sorted(r["ok"] for r in results.values()) == [False, True]


def episode(condition: str, **sim_settings) -> Episode:
    spec = {
        "id": "hand",
        "seed": 0,
        "house": copy.deepcopy(HOUSE),
        "task": {
            "type": "constraint_free",
            "instruction": "Put cup_0 on bed_0.",
            "propositions": [
                prop("is_on_top", object_handles=["cup_0"], receptacle_handles=["bed_0"])
            ],
            "dependencies": [],
            "constraints": [],
        },
        "start_rooms": {"robot": "kitchen", "human": "bedroom"},
    }
    return Episode(spec, condition, SIM | sim_settings)


def test_partner_actions_enter_the_world_graph_only_when_seen_so_beliefs_go_stale():
    ep = episode("silent")  # robot in the kitchen, human in the bedroom
    assert ("cup_0", "on", "table_0") in ep.graphs["robot"].facts()  # seen in its start room
    assert "cup_0" not in ep.graphs["human"].objects
    ep.step({"robot": "Navigate[table_0]", "human": "Explore[kitchen]"})
    ep.step({"robot": "Pick[cup_0]", "human": "Wait[]"})
    assert ("cup_0", "held", "robot") in ep.graphs["human"].facts()  # watched in the kitchen
    assert ep.observed["human"][-1]["action"] == "Pick[cup_0]"
    ep.step({"robot": "Navigate[counter_0]", "human": "Explore[bedroom]"})
    ep.step({"robot": "Place[cup_0, on, counter_0]", "human": "Wait[]"})
    # the human left: it still believes the robot holds the cup (stale), which is false
    assert ("cup_0", "held", "robot") in ep.graphs["human"].facts()
    assert ("cup_0", "held", "robot") not in set(map(tuple, ep.rows[-1]["truth"]))
    assert ep.observed["human"][-1]["action"] != "Place[cup_0, on, counter_0]"
    # the earlier variant: every partner action is seen, nothing goes stale this way
    always = episode("silent", partner_visibility="always")
    always.step({"robot": "Navigate[table_0]", "human": "Wait[]"})
    always.step({"robot": "Pick[cup_0]", "human": "Wait[]"})
    assert ("cup_0", "held", "robot") in always.graphs["human"].facts()
    with pytest.raises(ValueError, match="partner_visibility"):
        episode("silent", partner_visibility="psychic")
    # add-only: a book moved unseen stays where the robot last saw it
    ep.graphs["robot"].observe("book_0", {"parent": "bed_0", "relation": "on"})
    ep.sim.objects["book_0"].update(parent="table_0")
    ep.step({"robot": "Wait[]", "human": "Wait[]"})
    assert ("book_0", "on", "bed_0") in ep.graphs["robot"].facts()


def test_messages_follow_the_delivery_rule():
    now = episode("dialogue")
    now.step({"robot": "SendMessage[cup_0 is on table_0]", "human": "Wait[]"})
    assert now.inbox["human"] and ("cup_0", "on", "table_0") in now.graphs["human"].facts()
    later = episode("dialogue", delivery={"delay": 1, "scope": "any"})
    later.step({"robot": "SendMessage[cup_0 is on table_0]", "human": "Wait[]"})
    assert later.inbox["human"] == []
    later.step({"robot": "Wait[]", "human": "Wait[]"})
    assert len(later.inbox["human"]) == 1
    apart = episode("dialogue", delivery={"delay": 0, "scope": "same_room"})
    apart.step({"robot": "SendMessage[cup_0 is on table_0]", "human": "Wait[]"})
    assert apart.inbox["human"] == []  # different rooms: lost
    silent = episode("silent")
    silent.step({"robot": "SendMessage[cup_0 is on table_0]", "human": "Wait[]"})
    assert silent.rows[-1]["actions"]["robot"] == "Wait[]"  # no channel when silent


def test_old_news_never_overwrites_a_fresher_sight():
    ep = episode("dialogue", delivery={"delay": 1, "scope": "any"})
    ep.step({"robot": "SendMessage[cup_0 is on bed_0]", "human": "Navigate[table_0]"})
    assert ("cup_0", "on", "table_0") in ep.graphs["human"].facts()  # seen at step 1
    ep.step({"robot": "Wait[]", "human": "Wait[]"})  # the message (as of step 0) arrives
    assert ("cup_0", "on", "bed_0") not in ep.graphs["human"].facts()
    fresh = episode("dialogue")
    fresh.step({"robot": "SendMessage[book_0 is on table_0]", "human": "Wait[]"})
    assert ("book_0", "on", "table_0") in fresh.graphs["human"].facts()  # news of the unseen


def test_heuristic_agents_solve_constraint_free_tasks():
    specs = make_episodes(EPISODES | {"task_types": ["constraint_free"], "n_per_type": 6}, 0)
    for condition in ("silent", "dialogue"):
        for head, steps in split_episodes(run(specs, condition, SIM)):
            result = evaluate(head["house"], head["task"], [s["snapshot"] for s in steps])
            assert result["success"] == 1.0, (condition, head["episode"])


def test_heuristic_dialogue_trades_steps_for_fewer_conflicts():
    specs = make_episodes(EPISODES, 0)
    silent = summarize(run(specs, "silent", SIM), {"conflict_window": 1})
    dialogue = summarize(run(specs, "dialogue", SIM), {"conflict_window": 1})
    assert dialogue["messages_per_episode"] > 0 and silent["messages_per_episode"] == 0
    assert dialogue["conflict_rate"] < silent["conflict_rate"]
    assert dialogue["steps"] > silent["steps"]


def test_react_replies_are_parsed_against_the_valid_actions():
    valid = ["Navigate[table_0]", "Pick[cup_0]", "Place[cup_0, on, bed_0]", "Wait[]"]
    assert parse_react("Thought: go.\nAction: Pick[cup_0]", valid, False) == "Pick[cup_0]"
    assert parse_react("Action: Place[cup_0,on, bed_0].", valid, False) == "Place[cup_0, on, bed_0]"
    assert parse_react("Action: Pick[cup_9]", valid, False) is None  # not a valid action
    assert parse_react("I would pick the cup", valid, False) is None
    assert (
        parse_react("Action: SendMessage[cup_0 is on table_0]", valid, True)
        == "SendMessage[cup_0 is on table_0]"
    )
    assert parse_react("Action: SendMessage[hi]", valid, False) is None  # silent: no channel


LLM = {
    "mode": "score",
    "choice": "pmi",
    "normalize": "chars",
    "max_objects": 8,
    "history": 2,
    "max_messages": 4,
    "react_tokens": 8,
    "react_prompt": "Thought: ... Action: ...",
}


@pytest.fixture
def one_thread():
    """Like the workflow's jobs: one torch thread (a shared CPU makes more spin)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("mode", ["score", "react"])
def test_llm_agents_run_in_lockstep_with_the_random_model(tiny_model, one_thread, mode):
    from reprolab.inference import get_backend

    backend = get_backend("transformers", str(tiny_model), batch_size=16)
    specs = make_episodes(EPISODES | {"n_per_type": 1, "n_rooms": 2, "n_objects": 3}, 0)
    settings = SIM | {"action_budget": 2, "llm": LLM | {"mode": mode}}
    rows = run(specs, "dialogue", settings, "llm", backend, seed=0)
    steps = [r for r in rows if r["kind"] == "step" and r["step"] > 0]
    assert len(steps) == 4 * 2
    metas = [m for r in steps for m in r["meta"].values()]
    if mode == "react":  # a random model never writes a valid action: each becomes Wait, counted
        assert all(m["parse_failure"] for m in metas)
        assert all(a == "Wait[]" for r in steps for a in r["actions"].values())
        assert summarize(rows, {"conflict_window": 1})["parse_failure_rate"] == 1.0
    else:
        assert all("score" in m for m in metas)
    assert rows == run(specs, "dialogue", settings, "llm", backend, seed=0)  # deterministic


class Chatty:
    """A planted backend: after a state prompt every SendMessage scores 0 and every other
    action -100; after the context-free prompt (one user turn) everything scores -50. Raw
    scores and calibrated ones agree: the first candidate message wins."""

    def __init__(self, talk: bool = True):
        self.talk = talk
        self.batches: list[tuple[str, int]] = []

    def score_candidates(self, contexts, candidates):
        self.batches.append(("score_candidates", len(contexts)))
        return [
            [
                -50.0
                if len(ctx) == 1
                else (0.0 if self.talk and c.startswith("SendMessage[") else -100.0)
                for c in cands
            ]
            for ctx, cands in zip(contexts, candidates, strict=True)
        ]


def test_score_mode_is_one_calibrated_call_a_step_over_actions_and_grounded_messages(tmp_path):
    """On the core runner: a simulator step is one batched call over every agent of every live
    episode plus the shared context-free prompt once; messages are chosen among grounded
    candidates (a fact of the sender's graph, or 'I will handle X'), so each is checkable."""
    from reprolab.papers.partnr_dialogue.grounding import ground

    backend = Chatty()
    specs = make_episodes(EPISODES | {"n_per_type": 1}, 0)
    settings = SIM | {"action_budget": 3, "llm": LLM}
    log_path = tmp_path / "episodes.jsonl"
    rows = run(specs, "dialogue", settings, "llm", backend, seed=10, log_path=log_path)
    assert backend.batches == [("score_candidates", 8 + 1)] * 3
    steps = [r for r in rows if r["kind"] == "step" and r["step"] > 0]
    assert len(steps) == 4 * 3
    for head, ep_steps in split_episodes(rows):
        for r in ep_steps[1:]:
            for action in r["actions"].values():
                assert action.startswith("SendMessage["), action
                text = action[len("SendMessage[") : -1]
                assert ground(text, head["house"], ["robot", "human"]) or text.startswith(
                    "I will handle"
                )
            for m in r["messages"]:  # every fact a message states is in its sender's graph
                stated = ground(m["text"], head["house"], ["robot", "human"])
                assert stated <= {tuple(f) for f in m["sender_facts"]}
    logged = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert len(logged) == 8 * 3
    assert {(r["role"], r["kind"]) for r in logged} == {
        (a, "score_calibrated") for a in ("robot", "human")
    }
    # Silent: no message candidate; still one call a step.
    backend.batches.clear()
    silent = run(specs, "silent", settings, "llm", backend, seed=10)
    assert backend.batches == [("score_candidates", 8 + 1)] * 3
    assert not any(
        a.startswith("SendMessage")
        for r in silent
        if r["kind"] == "step"
        for a in r["actions"].values()
    )


def test_the_loglik_rule_is_the_per_character_log_likelihood():
    from reprolab.papers.partnr_dialogue.llm_agent import best_action

    options = ["Wait[]", "Pick[cup_0]"]  # 6 and 11 characters
    assert best_action(options, [-6.0, -9.0], {"choice": "loglik"})[0] == "Pick[cup_0]"
    assert best_action(options, [-6.0, -9.0], {"choice": "loglik", "normalize": "none"})[0] == (
        "Wait[]"
    )
    assert best_action(options, [-6.0, -9.0], {"choice": "pmi"})[0] == "Wait[]"


def test_hybrid_arm_the_llm_talks_the_planner_acts_and_the_random_control_is_seeded():
    specs = make_episodes(EPISODES | {"n_per_type": 1}, 0)
    settings = SIM | {"action_budget": 12, "llm": LLM, "random_send_prob": 0.3}
    mute = run(specs, "dialogue", settings, "hybrid", Chatty(talk=False), seed=3)
    scripted = run(specs, "silent", settings, "heuristic", seed=3)
    # An LLM that never prefers a message leaves the planner's episode unchanged.
    acts = [r["actions"] for r in mute if r["kind"] == "step"]
    assert acts == [r["actions"] for r in scripted if r["kind"] == "step"]
    chatty = run(specs, "dialogue", settings, "hybrid", Chatty(), seed=3)
    sent = [m for r in chatty if r["kind"] == "step" for m in r["messages"]]
    assert sent and all(r["kind"] != "step" or r["step"] == 0 or r["messages"] for r in chatty)
    random_a = run(specs, "dialogue", settings, "random_messenger", seed=3)
    random_b = run(specs, "dialogue", settings, "random_messenger", seed=3)
    assert random_a == random_b
    share = [
        a.startswith("SendMessage")
        for r in random_a
        if r["kind"] == "step"
        for a in r["actions"].values()
    ]
    assert 0.1 < sum(share) / len(share) < 0.5  # about the configured 0.3
    with pytest.raises(ValueError, match="backend"):
        run(specs, "dialogue", settings, "hybrid", None)


def test_heuristic_episodes_ask_the_model_nothing(tmp_path):
    specs = make_episodes(EPISODES | {"n_per_type": 1}, 0)
    run(specs, "dialogue", SIM, log_path=tmp_path / "episodes.jsonl")
    assert (tmp_path / "episodes.jsonl").read_text() == ""

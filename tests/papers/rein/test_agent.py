"""The agent episode: the system prompt byte-identical with and without inception, the plan
prefilled into the agent's own reply, candidates, tool execution and database diffs."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from reprolab.episodes import Runner
from reprolab.papers.rein import agent as A
from reprolab.papers.rein import data, errors
from reprolab.papers.rein import evaluate as ev
from reprolab.papers.rein import inception as inc
from reprolab.papers.rein.steps import TOOLS_MODULE
from reprolab.papers.rein.tools import DOMAIN_SPECS, RECOVERY_SPECS
from reprolab.sandbox import Sandbox
from reprolab.tools import ToolEnv
from tests.conftest import REPO

COMMON = yaml.safe_load((REPO / "config/papers/rein.yaml").read_text())["common"]
CFG = {**COMMON["data"], "n_tasks": 1}


def ctx(prelude=False) -> dict:
    plans = {**COMMON["plans"], "known": list(COMMON["plans"]["types"])}
    return {
        "agent": {**COMMON["agent"], "prelude": prelude, "max_turns": 1},
        "prompts": COMMON["prompts"],
        "plans": plans,
        "render": inc.render_factory(
            COMMON["inception"]["prompt"], plans["known"], COMMON["inception"]["definitions"]
        ),
        "params": None,
    }


class NoEnv:
    """Stands in for ToolEnv where an episode is only built, never stepped."""

    state: dict = {}


@pytest.fixture(scope="module")
def box():
    with Sandbox(modules=[TOOLS_MODULE]) as sandbox:
        yield sandbox


def env_for(instance, box):
    specs = DOMAIN_SPECS[instance["domain"]] + RECOVERY_SPECS
    return ToolEnv(TOOLS_MODULE, specs, copy.deepcopy(instance["database"]), box)


def test_inception_leaves_the_system_prompt_byte_identical():
    instance = next(r for r in data.instances(CFG) if r["id"] == "r1.polysemy")
    c = ctx()
    made = {
        name: A.AgentEpisode(instance, name, spec, c, NoEnv())
        for name, spec in {
            "none": {},
            "rein_oracle": {"inception": "oracle"},
            "placebo": {"inception": "placebo"},
            "probe": {"inception": "given", "plan": "report"},
            "npi": {"prompt": "npi"},
            "notools": {"inception": "oracle", "recovery_tools": False},
        }.items()
    }
    base = made["none"].messages[0]["content"].encode()
    for name in ("rein_oracle", "placebo", "probe"):
        assert made[name].messages[0]["content"].encode() == base, name
        assert made[name].messages == made["none"].messages  # nothing else differs either
    assert made["npi"].messages[0]["content"] != made["none"].messages[0]["content"]
    assert COMMON["prompts"]["npi_guidelines"] in made["npi"].messages[0]["content"]
    assert "internal_error_report" not in made["notools"].messages[0]["content"]
    # The plan is the prefill of the agent's own reply: the only difference of the request.
    oracle = made["rein_oracle"]
    request = oracle.requests()[0]
    context, candidates, null = request.payload
    assert context[:-1] == made["none"].requests()[0].payload[0]
    # Calibration's context-free prompt: the same system prompt, no request, no plan.
    assert null == [context[0], {"role": "user", "content": COMMON["agent"]["null_user"]}]
    assert context[-1] == {
        "role": "assistant",
        "content": inc.think(COMMON["plans"]["types"]["polysemy"]),
    }
    assert candidates == made["none"].cands


def test_candidates_name_the_users_objects_and_listed_recovery_tools():
    instance = next(r for r in data.instances(CFG) if r["id"] == "a1.clean")
    listed = DOMAIN_SPECS["airline"] + RECOVERY_SPECS
    cands = A.candidates(instance, listed, "Could you tell me more?")
    calls = [json.loads(c) for c in cands[:-1]]
    assert {(c["name"], c["arguments"].get("reservation_id")) for c in calls} == {
        ("cancel_reservation", "R301"),
        ("cancel_reservation", "R302"),
        ("add_checked_bag", "R301"),
        ("add_checked_bag", "R302"),
        ("internal_error_report", None),
        ("transfer_to_human_agents", None),
    }
    bare = A.candidates(instance, DOMAIN_SPECS["airline"], "Could you tell me more?")
    assert not any("internal_error_report" in c or "transfer" in c for c in bare)
    assert A.parse_action(cands[-1]) == {
        "name": "respond",
        "arguments": {"message": "Could you tell me more?"},
    }


def planted_follower(payloads, _params):
    """A stand-in agent: follows a plan's named tool when a plan is prefilled, else takes the
    first candidate that names the request's id (the task's own call)."""
    out = []
    for context, cands, _null in payloads:
        last = context[-1]
        scores = [0.0] * len(cands)
        if last["role"] == "assistant":
            for i, c in enumerate(cands):
                if '"name": "' in c and json.loads(c)["name"] in last["content"]:
                    scores[i] = 1.0
        else:
            for i, c in enumerate(cands):
                if (
                    c.startswith("{")
                    and json.loads(c)["arguments"].get("order_id", "-") in (last["content"])
                ):
                    scores[i] = 1.0
                    break
        out.append(scores)
    return out


def test_episodes_execute_against_the_database_and_the_checker_reads_them(box):
    rows = [r for r in data.instances({**CFG, "domains": ["retail"]})]
    c = ctx(prelude=True)
    episodes = [
        A.AgentEpisode(r, s, spec, c, env_for(r, box))
        for r in rows
        for s, spec in (("none", {}), ("rein_oracle", {"inception": "oracle"}))
    ]
    Runner({"score_calibrated": planted_follower}).run(episodes, max_steps=3)
    results = {(e.setting, e.instance["id"]): e.result() for e in episodes}
    clean = results[("none", "r1.clean")]
    assert clean["calls"] == [{"name": "cancel_pending_order", "arguments": {"order_id": "W2001"}}]
    assert clean["final"]["orders"]["W2001"]["status"] == "cancelled" and ev.success(clean)
    assert clean["turns"][0]["diff"] == [
        {"path": "orders.W2001.status", "op": "change", "before": "pending", "after": "cancelled"}
    ]
    # No intervention on an error: the stand-in acts on the id it reads and mutates the db.
    acted = results[("none", "r1.unsupported_parameter")]
    assert ev.mutation_error(acted) and not ev.success(acted)
    # The oracle's plan names the recovery tool; the follower calls it: no mutation, success.
    for error in errors.ERROR_TYPES:
        r = results[("rein_oracle", f"r1.{error}")]
        assert r["calls"][0]["name"] == errors.recovery_tool(error), error
        assert r["final"] == r["database"] and ev.success(r)
    # Clean instances get no plan from the oracle: the task's own call, as without inception.
    assert results[("rein_oracle", "r1.clean")]["calls"] == clean["calls"]
    # The scripted prelude really ran get_user_details in the sandbox.
    first = episodes[0].messages
    assert first[3]["role"] == "tool" and "W2002" in first[3]["content"]


def test_inception_plans():
    plans = COMMON["plans"]
    seen = {"error": "polysemy"}
    unseen = {"error": "unsupported_domain"}
    assert inc.oracle_plan(seen, plans) == plans["types"]["polysemy"]
    assert inc.oracle_plan(unseen, plans) == plans["categories"]["unsupported"]
    assert inc.oracle_plan({"error": None}, plans) is None
    assert inc.llm_plan("none", plans, {"none": 0.9, "polysemy": 0.1}, fixed=False) is None
    probs = {"none": 0.7, "polysemy": 0.1, "unsupported_operation": 0.2}
    assert inc.llm_plan("none", plans, probs, fixed=True) == plans["types"]["unsupported_operation"]
    assert inc.llm_plan("polysemy", plans, None, fixed=False) == plans["types"]["polysemy"]
    assert inc.labels(["a", "b"]) == ["none", "a", "b"]
    render = inc.render_factory(
        COMMON["inception"]["prompt"], list(plans["types"]), COMMON["inception"]["definitions"]
    )
    chat = render({"tools": ["t1"], "dialogue": "user: hi"}, ("none", "polysemy"))
    assert "1. none:" in chat[1]["content"] and "2. polysemy:" in chat[1]["content"]
    # Unseen types are withheld from the module's prompt.
    for withheld in errors.UNSEEN:
        assert (
            withheld not in json.dumps(chat) and withheld not in COMMON["inception"]["definitions"]
        )

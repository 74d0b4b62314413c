"""Full scale's readers on stand-in files of tau-bench's shape: the task lists and the user
simulator taken from the syntax tree, the data mapped onto rein's environment (kept and
left-out tasks, the projected database), the on-disk cache, and an LLM user (a scripted model)
stepped in lockstep with the agent through the core runner."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from reprolab.episodes import Runner
from reprolab.inference import SamplingParams
from reprolab.papers.rein import agent as A
from reprolab.papers.rein import data, errors, taubench, upstream
from reprolab.papers.rein import evaluate as ev
from reprolab.papers.rein import inception as inc
from reprolab.papers.rein.steps import TOOLS_MODULE, check_user, llm_user
from reprolab.papers.rein.steps import data as data_step
from reprolab.papers.rein.tools import DOMAIN_SPECS, RECOVERY_SPECS
from reprolab.papers.rein.upstream import UpstreamError
from reprolab.sandbox import Sandbox
from reprolab.tools import ToolEnv
from tests.conftest import REPO
from tests.papers.rein import taubench_standin as S

CONFIG = yaml.safe_load((REPO / "config/papers/rein.yaml").read_text())
COMMON, FULL = CONFIG["common"], CONFIG["full"]


@pytest.fixture
def base(tmp_path) -> str:
    return S.write(tmp_path / "raw")


def data_cfg(base: str) -> dict:
    return {**COMMON["data"], **FULL["data"], "tau_bench": S.tau_cfg(FULL["data"], base)}


def test_tasks_are_read_as_literals_in_order_and_other_code_is_refused():
    got = upstream.tasks(S.RETAIL_TASKS, "TASKS_TEST")
    assert [t["user_id"] for t in got] == ["ana_ruiz_1", "ben_kim_2", "ana_ruiz_1", "ana_ruiz_1",
                                           "ben_kim_2"]  # fmt: skip
    assert got[0]["actions"][1] == {
        "name": "cancel_pending_order",
        "kwargs": {"order_id": "#W1", "reason": "no longer needed"},
    }
    with pytest.raises(UpstreamError, match="unexpected call"):
        upstream.tasks("TASKS = [Task(user_id=open('x'), instruction='', actions=[])]", "TASKS")
    with pytest.raises(UpstreamError, match="no module-level list"):
        upstream.tasks(S.RETAIL_TASKS, "TASKS")


def test_the_user_prompt_is_built_by_the_simulators_own_method():
    build = upstream.user_prompt(S.USER_PY, "LLMUserSimulationEnv")
    assert build("Be Ana.") == (
        "Stand-in simulated customer.\n\nGoal: Be Ana.\n\nRules:\n- One line a message.\n"
        "- When the goal is met, write '###STOP###' alone."
    )
    assert build(None).startswith("Stand-in simulated customer.\nRules:")
    assert upstream.opening(S.USER_PY, "LLMUserSimulationEnv") == "Hello, what can I do for you?"
    assert upstream.stop_token(build("x")) == "###STOP###"
    sneaky = S.USER_PY.replace("shown = (", 'shown = __import__("os").getcwd() or (')
    with pytest.raises(UpstreamError, match="not a prompt builder"):
        upstream.user_prompt(sneaky, "LLMUserSimulationEnv")
    with pytest.raises(UpstreamError, match="no method"):
        upstream.user_prompt(S.USER_PY, "ReactUserSimulationEnv")


def test_taubench_maps_onto_reins_environment_and_says_what_it_leaves_out(base):
    source = taubench.materials(data_cfg(base)["tau_bench"], ["retail", "airline"])
    retail, airline = source["retail"], source["airline"]
    assert [(t["id"], t["tool"], t["object"]) for t in retail["tasks"]] == [
        ("retail.test0", "cancel_pending_order", "#W1"),
        ("retail.test2", "return_delivered_order", "#W2"),
    ]
    assert retail["left_out"] == {
        "1": "unmapped tool exchange_delivered_order_items",
        "3": "2 database-changing actions",
        "4": "rein's cancel_pending_order fails: order #W3 is not a pending order",
    }
    assert retail["tasks"][0]["instruction"] == (
        "You are Ana Ruiz. You want to cancel your pending lamp order."
    )
    # Only the kept tasks' users, in rein's shape (Ben's task was left out).
    assert retail["database"] == {
        "users": {"ana_ruiz_1": {"name": "Ana Ruiz", "orders": ["#W1", "#W2"]}},
        "orders": {"#W1": {"status": "pending", "items": ["Lamp"]},
                   "#W2": {"status": "delivered", "items": ["Mug"]}},
    }  # fmt: skip
    assert [(t["tool"], t["object"]) for t in airline["tasks"]] == [
        ("add_checked_bag", "AB12"),
        ("cancel_reservation", "AB12"),
    ]
    assert airline["left_out"] == {"1": "baggage change of 2, not one bag"}
    assert airline["database"]["reservations"] == {
        "AB12": {"status": "booked", "route": "SFO-JFK", "bags": 1},
        "CD34": {"status": "cancelled", "route": "JFK-SFO", "bags": 1},
    }


def test_an_unreadable_file_is_an_upstream_error(tmp_path):
    up = {"repo": S.REPO, "commit": S.COMMIT, "base": (tmp_path / "none").as_uri()}
    with pytest.raises(UpstreamError, match="could not be read"):
        upstream.read_text(up, "envs/user.py", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing kept from a failed read


def test_a_record_naming_an_unknown_product_is_refused(tmp_path):
    orders = copy.deepcopy(S.RETAIL_ORDERS)
    orders["#W1"]["items"][0]["product_id"] = "p9"
    base = S.write(tmp_path)
    (tmp_path / S.REPO / S.COMMIT / "envs/retail/orders.json").write_text(json.dumps(orders))
    with pytest.raises(UpstreamError, match=r"names \['p9'\], not in products"):
        taubench.materials(data_cfg(base)["tau_bench"], ["retail"])


def test_the_data_step_reads_once_then_from_its_cache(base, tmp_path):
    cfg = {"data": data_cfg(base), "suite": {"seed": 0}}
    out = tmp_path / "data" / "instances.jsonl"
    first = data_step(cfg, None, instances=out)
    assert first == {"instances": 4 * 7, "seen": 4 * 4, "unseen": 4 * 2,
                     "retail.tasks_kept": 2, "retail.tasks_left_out": 3,
                     "airline.tasks_kept": 2, "airline.tasks_left_out": 1}  # fmt: skip
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    gone = {**cfg, "data": {**cfg["data"], "tau_bench": {**cfg["data"]["tau_bench"],
                                                         "base": "file:///nowhere"}}}  # fmt: skip
    data_step(gone, None, instances=out)  # the files come from the cache beside the output
    assert [json.loads(x) for x in out.read_text().splitlines()] == rows
    clean = next(r for r in rows if r["id"] == "retail.test0.clean")
    assert clean["utterance"] is None and clean["verb"] == "cancel"
    assert clean["goal"]["orders"]["#W1"]["status"] == "cancelled"
    vague = next(r for r in rows if r["id"] == "airline.test0.vague_reference")
    assert vague["goal"] == vague["database"] and vague["expected"] == "internal_error_report"


def test_the_full_config_instructs_the_llm_user_for_every_error_type():
    assert set(FULL["user"]["errors"]) == set(errors.ERROR_TYPES)
    assert FULL["data"]["origin"] == "tau_bench" and FULL["user"]["simulator"] == "llm"
    assert COMMON["user"] == {"simulator": "templated"}  # tiny and smoke keep the templated user


class ScriptedModel:
    """The backbone as a script: as the LLM user it writes the request on its first turn, then
    answers a clarifying message, then stops; as the agent (generate mode) it asks once, then
    calls the recovery tool its prefilled plan names, or without a plan the task's own call."""

    def __init__(self, stop: str):
        self.stop = stop
        self.user_system: list[str] = []

    def __call__(self, payloads, _params):
        return [self.reply(p) for p in payloads]

    def reply(self, messages):
        if messages[0]["content"].startswith("Stand-in simulated customer."):
            self.user_system.append(messages[0]["content"])
            said = [m for m in messages if m["role"] == "assistant"]
            return ["I need help with my order.", "It is #W1.", self.stop][len(said)]
        last = messages[-1]
        if last["role"] == "assistant":  # a prefilled plan
            tool = next(t for t in ("internal_error_report", "transfer_to_human_agents")
                        if t in last["content"])  # fmt: skip
            return json.dumps({"name": tool, "arguments": {}})
        if "#W1" not in last["content"]:
            return "Which order do you mean?"
        return json.dumps({"name": "cancel_pending_order", "arguments": {"order_id": "#W1"}})


def test_the_llm_user_steps_in_lockstep_with_the_agent(base, tmp_path):
    source = taubench.materials(data_cfg(base)["tau_bench"], ["retail"])
    cfg_data = {**data_cfg(base), "domains": ["retail"], "n_tasks": 1,
                "error_types": ["vague_reference"]}  # fmt: skip
    rows = data.instances(cfg_data, source)
    cfg = {"user": S.user_cfg(FULL["user"], base), "suite": {"seed": 0}}
    sim = llm_user(cfg, tmp_path / "cache")
    plans = {**COMMON["plans"], "known": list(COMMON["plans"]["types"])}
    ctx = {
        "agent": {**COMMON["agent"], "mode": "generate", "max_turns": 3, "prelude": False},
        "prompts": COMMON["prompts"],
        "plans": plans,
        "render": None,
        "params": SamplingParams(32, 0.0, 1.0, 0),
        "user": sim,
    }
    model = ScriptedModel(sim["stop"])
    with Sandbox(modules=[TOOLS_MODULE]) as box:
        episodes = []
        for row in rows:
            for setting, spec in (("none", {}), ("rein_oracle", {"inception": "oracle"})):
                specs = DOMAIN_SPECS["retail"] + RECOVERY_SPECS
                env = ToolEnv(TOOLS_MODULE, specs, copy.deepcopy(row["database"]), box)
                episodes.append(A.AgentEpisode(row, setting, spec, ctx, env))
        runner = Runner({"generate": model})
        log = runner.run(episodes, max_steps=3 * 5 + 1)
    assert all(e.done for e in episodes)
    by = {(e.setting, e.instance["id"]): e for e in episodes}
    # The user's system prompt: tau-bench's method around the task's instruction, plus on an
    # error instance this project's instruction for the error type.
    task = source["retail"]["tasks"][0]
    vague = by[("none", "retail.test0.vague_reference")]
    extra = FULL["user"]["errors"]["vague_reference"].format(object="#W1", verb="cancel")
    assert vague.user_messages[0]["content"] == sim["prompt"](f"{task['instruction']} {extra}")
    clean = by[("none", "retail.test0.clean")]
    assert clean.user_messages[0]["content"] == sim["prompt"](task["instruction"])
    assert clean.user_messages[1] == {"role": "user", "content": "Hello, what can I do for you?"}
    # Without inception: the user opens (greeting + its own words), the agent asks, the user
    # answers with the id, the agent cancels -- on the vague instance a mutation error.
    assert [m["role"] for m in vague.messages] == ["system", "user", "assistant", "user",
                                                   "assistant", "tool"]  # fmt: skip
    assert vague.messages[1]["content"].endswith(" I need help with my order.")
    assert vague.messages[1]["content"].startswith("Hi, I'm Ana Ruiz, my user id is ana_ruiz_1.")
    assert vague.user_messages[-2:] == [
        {"role": "user", "content": "Which order do you mean?"},
        {"role": "assistant", "content": "It is #W1."},
    ]
    r = vague.result()
    assert ev.mutation_error(r) and not ev.success(r) and r["user_stopped"] is False
    assert ev.success(clean.result())
    # With the oracle's plan the agent reports the error on its first turn: no mutation.
    oracle = by[("rein_oracle", "retail.test0.vague_reference")].result()
    assert oracle["calls"] == [{"name": "internal_error_report", "arguments": {}}]
    assert ev.success(oracle)
    assert oracle["turns"][0]["plan"] == inc.oracle_plan(vague.instance, plans)
    # Every user turn went through the runner as a batched generate call of role `user`.
    user_rows = [x for x in log if x["role"] == "user"]
    assert {x["kind"] for x in user_rows} == {"generate"}
    # 4 openings; 3 answers (every episode without a plan: both of `none`, the oracle's clean).
    assert len(user_rows) == 4 + 3


def test_the_user_says_stop_and_the_session_ends(base, tmp_path):
    cfg = {"user": S.user_cfg(FULL["user"], base), "suite": {"seed": 0}}
    sim = llm_user(cfg, tmp_path / "cache")
    source = taubench.materials(data_cfg(base)["tau_bench"], ["retail"])
    only = {**data_cfg(base), "domains": ["retail"], "n_tasks": 1, "error_types": []}
    row = data.instances(only, source)[0]
    ctx = {"agent": {**COMMON["agent"], "mode": "generate"}, "prompts": COMMON["prompts"],
           "plans": {}, "render": None, "params": None, "user": sim}  # fmt: skip

    class Env:
        state = row["database"]

    ep = A.AgentEpisode(row, "none", {}, ctx, Env())
    ep.receive([f"All good. {sim['stop']}"])
    assert ep.done and ep.result()["user_stopped"] is True and ep.result()["calls"] == []
    assert not ev.success(ep.result())


def test_the_templated_user_is_kept_below_full(tmp_path):
    assert llm_user({"user": COMMON["user"], "suite": {"seed": 0}}, Path(tmp_path)) is None


def test_a_user_that_cannot_play_the_instances_is_refused(base):
    source = taubench.materials(data_cfg(base)["tau_bench"], ["retail"])
    tau_rows = data.instances({**data_cfg(base), "domains": ["retail"]}, source)
    shipped = data.instances({**COMMON["data"], "n_tasks": 1})
    with pytest.raises(ValueError, match="need user.simulator llm"):
        check_user(tau_rows, None)
    with pytest.raises(ValueError, match="needs tau-bench's instructions"):
        check_user(shipped, {"prompt": None})
    check_user(shipped, None)
    check_user(tau_rows, {"prompt": None})

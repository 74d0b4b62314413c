"""The full-scale LLM stages on local files of the authors' shape (tests/papers/atod/data, this
project's stand-ins): the prompts read at a pinned commit and cached, clear errors on a missing
or ill-shaped file, the generator/verifier/annotator episodes against a scripted model (FAIL
regenerated up to `tries`, gold statuses from the annotation), and the quality judge against a
planted one."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from reprolab.config import load_config
from reprolab.inference import InferenceBackend
from reprolab.papers.atod import generate as gen
from reprolab.papers.atod import lifecycle as lc
from reprolab.papers.atod import llm_generate as llm
from reprolab.papers.atod import quality, upstream
from reprolab.papers.atod.summary import quality_metrics

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def up(tmp_path) -> dict:
    """The full config's upstream section, read from a copy of the local stand-ins."""
    shutil.copytree(DATA, tmp_path / "files")
    cfg = load_config("atod", "full", REPO / "config")["upstream"]
    return {**cfg, "base": (tmp_path / "files").as_uri()}


@pytest.fixture
def plans() -> list[dict]:
    grammar = {"outcomes": {"failed": 0.2, "abandoned": 0.1}, "p_async": 0.3, "p_proactive": 0.5,
               "p_interleave": 0.4, "max_pairs": 80, "complex_above": 4}  # fmt: skip
    cfg = {"exploration": 0.3, "goal_grid": [2, 3], "per_count": 1, "min_turns": 4,
           "grammar": grammar}  # fmt: skip
    return gen.generate(cfg, 3)


SETTINGS = {
    "generate": {"max_new_tokens": 64, "temperature": 0.8},
    "verify": {"max_new_tokens": 4, "temperature": 0.1},
    "annotate": {"max_new_tokens": 64, "temperature": 0.3},
    "use_verifier": True,
    "tries": 3,
    "min_turns": 4,
    "max_turns": 40,
}


def test_the_prompts_are_read_at_the_pinned_commit_and_cached(up, plans, tmp_path):
    cache = tmp_path / "cache"
    p = upstream.prompts(up, "generator", cache)
    traj = llm.trajectory(plans[0])
    text = p["dialogue_generation_prompt"](traj)
    assert text.startswith("WRITE a dialogue, medium.")
    assert plans[0]["goal_list"][0]["intent"] in text
    shown = {"turns": [{"speaker": "USER", "utterance": "hi"}]}
    assert "USER: hi" in p["dialogue_verifier_prompt"](shown)  # a helper of another file
    status = p["status_prompt"]("User: hi", traj["goal_list"], {"g1": "open", "g2": "pending"})
    assert '"g2": {"status": "pending"}' in status
    commit = up["generator"]["sources"]["generation"]["commit"]
    assert (cache / up["repo"] / commit / "generation/generate_dialogues.py").exists()
    rubrics = upstream.templates(up, "quality", cache)
    shutil.rmtree(tmp_path / "files")  # the cache answers without the source
    assert upstream.prompts(up, "generator", cache).keys() == p.keys()
    assert upstream.templates(up, "quality", cache) == rubrics
    assert rubrics["turn"].format(utterance="Done.") == 'RATE TURN {0-10}: "Done."\nScore:'
    assert "USER: a" in rubrics["dialogue"].format(dialogue_text="USER: a")


def test_a_missing_or_ill_shaped_file_is_a_clear_error(up, tmp_path):
    bad = json.loads(json.dumps(up))
    bad["generator"]["sources"]["generation"]["commit"] = "0" * 40
    with pytest.raises(upstream.UpstreamError, match="could not be read"):
        upstream.prompts(bad, "generator")
    bad = json.loads(json.dumps(up))
    bad["generator"]["sources"]["generation"]["functions"] = ["no_such_prompt"]
    with pytest.raises(upstream.UpstreamError, match="no top-level function no_such_prompt"):
        upstream.prompts(bad, "generator")
    with pytest.raises(upstream.UpstreamError, match="no 'quality.sources'"):
        upstream.templates({"repo": "a/b"}, "quality")
    evil = "def f(x):\n    import os\n    return os.getcwd()\n"
    with pytest.raises(upstream.UpstreamError, match="uses Import"):
        upstream.functions([(evil, ["f"], "evil.py")])
    dunder = "def f(x):\n    return x.__class__\n"
    with pytest.raises(upstream.UpstreamError, match="uses __class__"):
        upstream.functions([(dunder, ["f"], "dunder.py")])
    computed = 'def f(t):\n    prompt = f"rate {t.upper()}"\n    return prompt\n'
    with pytest.raises(upstream.UpstreamError, match="not a plain name"):
        upstream.template(computed, "f")
    with pytest.raises(upstream.UpstreamError, match="not Python source"):
        upstream.template("def (", "f")


def test_the_lifecycle_path_and_the_status_reply():
    assert llm.steps_to("not_mentioned", "pending") == ["open", "pending"]
    assert llm.steps_to("open", "completed") == ["pending", "completed"]
    assert llm.steps_to("pending", "pending") == []
    assert llm.steps_to("completed", "pending") is None
    assert llm.steps_to("pending", "open") is None
    cur = {"g1": "open", "g2": "not_mentioned"}
    reply = 'Here: {"g1": {"status": "PENDING"}, "g2": "bogus"} done'
    assert llm.read_statuses(reply, cur) == {"g1": "pending", "g2": "not_mentioned"}
    assert llm.read_statuses("no json", cur) is None
    assert llm.parse_turns("USER: I need a taxi.\nSYSTEM: Booked it!\nUSER:  \n") == [
        {"speaker": "USER", "utterance": "I need a taxi."},
        {"speaker": "SYSTEM", "utterance": "Booked it!"},
    ]


class Scripted:
    """A model that writes one fixed dialogue per trajectory, passes it, and annotates by the
    script: goal g1 opens at the first utterance, goes pending at the second and completes at
    the fourth; the last goal is abandoned at the third; the rest stay not_mentioned."""

    def __init__(self):
        self.calls: list[tuple[str, int]] = []

    DIALOGUE = (
        "USER: I need the first thing.\nSYSTEM: Let me look.\n"
        "USER: Forget the last one.\nSYSTEM: Done, all set."
    )

    def handler(self, payloads, params):
        out = []
        kinds = {p[0]["content"].split()[0] for p in payloads}
        assert len(kinds) == 1, "one batched call per request kind"
        self.calls.append((kinds.pop(), len(payloads)))
        for chat in payloads:
            text = chat[0]["content"]
            if text.startswith("WRITE"):
                out.append(self.DIALOGUE)
            elif text.startswith("VERIFY"):
                out.append("PASS")
            else:
                turn = text.split("turn: ")[1].split("\n")[0]
                ids = [line.split(":")[0] for line in text.splitlines()[1:] if line[:1] == "g"]
                said = {}
                if turn.startswith("User: I need"):
                    said["g1"] = "open"
                if turn.startswith("System: Let me"):
                    said["g1"] = "pending"
                if turn.startswith("User: Forget"):
                    said[ids[-1]] = "abandoned"
                if turn.startswith("System: Done"):
                    said["g1"] = "completed"
                    said[ids[-1]] = "open"  # backwards: refused, the status stays
                out.append(json.dumps(said))
        return out


def test_the_writer_regenerates_fail_and_annotates_gold_statuses(plans, up):
    prompts = upstream.prompts(up, "generator")
    model = Scripted()
    made, refused, rows = llm.write(plans, {"generate": model.handler}, prompts, SETTINGS, 7)
    assert [d["dialogue_id"] for d in made] == [p["dialogue_id"] for p in plans] and not refused
    d = made[0]
    g = {x["id"]: x for x in d["goal_list"]}
    last = d["goal_list"][-1]["id"]
    assert [h["status"] for h in g["g1"]["status_history"]] == ["open", "pending", "completed"]
    assert g["g1"]["first_mentioned_turn"] == 0 and g["g1"]["completion_turn"] == 3
    # not_mentioned -> abandoned passes open at the same utterance (the lifecycle's path).
    assert g[last]["status_history"] == [{"turn": 2, "status": "open"},
                                         {"turn": 2, "status": "abandoned"}]  # fmt: skip
    assert d["generation"]["refused_transitions"] == 1
    assert d["turns"][3]["all_goals"]["g1"] == lc.COMPLETED
    assert [c["to"] for c in d["turns"][1]["goal_status_changes"]] == ["pending"]
    for x in d["goal_list"]:
        lc.check_history(x["status_history"])
    # Lockstep: both trajectories in every call (write, verify, four annotations).
    assert model.calls == [("WRITE", 2), ("VERIFY", 2)] + [("STATUS", 2)] * 4


def test_fail_is_written_again_up_to_tries_then_rejected(plans, up):
    prompts = upstream.prompts(up, "generator")

    class FailsTwice(Scripted):
        def handler(self, payloads, params):
            replies = super().handler(payloads, params)
            if self.calls[-1][0] == "VERIFY":
                self.verified = getattr(self, "verified", 0) + 1
                return ["FAIL" if self.verified <= 2 else "PASS"] * len(payloads)
            if self.calls[-1][0] == "WRITE":
                self.seeds = [*getattr(self, "seeds", []), params.seed]
            return replies

    model = FailsTwice()
    made, refused, _ = llm.write(plans, {"generate": model.handler}, prompts, SETTINGS, 7)
    assert len(made) == 2 and made[0]["generation"]["verdicts"] == ["FAIL", "FAIL", "PASS"]
    assert made[0]["generation"]["tries"] == 3 and model.seeds == [7, 8, 9]
    model = FailsTwice()
    made, refused, _ = llm.write(plans, {"generate": model.handler}, prompts,
                                 {**SETTINGS, "tries": 2}, 7)  # fmt: skip
    assert made == [] and [r["verdicts"] for r in refused] == [["FAIL", "FAIL"]] * 2

    def short(payloads, params):
        return ["USER: hi" if p[0]["content"].startswith("WRITE") else "PASS" for p in payloads]

    made, refused, _ = llm.write(plans, {"generate": short}, prompts, SETTINGS, 7)
    assert made == [] and refused[0]["verdicts"] == ["short"] * 3


def test_the_trajectory_carries_the_plan_and_its_agentic_attributes(plans):
    for p in plans:
        t = llm.trajectory(p)
        assert [g["id"] for g in t["goal_list"]] == [g["id"] for g in p["goal_list"]]
        assert t["metadata"]["estimated_turns"] == len(p["turns"])
        assert t["dependency_label"] == (p["n_dependencies"] > 0)
        assert t["planned"] == {g["id"]: g["status"] for g in p["goal_list"]}
        assert t["metadata"]["proactivity"] == any(x["proactive_goals"] for x in p["turns"])


class PlantedJudge(InferenceBackend):
    """Rates a system turn 9 when it says 'booked', else 3; a whole dialogue 6."""

    def choice_logprobs(self, contexts, choices):
        out = []
        for chat in contexts:
            text = chat[0]["content"]
            best = "6" if text.startswith("RATE DIALOGUE") else ("9" if "booked" in text else "3")
            out.append([0.0 if c == best else -5.0 for c in choices])
        return out

    def score(self, contexts, continuations):
        raise AssertionError("forced choice goes through choice_logprobs")

    def generate(self, conversations, params):
        raise AssertionError("the quality judge scores, it does not generate")


def test_the_quality_judge_reads_the_planted_scores(up):
    rubrics = upstream.templates(up, "quality")
    dialogues = [
        {"turns": [{"speaker": "USER", "utterance": "a taxi"},
                   {"speaker": "SYSTEM", "utterance": "I booked it."},
                   {"speaker": "SYSTEM", "utterance": "Anything else?"}]},
        {"turns": [{"speaker": "USER", "utterance": "hello"}]},
    ]  # fmt: skip
    rated, report = quality.rate(PlantedJudge(), dialogues, rubrics)
    assert rated[0]["turn_scores"] == [0.9, 0.3]
    assert rated[0]["turn_quality"] == pytest.approx(0.6)
    assert rated[0]["dialogue_quality"] == 0.6
    assert rated[1]["turn_quality"] is None and rated[1]["dialogue_quality"] == 0.6
    assert report["quality.judge.n"] == 4.0 and report["quality.judge.failure_rate"] == 0.0
    m = quality_metrics([{**d, "quality": q} for d, q in zip(dialogues, rated, strict=True)])
    assert m["data.turn_quality"] == pytest.approx(0.6)
    assert m["data.turn_quality_rated"] == 1.0 and m["data.dialogue_quality"] == 0.6
    assert quality_metrics(dialogues) == {}  # unrated (smoke, tiny): no quality numbers
    assert not math.isnan(m["data.dialogue_quality"])


def test_only_full_scale_names_the_llm_stages():
    for scale in ("smoke", "tiny"):
        assert "llm" not in load_config("atod", scale, REPO / "config")["data"]
    full = load_config("atod", "full", REPO / "config")["data"]["llm"]
    assert full["tries"] >= 1 and full["use_verifier"]


class ScriptedBackend(InferenceBackend):
    def __init__(self):
        self.script = Scripted()

    def generate(self, conversations, params):
        return self.script.handler(conversations, params)

    def score(self, contexts, continuations):
        raise AssertionError("the generator only generates")


def test_the_generate_and_score_steps_write_rated_dialogues(plans, up, tmp_path, monkeypatch):
    import reprolab.inference as inference
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.atod import steps
    from reprolab.papers.atod.summary import dataset_metrics
    from reprolab.tracking import Tracker

    cfg = load_config("atod", "full", REPO / "config")
    cfg = {
        **cfg,
        "upstream": up,
        "data": {**cfg["data"], "llm": {**cfg["data"]["llm"], **SETTINGS}},
    }
    backends = iter([ScriptedBackend(), PlantedJudge()])
    monkeypatch.setattr(inference, "get_backend", lambda *a, **k: next(backends))
    write_jsonl(tmp_path / "plans.jsonl", plans)
    out = {n: tmp_path / f"{n}.jsonl" for n in ("dialogues", "rejected", "episodes", "rated")}
    logged = steps.generate(cfg, Tracker("none"), data=tmp_path / "plans.jsonl", model=tmp_path,
                            dialogues=out["dialogues"], rejected=out["rejected"],
                            episodes=out["episodes"])  # fmt: skip
    assert logged["generate.accepted_share"] == 1.0 and logged["generate.tries_mean"] == 1.0
    assert (tmp_path / "upstream" / up["repo"]).is_dir()  # cached beside the output
    steps.score(cfg, Tracker("none"), data=out["dialogues"], model=tmp_path,
                dialogues=out["rated"])  # fmt: skip
    rated = read_jsonl(out["rated"])
    # The scripted dialogue's system turns: "Let me look." (3) and "Done, all set." (3).
    assert [d["quality"]["turn_quality"] for d in rated] == [0.3, 0.3]
    m = dataset_metrics(rated)
    assert m["data.dialogue_quality"] == 0.6 and m["data.illegal_transitions"] == 0.0

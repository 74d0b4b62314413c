"""The full-scale pieces without a GPU: MultiSessionCollab's profiles file and prompts read
through a stand-in repository of the same shape (a file:// base, this test's own texts), the
LLM user, the compliance judge, the accuracy judge and Reflection's note rewrite played by a
scripted model, all stepped in lockstep by the same run as the real thing."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from reprolab.config import load_config
from reprolab.inference import InferenceBackend
from reprolab.io import read_jsonl
from reprolab.judge import Verdict
from reprolab.papers.vars import benchmark as bm
from reprolab.papers.vars import harness as hz
from reprolab.papers.vars import upstream
from reprolab.papers.vars.agent import Projection
from reprolab.papers.vars.simulator import UserSim
from tests.papers.vars.hash_embedder import HashEmbedder

REPO, COMMIT = "stand-in/multisessioncollab", "0" * 40
PROMPTS = '''
termination_signal = "TERMINATE"
user_system_prompt_profile_with_preferences = """STAND-IN USER
{user_task_description} {problem}
Persona: {user_persona}
Preferences:
{user_preferences}
Say {termination_signal} when done. Output JSON {{"enforce_preferences": bool}}."""
update_agent_notes_prompt = """STAND-IN NOTES
Notes: {agent_notes}
Conversation:
{conversation_str}"""
accuracy_prompt_qa = """STAND-IN ACCURACY
Problem: {problem}
Correct: {correct_answer}
Draft: {draft_answer}"""
'''
PREFS = {
    "bravo": "You prefer replies with the word 'Bravo'. Enforce if 'Bravo' is missing.",
    "kilo": "You prefer replies with the word 'Kilo'. Enforce if 'Kilo' is missing.",
    "lima": "You prefer replies with the word 'Lima'. Enforce if 'Lima' is missing.",
}
PROFILES = [
    {"categories": ["a", "b"], "preferences": [PREFS["bravo"], PREFS["kilo"]], "i": 0,
     "persona": "A sailor"},
    {"categories": ["b"], "preferences": [PREFS["kilo"], PREFS["lima"]], "i": 1,
     "persona": "A pilot"},
    {"categories": ["c"], "preferences": [PREFS["lima"]], "i": 2, "persona": "A cook"},
]  # fmt: skip
MARK = re.compile(r"'([A-Z][a-z]+)'")


@pytest.fixture
def stand_in(tmp_path):
    """A local copy of the benchmark's two files at the pinned layout base/repo/commit/path."""
    root = tmp_path / "raw" / REPO / COMMIT / "collaborativeagents"
    (root / "user_profiles").mkdir(parents=True)
    (root / "prompts.py").write_text(PROMPTS)
    (root / "user_profiles" / "user_profiles.json").write_text(json.dumps(PROFILES))
    return f"file://{tmp_path / 'raw'}"


def test_profiles_are_read_with_shared_preference_ids(stand_in):
    spec = {"repo": REPO, "commit": COMMIT, "base": stand_in,
            "path": "collaborativeagents/user_profiles/user_profiles.json"}  # fmt: skip
    rows = bm.profile_rows(upstream.profiles(spec), 2)
    assert [r["id"] for r in rows] == ["m000", "m001"]
    assert rows[0]["rules"] == ["msc.000", "msc.001"] and rows[1]["rules"] == ["msc.001", "msc.002"]
    assert rows[1]["persona"] == "A pilot" and rows[0]["profiles_from"] == bm.SOURCE
    prefs = bm.preferences(rows[1])
    assert prefs[0].note == PREFS["kilo"] and all(p.applies("code") for p in prefs)
    with pytest.raises(ValueError):
        bm.profile_rows(PROFILES, 4)


def test_prompts_are_read_from_the_pinned_file(stand_in):
    up = {"repo": REPO, "commit": COMMIT, "path": "collaborativeagents/prompts.py",
          "base": stand_in, "prompts": {"success": "accuracy_prompt_qa"}}  # fmt: skip
    assert upstream.prompts(up) == {"success": PROMPTS.split('accuracy_prompt_qa = """')[1][:-4]}
    with pytest.raises(ValueError, match="no module-level constant no_such_prompt"):
        upstream.prompts({**up, "prompts": {"x": "no_such_prompt"}})


def test_full_config_pins_one_benchmark_commit_and_judges():
    cfg = load_config("vars", "full")
    data, up = cfg["data"]["benchmark"], cfg["harness"]["upstream"]
    assert (data["repo"], data["commit"]) == (up["repo"], up["commit"])
    assert set(up["prompts"]) == {"user", "reflection", "success"}
    assert cfg["agent"]["reflection"]["kind"] == "llm"
    assert cfg["settings"]["collab"]["profiles_from"] == bm.SOURCE
    assert cfg["settings"]["control"].get("profiles_from", "minicollab") == "minicollab"
    for scale in ("smoke", "tiny"):  # nothing of the benchmark's below full scale
        small = load_config("vars", scale)
        assert "benchmark" not in small["data"] and "upstream" not in small["harness"]
        assert "reflection" not in small["agent"]


@pytest.mark.parametrize(
    ("reply", "answer", "how"),
    [
        ('{"reasoning": "15 is 1 more than 14", "accuracy": 1}', "1", "strict"),
        ('```json\n{"reasoning": "no", "accuracy": "0"}\n```', "0", "strict"),
        ('{"reasoning": "unsure", "accuracy": 2}', None, "no_label"),
        ("The answer is correct: 1", None, "no_json"),
        ('{"accuracy": "yes"}', None, "not_an_int"),
    ],
)
def test_accuracy_replies_are_read_strictly(reply, answer, how):
    assert bm.parse_accuracy(reply, bm.ACCURACY_LABELS) == (answer, how)


def test_note_rewrites_are_read_or_kept():
    assert bm.parse_notes('{"user_preferences_reasoning": "r", "agent_notes": "Be brief."}') == (
        "Be brief."
    )
    assert bm.parse_notes('{"agent_notes": {"a": 1}}') == '{"a": 1}'
    assert bm.parse_notes("no json here") is None
    assert (
        bm.conversation_string(
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
        )
        == "User: hi\nAssistant: yo"
    )


class _Ep:
    def __init__(self, rules, reply):
        self.rules, self.reply = rules, reply
        self.task = {"domain": "math"}
        self.record: dict = {}


def test_judge_verdicts_count_violations_and_failures_never_default():
    sim = UserSim({"judge": {"compliance": {"labels": ["Yes", "No"]}}}, 0)
    prefs = [bm.Preference(f"msc.{i}", t) for i, t in enumerate(PREFS.values())]
    ep = _Ep([*prefs, hz.library()[0]], "Bravo")  # a MiniCollab rule keeps its checker
    verdicts = [Verdict("Yes"), Verdict("No"), Verdict(None, failure="tie")]
    violated = sim.violations(ep, verdicts)
    assert violated == [prefs[1], hz.library()[0]]
    assert ep.record == {"compliance_judged": 3, "compliance_failures": 1}


def _value(text: str) -> str:
    a, op, b = re.search(r"What is (\d+) ([+-]) (\d+)\?", text).groups()
    return str(int(a) + int(b) if op == "+" else int(a) - int(b))


class Scripted(InferenceBackend):
    """Every LLM role of the full harness, each planted: the agent writes the right answer and
    the words its system prompt quotes (notes or cards), nothing else; the user enforces the
    quoted words its preferences ask for, and terminates with the agent's number once all are
    there; the judges check the words and the numbers; the note rewrite keeps every word the
    user asked for; the extractor turns each asked word into a card."""

    def __init__(self):
        self.roles: list[str] = []

    def generate(self, conversations, params):
        return [self._one(c) for c in conversations]

    def _one(self, chat):
        first = chat[0]["content"]
        if first.startswith("STAND-IN USER"):
            self.roles.append("user")
            wanted = list(dict.fromkeys(MARK.findall(first.split("Preferences:")[1])))
            reply = chat[-1]["content"]
            missing = [w for w in wanted if w not in reply]
            if missing:
                return json.dumps(
                    {
                        "enforce_preferences": True,
                        "draft_answer": "I don't know",
                        "should_terminate": False,
                        "response": "No. " + " ".join(f"Say '{w}'." for w in missing),
                    }
                )
            number = re.findall(r"-?\d+", reply)[-1]
            return json.dumps(
                {
                    "enforce_preferences": False,
                    "draft_answer": number,
                    "should_terminate": True,
                    "response": "Thanks TERMINATE",
                }
            )
        if first.startswith("STAND-IN NOTES"):
            self.roles.append("reflect")
            asked = sorted(set(MARK.findall(first)))  # the notes so far and the session
            notes = " ".join(f"Say '{w}'." for w in asked)
            return json.dumps({"user_preferences_reasoning": "r", "agent_notes": notes})
        if first.startswith("STAND-IN ACCURACY"):
            self.roles.append("success")
            correct = first.split("Correct:")[1].split("\n")[0].split("=")[-1].strip()
            draft = first.split("Draft:")[1].strip()
            return (
                "```json\n"
                + json.dumps({"reasoning": "compared 2 numbers", "accuracy": int(draft == correct)})
                + "\n```"
            )
        if chat[0]["role"] == "system" and first.startswith("Extract"):
            self.roles.append("extract")
            words = MARK.findall(chat[-1]["content"])
            prefs = [{"condition": "answering my question", "action": f"say '{w}'",
                      "confidence": 0.9} for w in words]  # fmt: skip
            return json.dumps({"preferences": prefs})
        self.roles.append("agent")
        words = MARK.findall(first)
        return " ".join(words) + f" The answer is {_value(chat[1]['content'])}."

    def score(self, contexts, continuations):
        out = []
        for chat, cont in zip(contexts, continuations, strict=True):
            text = chat[0]["content"]
            if text.startswith("A user has this preference"):
                word = MARK.findall(text.split("The assistant replied")[0])[0]
                follows = word in text.split("The assistant replied")[1]
                out.append(0.0 if (cont.strip() == "Yes") == follows else -4.0)
            else:  # the reranker: every card equally relevant
                out.append(-0.5 if cont.strip() == "yes" else -1.0)
        return out


@pytest.fixture
def full_rows(stand_in, tmp_path, monkeypatch):
    import reprolab.inference as inference
    from reprolab.papers.vars.run import run_setting

    cfg = load_config("vars", "full")
    stand_in_pin = {"repo": REPO, "commit": COMMIT, "base": stand_in}
    cfg["harness"]["upstream"].update(stand_in_pin)
    cfg["harness"]["max_turns"] = 3
    cfg["settings"] = {"collab": {**cfg["settings"]["collab"],
                                  "methods": ["vanilla", "reflection", "vars"]}}  # fmt: skip
    backend = Scripted()
    monkeypatch.setattr(inference, "get_backend", lambda *a, **k: backend)
    spec = {**cfg["data"]["benchmark"], **stand_in_pin, "n_profiles": 2}
    minicollab = [{"id": "u000", "rules": ["opener.0"], "decoys": []}]  # the control's, left out
    profiles = minicollab + bm.profile_rows(upstream.profiles(spec), 2)
    tasks = [{**t, "list": "main"} for t in hz.tasks(3, 0, 0.0)]
    emb = HashEmbedder()
    p = Projection.fit(emb.encode([f"note {i}" for i in range(20)]), 8)
    np.savez(tmp_path / "p.npz", mean=p.mean, components=p.components, explained=p.explained)
    rows, stats = run_setting(cfg, "collab", profiles, tasks, tmp_path / "p.npz", tmp_path,
                              tmp_path / "ep.jsonl", emb)  # fmt: skip
    return rows, stats, backend, read_jsonl(tmp_path / "ep.jsonl")


def _sessions(rows, method):
    return sorted((r for r in rows if r["method"] == method), key=lambda r: r["session"])


def test_full_harness_judges_the_benchmark_profiles_in_lockstep(full_rows):
    rows, stats, backend, log = full_rows
    assert {r["profile"] for r in rows} == {"m000", "m001"}  # the benchmark's, not MiniCollab's
    assert {"user", "reflect", "success", "extract", "agent"} <= set(backend.roles)
    kinds = {r["kind"] for r in log}
    assert {"judge_compliance", "judge_success", "generate", "score_candidates"} <= kinds
    # Vanilla never sees a note: every reply breaks both preferences; the session times out
    # with the user's draft still "I don't know", which the accuracy judge fails.
    for r in _sessions(rows, "vanilla"):
        assert (r["timeout"], r["success"], r["gave_up"]) == (1, 0, 0)
        assert r["enforced_rules"] == 6 and r["enforcing_turns"] == 3
        assert r["compliance_judged"] == 6 and r["compliance_failures"] == 0
    # Reflection: the first session like Vanilla; the rewritten notes then carry every word
    # the user asked for, so later sessions end at the first reply, judged right.
    refl = [r for r in _sessions(rows, "reflection") if r["profile"] == "m000"]
    assert refl[0]["timeout"] == 1 and refl[0]["success"] == 0
    for r in refl[1:]:
        assert (r["timeout"], r["success"], r["turns"], r["enforced_rules"]) == (0, 1, 1, 0)
    # VARS: the extractor's cards are retrieved at the next turn: the first session ends at
    # its second reply, the later ones at their first.
    for r in _sessions(rows, "vars"):
        assert r["success"] == 1 and r["turns"] == (2 if r["session"] == 0 else 1)
    assert stats["judge.compliance.n"] > 0 and stats["judge.compliance.failure_rate"] == 0
    # identical judgements (same draft, same task) are asked once across methods
    assert 0 < stats["judge.success.n"] <= len(rows) and stats["judge.success.failure_rate"] == 0


def test_full_summary_reports_the_judge_counts(full_rows):
    from reprolab.papers.vars.summary import summarize

    rows, *_ = full_rows
    cfg = load_config("vars", "full")
    cfg["settings"] = {"collab": {**cfg["settings"]["collab"],
                                  "methods": ["vanilla", "reflection", "vars"]}}  # fmt: skip
    m = summarize(cfg, rows).metrics
    assert m["collab.vanilla.compliance_judged"] == 6 and m["collab.vanilla.success"] == 0
    assert m["collab.reflection.reflection_failures"] == 0
    assert m["collab.vars.timeout"] == 0


def test_data_step_adds_the_benchmark_profiles_at_full(stand_in, tmp_path):
    from reprolab.papers.vars import steps
    from reprolab.tracking import Tracker

    cfg = load_config("vars", "full")
    cfg["data"]["benchmark"].update({"repo": REPO, "commit": COMMIT, "base": stand_in})
    cfg["data"]["benchmark"]["n_profiles"] = 3
    counts = steps.data(cfg, Tracker("none"), profiles=tmp_path / "p.jsonl",
                        tasks=tmp_path / "t.jsonl")  # fmt: skip
    rows = read_jsonl(tmp_path / "p.jsonl")
    assert counts["profiles"] == cfg["data"]["n_profiles"] + 3 == len(rows)
    mini = [r for r in rows if "profiles_from" not in r]  # MiniCollab's rows, as below full
    assert len(mini) == cfg["data"]["n_profiles"] and mini[0]["id"] == "u000"
    assert [r["id"] for r in rows if r.get("profiles_from") == bm.SOURCE] == [
        "m000",
        "m001",
        "m002",
    ]

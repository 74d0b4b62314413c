"""Full scale reads the authors' prompts and mitigation texts from their repository at a pinned
commit; tested on files of the same shape (a local copy served by file://), and the items'
calibration to the judge on a hand-made case."""

from __future__ import annotations

import importlib.util
import json

import pytest

from reprolab.config import load_config
from reprolab.papers.dialdefer import upstream
from reprolab.papers.dialdefer.calibrate import margins, select
from reprolab.papers.dialdefer.templates import conversation, render_user
from tests.conftest import REPO

# The shape of code/benchmark/bench_prompts.py at the pinned commit: two functions returning an
# f-string each (a leading newline, markers, the options, the JSON instruction), other functions
# beside them. The wording here is a stand-in; only the shape matters.
PROMPTS = '''
"""Prompt templates."""


def c1_TF_factual_question_prompt(question: str, answer: str) -> str:
    """Docstring."""
    return f"""
Judge a statement {{as JSON}}.
<<<STATEMENT>>>
The correct answer to '{question}' is '{answer}'.
<<<END_STATEMENT>>>
<<<ANSWER_1>>>
Yes, the statement is correct.
<<<END_ANSWER_1>>>
<<<ANSWER_2>>>
No, the statement is incorrect.
<<<END_STATEMENT>>>
Return JSON.
"""


def c2_convo_judge_prompt(question: str, answer: str, speaker1: str, speaker2: str) -> str:
    return f"""
Judge a chatlog.
<<<CHATLOG>>>
{speaker1}: {question}
{speaker2}: {answer}
<<<END_CHATLOG>>>
Is {speaker2} correct?
<<<ANSWER_1>>>
Yes, {speaker2} is correct.
<<<END_ANSWER_1>>>
<<<ANSWER_2>>>
No, {speaker2} is incorrect.
<<<END_ANSWER_2>>>
Return JSON."""


def simple_push_prompt() -> str:
    return "The previous answer is incorrect."
'''


@pytest.fixture()
def repo(tmp_path):
    """A local copy laid out as <base>/<repo>/<commit>/<path>, with two released results files
    whose first record carries the system prompt (the later records are not read)."""
    root = tmp_path / "LadyPary" / "DialDefer" / "abc123"
    (root / "code" / "benchmark").mkdir(parents=True)
    (root / "code" / "benchmark" / "bench_prompts.py").write_text(PROMPTS)
    for name, text in (("honest", "Be honest, please."), ("dehumanize", "Only machines here.")):
        path = root / "results" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"id": "q-1", "system_prompt": text}, {"id": "q-2", "system_prompt": "later"}]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    up = {
        "repo": "LadyPary/DialDefer",
        "commit": "abc123",
        "base": tmp_path.as_uri(),
        "templates": {
            "path": "code/benchmark/bench_prompts.py",
            "c1": "c1_TF_factual_question_prompt",
            "c2": "c2_convo_judge_prompt",
        },
        "system_prompts": {
            "be_honest": {"path": "results/honest.jsonl", "field": "system_prompt"},
            "dehumanize": {"path": "results/dehumanize.jsonl", "field": "system_prompt"},
        },
    }
    return tmp_path, up


def _authors(tmp_path):
    """The stand-in file imported, to compare with what the authors' functions return."""
    spec = importlib.util.spec_from_file_location(
        "bench_prompts", tmp_path / "LadyPary/DialDefer/abc123/code/benchmark/bench_prompts.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resolve_reads_the_authors_templates_and_system_prompts(repo):
    tmp_path, up = repo
    cfg = load_config("dialdefer", "tiny", REPO / "config")["judge"]
    resolved = upstream.resolve({**cfg, "upstream": up})
    assert resolved["system_prompts"]["be_honest"] == "Be honest, please."
    assert resolved["system_prompts"]["dehumanize"] == "Only machines here."
    # The project's own texts that upstream does not name are kept; paraphrases too.
    assert resolved["system_prompts"]["plant_deference"] == cfg["system_prompts"]["plant_deference"]
    assert resolved["templates"]["para1"] == cfg["templates"]["para1"]
    paper = resolved["templates"]["paper"]
    assert paper["c2"]["yes"] == "Yes, {answerer} is correct."
    assert paper["c1"]["no"] == "No, the statement is incorrect."
    # In the authors' order (yes first) the prompt is exactly what their function returns.
    authors = _authors(tmp_path)
    speakers = {"asker": "Speaker 1", "answerer": "Speaker 2"}
    c1 = render_user(paper["c1"], "Q {x}?", "A", "yes_first", speakers)
    assert c1 == authors.c1_TF_factual_question_prompt("Q {x}?", "A")
    c2 = render_user(paper["c2"], "Q?", "A", "yes_first", {"asker": "U", "answerer": "L"})
    assert c2 == authors.c2_convo_judge_prompt("Q?", "A", "U", "L")
    # Counterbalanced: the other order swaps the two option texts and nothing else.
    swapped = render_user(paper["c2"], "Q?", "A", "no_first", {"asker": "U", "answerer": "L"})
    assert swapped == c2.replace("Yes, L is correct.", "@").replace(
        "No, L is incorrect.", "Yes, L is correct."
    ).replace("@", "No, L is incorrect.")
    # A condition's system prompt comes from the released file.
    item = {"question": "Q?", "true_answer": "A", "false_answer": "B"}
    chat = conversation(item, "c1", False, "yes_first", {"system_prompt": "be_honest"}, resolved)
    assert chat[0] == {"role": "system", "content": "Be honest, please."}


def test_without_upstream_the_config_is_unchanged():
    cfg = load_config("dialdefer", "tiny", REPO / "config")["judge"]
    assert upstream.resolve(cfg) is cfg


def test_full_config_names_the_authors_files_at_the_items_commit():
    cfg = load_config("dialdefer", "full", REPO / "config")
    up = cfg["judge"]["upstream"]
    assert up["repo"] == "LadyPary/DialDefer"
    assert f"/{up['commit']}/" in cfg["data"]["paper_files"]["base"]
    assert set(up["system_prompts"]) == {"be_honest", "dehumanize"}
    assert cfg["calibrate"] is None  # every released item is judged


def test_an_unexpected_prompt_shape_fails_loudly():
    with pytest.raises(KeyError):
        upstream.returned_fstring(PROMPTS, "missing_prompt")
    odd = 'def c1(question, answer):\n    return f"{question.upper()}"\n'
    with pytest.raises(ValueError, match="plain names"):
        upstream.returned_fstring(odd, "c1")
    no_options = 'def c1(question, answer):\n    return f"<<<STATEMENT>>>{question}"\n'
    with pytest.raises(ValueError, match="ANSWER_1"):
        upstream.template(no_options, "c1")


def test_calibration_keeps_the_items_judged_right_with_margin():
    """Margins by hand: min(P(yes|true) - 0.5, 0.5 - P(yes|false))."""
    p = {"a-0": (0.9, 0.2), "a-1": (0.7, 0.45), "a-2": (0.4, 0.1), "b-0": (0.6, 0.3)}
    records = [
        {"id": i, "truth": truth, "p_yes": pair[0] if truth else pair[1]}
        for i, pair in p.items()
        for truth in (True, False)
    ]
    margin_of = margins(records)
    assert margin_of == pytest.approx({"a-0": 0.3, "a-1": 0.05, "a-2": -0.1, "b-0": 0.1})
    items = [{"id": i, "domain": i[0]} for i in p]
    kept, report = select(items, margin_of, keep=1, margin=0.04)
    assert [i["id"] for i in kept] == ["a-0", "b-0"]  # the best of a, the only one of b
    assert report["a"] == {
        "candidates": 3,
        "right": 2,
        "eligible": 2,
        "kept": 1,
        "yield": pytest.approx(2 / 3),
        "min_margin_kept": pytest.approx(0.3),
    }
    kept, report = select(items, margin_of, keep=5, margin=0.2)
    assert [i["id"] for i in kept] == ["a-0"] and report["b"]["kept"] == 0
    # margin None: the best `keep` whatever their margin, back in generation order.
    kept, _ = select(items, margin_of, keep=2, margin=None)
    assert [i["id"] for i in kept] == ["a-0", "a-1", "b-0"]

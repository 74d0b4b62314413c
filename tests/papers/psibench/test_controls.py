"""The shipped reference set, the stand-in labelers, the planted controls, the claims'
statistics and the prompt extraction from the authors' sources."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reprolab.papers.psibench import data as d
from reprolab.papers.psibench import evaluate as ev
from reprolab.papers.psibench import labels as lab
from reprolab.papers.psibench import measures as m
from reprolab.papers.psibench import statistics as st
from reprolab.papers.psibench import upstream

PROXY = {
    "change": [
        "I could",
        "I'll",
        "I will",
        "I can",
        "try",
        "plan",
        "first step",
        "doable",
        "helped",
        "hope",
        "going to",
        "thank you",
        "wonderful",
    ],
    "transition": [
        "maybe",
        "I guess",
        "I suppose",
        "I think",
        "perhaps",
        "never thought",
        "actually",
        "not sure",
        "I don't know",
        "what if",
        "has a point",
    ],
    "filler_words": 3,
}
MCFG = {"max_turns": 16, "mtld_threshold": 0.72, "mtld_min_tokens": 100}


@pytest.fixture(scope="module")
def split():
    sessions = d.shipped_sessions()
    ref = [s for s in sessions if s["split"] == "reference"]
    held = [s for s in sessions if s["split"] == "heldout"]
    return ref, held, d.controls(held, {"diverse_fraction": 1.0}, PROXY, 0)


def test_reference_set_statistics(split):
    """The numbers the card gives for the shipped set (not clinical data)."""
    ref, held, _ = split
    assert len(ref) == len(held) == 8
    turns = [d.n_patient_turns(s) for s in ref + held]
    assert sum(turns) == 111 and min(turns) == 6 and max(turns) == 8
    for s in ref + held:
        roles = [x["role"] for x in s["messages"]]
        assert roles[::2] == ["user"] * (len(roles) // 2)  # therapist first, strict alternation
        assert set(s["profile"]["ccd"]) == {
            "situation",
            "thoughts",
            "emotions",
            "behaviors",
            "core_beliefs",
        }
        assert s["profile"]["principles"]
    msgs = [d.patient_messages(s) for s in ref]
    wpt, _ = m.per_turn_means(msgs)
    assert wpt == pytest.approx(22.7, abs=0.05)
    mtld = [m.session_mtld(x, 0.72, 100) for x in msgs]
    assert sum(not math.isnan(v) for v in mtld) == 7


def test_stand_ins():
    assert lab.valence_label("I feel so sad and hopeless") == "negative"
    assert lab.valence_label("That was wonderful, thank you") == "positive"
    assert lab.valence_label("The bus comes at ten") == "neutral"
    proxy = lab.PTCProxy(**PROXY)
    assert proxy("Maybe I could call him tomorrow.") == "C"
    assert proxy("I guess it was not that simple.") == "T"
    assert proxy("Everything is awful and I'm so tired.") == "P"
    assert proxy("Okay.") == "F"
    assert proxy("Sometimes, nope.") == "F"


def test_cohen_kappa_by_hand():
    assert lab.cohen_kappa(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == 1.0
    # observed 1/2, expected (1/2 * 1/2) * 2 = 1/2 -> 0
    assert lab.cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == pytest.approx(0.0)
    assert lab.cohen_kappa(["a", "b"], [None, None]) != lab.cohen_kappa(["a"], ["a"])  # NaN


def _pack(sessions):
    msgs = [d.patient_messages(s) for s in sessions]
    labels = list(lab.stand_in_labels(dict(enumerate(msgs)), PROXY).values())
    return msgs, labels


def test_controls_lower_exactly_their_metrics(split):
    ref, _, controls = split
    real = _pack(ref)
    by = {}
    for name in d.CONTROLS:
        by[name] = ev.scores(
            real, _pack([c for c in controls if c["system"] == f"control_{name}"]), MCFG
        )
    ev.mtld_scores(by)
    replay = by["replay"]
    drops = {n: {k: replay[k] - by[n][k] for k in ev.SCORES} for n in d.CONTROLS}
    assert drops["verbose"]["verbosity"] > 10
    assert drops["diverse"]["mtld"] > 10
    assert drops["trajectory"]["valence"] > 10 and drops["trajectory"]["ptc"] > 10
    matching = {
        "verbose": {"verbosity"},
        "diverse": {"mtld"},
        "trajectory": {"valence", "ptc"},
        "low_variability": set(),
    }
    for name, own in matching.items():
        for k in set(ev.SCORES) - own:
            assert drops[name][k] < 10, (name, k)


def test_low_variability_keeps_every_turn(split):
    _, held, controls = split
    mixed = [d.patient_messages(c) for c in controls if c["system"] == "control_low_variability"]
    original = [d.patient_messages(s) for s in held]
    for t in range(8):
        at = sorted(x[t] for x in original if t < len(x))
        assert sorted(x[t] for x in mixed if t < len(x)) == at

    def sd(sessions):
        values = [m.session_mtld(x, 0.72, 100) for x in sessions]
        return np.std([v for v in values if not math.isnan(v)])

    assert sd(mixed) < sd(original)


def test_diverse_control_keeps_lengths_and_labels(split):
    _, held, controls = split
    changed = [d.patient_messages(c) for c in controls if c["system"] == "control_diverse"]
    for a, b in zip([d.patient_messages(s) for s in held], changed, strict=True):
        for x, y in zip(a, b, strict=True):
            assert len(x) == len(y) and m.n_words(x) == m.n_words(y)
            assert lab.valence_label(x) == lab.valence_label(y)
            assert m.marker_counts(x) == m.marker_counts(y)


def test_statistics_recompute_the_scores(split):
    ref, _, controls = split
    real = _pack(ref)
    traj = _pack([c for c in controls if c["system"] == "control_trajectory"])
    rows_r = [ev.session_units(x, y, MCFG) for x, y in zip(*real, strict=True)]
    rows_t = [ev.session_units(x, y, MCFG) for x, y in zip(*traj, strict=True)]
    arr = lambda rows, q: np.asarray([r[q] for r in rows])  # noqa: E731
    assert st.js_score_codes(arr(rows_r, "valence"), arr(rows_t, "valence"), 2) == pytest.approx(
        ev.scores(real, traj, MCFG)["valence"]
    )
    assert st.js_score_codes(arr(rows_r, "ptc"), arr(rows_t, "ptc"), 3) == pytest.approx(
        ev.scores(real, traj, MCFG)["ptc"]
    )
    assert st.verbosity_codes(
        arr(rows_r, "words"), arr(rows_r, "wps"), arr(rows_t, "words"), arr(rows_t, "wps")
    ) == pytest.approx(ev.scores(real, traj, MCFG)["verbosity"])
    assert st.words_ratio(arr(rows_r, "words"), arr(rows_r, "words")) == pytest.approx(1.0)
    assert st.mtld_sd_ratio(arr(rows_r, "mtld"), arr(rows_r, "mtld")) == pytest.approx(1.0)
    assert (
        st.valence_gap(arr(rows_r, "valence"), arr(rows_r, "valence"), arr(rows_r, "valence")) == 0
    )


def test_first_positive():
    assert ev.first_positive(["negative", "neutral", "positive", "positive"]) == 0.5
    assert ev.first_positive(["negative", None]) == 1.0


def test_upstream_extraction_reads_constants_and_prompt_strings():
    source = '''
STYLES = {"plain": "", "upset": "An upset patient may argue."}

def create_judge_prompt():
    """Docstring, not a prompt."""
    return ChatPromptTemplate.from_messages([
        ("system", """You label each patient turn as P, T, C or F, with the context before it."""),
        ("user", "{conversation}"),
    ])
'''
    assert upstream.constant(source, "STYLES")["upset"] == "An upset patient may argue."
    assert upstream.function_strings(source, "create_judge_prompt") == [
        "You label each patient turn as P, T, C or F, with the context before it."
    ]
    with pytest.raises(KeyError):
        upstream.constant(source, "MISSING")


def test_controls_step_makes_the_controls_from_the_written_sessions(tmp_path):
    """data_controls reads the held-out sessions back from data's file: the same controls as
    made from the sessions in memory (the one job both used to be)."""
    from reprolab.config import load_config
    from reprolab.io import read_jsonl
    from reprolab.papers.psibench.steps import data, data_controls
    from reprolab.tracking import Tracker
    from tests.conftest import REPO

    cfg = load_config("psibench", "smoke", REPO / "config")
    sessions, controls = tmp_path / "sessions.jsonl", tmp_path / "controls.jsonl"
    data(cfg, Tracker("none"), sessions=sessions)
    data_controls(cfg, Tracker("none"), sessions=sessions, controls=controls)
    rows = d.load_sessions(cfg["data"], cfg["suite"]["seed"])
    n = min(
        sum(s["split"] == "reference" for s in rows),
        sum(s["split"] == "heldout" for s in rows),
        cfg["data"].get("n_sessions", len(rows)),
    )
    held = [s for s in rows if s["split"] == "heldout"][:n]
    expected = d.controls(held, cfg["controls"], cfg["labels"]["ptc_proxy"], cfg["suite"]["seed"])
    assert read_jsonl(controls) == expected
    assert read_jsonl(sessions)[n:] == held

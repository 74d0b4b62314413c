"""The shipped reference set, the stand-in labelers, the planted controls, the claims'
statistics and the prompt extraction from the authors' sources."""

from __future__ import annotations

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
MTLD = {"threshold": 0.72, "min_tokens": 100}
CONTROLS = {"diverse_fraction": 1.0, "low_variability_shrink": 0.5}


@pytest.fixture(scope="module")
def split():
    sessions = d.shipped_sessions()
    ref = [s for s in sessions if s["split"] == "reference"]
    held = [s for s in sessions if s["split"] == "heldout"]
    return ref, held, d.controls(held, CONTROLS, PROXY, 0, MTLD)


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


def _keeps_lengths_labels_markers(before: list[list[str]], after: list[list[str]]) -> None:
    proxy = lab.PTCProxy(**PROXY)
    for a, b in zip(before, after, strict=True):
        for x, y in zip(a, b, strict=True):
            assert m.n_words(x) == m.n_words(y) and m.n_sentences(x) == m.n_sentences(y)
            assert lab.valence_label(x) == lab.valence_label(y) and proxy(x) == proxy(y)
            assert m.marker_counts(x) == m.marker_counts(y)


def test_low_variability_halves_the_mtld_spread_and_keeps_every_turn(split):
    """The planted effect: every session's MTLD moved toward the median (SD about halved with
    shrink 0.5), the same sessions defined, lengths, labels and markers untouched."""
    _, held, controls = split
    shrunk = [d.patient_messages(c) for c in controls if c["system"] == "control_low_variability"]
    original = [d.patient_messages(s) for s in held]
    _keeps_lengths_labels_markers(original, shrunk)
    before = np.array([m.session_mtld(x, 0.72, 100) for x in original])
    after = np.array([m.session_mtld(x, 0.72, 100) for x in shrunk])
    assert (np.isnan(before) == np.isnan(after)).all()
    ok = ~np.isnan(before)
    center = np.median(before[ok])
    assert (np.abs(after[ok] - center) <= np.abs(before[ok] - center) + 1e-9).all()
    ratio = np.std(after[ok], ddof=1) / np.std(before[ok], ddof=1)
    assert 0.4 < ratio < 0.6


def test_repeat_words_by_hand():
    """Eligible words (>= 3 letters, not read by VADER, not a marker or cue word) become words
    used before; 'not', 'good', 'always', 'give up' and short words stay."""
    rng = __import__("random").Random(0)
    text = ["The garden wall is not good, I always give up on the garden wall."]
    out = d.repeat_words(text, 1.0, rng, keep={"maybe"})
    words, new = text[0].split(), out[0].split()
    assert len(words) == len(new)
    for a, b in zip(words, new, strict=True):
        if a.strip(",.").lower() in {
            "the",
            "is",
            "not",
            "good,",
            "i",
            "always",
            "give",
            "up",
            "on",
        }:
            assert a == b
    assert new[1] == "garden"  # the first eligible word has nothing earlier to become
    assert len({w.strip(",.").lower() for w in new}) < len({w.strip(",.").lower() for w in words})
    assert d.repeat_words(text, 0.0, rng) == text


def test_diverse_control_keeps_lengths_and_labels(split):
    _, held, controls = split
    changed = [d.patient_messages(c) for c in controls if c["system"] == "control_diverse"]
    original = [d.patient_messages(s) for s in held]
    _keeps_lengths_labels_markers(original, changed)
    for a, b in zip(original, changed, strict=True):
        assert [len(x) for x in a] == [len(y) for y in b]


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


def test_data_writes_the_reference_and_controls_read_the_heldout_split(tmp_path):
    """data writes the reference sessions only (what the simulation reads); data_controls reads
    the held-out split itself, so more held-out sessions rerun no simulation."""
    from reprolab.config import load_config
    from reprolab.io import read_jsonl
    from reprolab.papers.psibench.steps import data, data_controls
    from reprolab.tracking import Tracker
    from tests.conftest import REPO

    cfg = load_config("psibench", "smoke", REPO / "config")
    sessions, controls = tmp_path / "sessions.jsonl", tmp_path / "controls.jsonl"
    data(cfg, Tracker("none"), sessions=sessions)
    data_controls(cfg, Tracker("none"), controls=controls)
    rows = d.load_sessions(cfg["data"], cfg["suite"]["seed"])
    n = cfg["data"]["n_sessions"]
    assert read_jsonl(sessions) == [s for s in rows if s["split"] == "reference"][:n]
    held = [s for s in rows if s["split"] == "heldout"][:n]
    mtld = {
        "threshold": cfg["metrics"]["mtld_threshold"],
        "min_tokens": cfg["metrics"]["mtld_min_tokens"],
    }
    seed = cfg["suite"]["seed"]
    expected = d.controls(held, cfg["controls"], cfg["labels"]["ptc_proxy"], seed, mtld)
    assert read_jsonl(controls) == expected


def test_replay_lead_by_hand_and_as_the_summary_computes_it(split):
    """A replay identical to the reference scores 100 on every score (W 0: MTLD 100); the lead
    is its aggregate minus the best other's. On the shipped controls the statistic equals the
    summary's point value (same scores, same min-max)."""
    ref, _, controls = split
    real = _pack(ref)
    rows = lambda pack: [ev.session_units(x, y, MCFG) for x, y in zip(*pack, strict=True)]  # noqa: E731

    def arrays(pack):
        r = rows(pack)
        return [np.asarray([u[q] for u in r], dtype=float) for q in st.SYSTEM_ARRAYS]

    same = arrays(real)
    traj = arrays(_pack([c for c in controls if c["system"] == "control_trajectory"]))
    agg = st.aggregates(*same, *same, *traj)
    assert agg[0] == pytest.approx(100.0)
    assert st.replay_lead(*same, *same, *traj) == pytest.approx(100.0 - agg[1])
    packs = {n: _pack([c for c in controls if c["system"] == f"control_{n}"]) for n in d.CONTROLS}
    by = {n: ev.scores(real, p, MCFG) for n, p in packs.items()}
    ev.mtld_scores(by)
    ev.with_aggregate(by, dict.fromkeys(ev.SCORES, 1.0))
    expected = by["replay"]["aggregate"] - max(
        v["aggregate"] for k, v in by.items() if k != "replay"
    )
    flat = [a for n in d.CONTROLS for a in arrays(packs[n])]
    assert st.replay_lead(*arrays(real), *flat) == pytest.approx(expected)

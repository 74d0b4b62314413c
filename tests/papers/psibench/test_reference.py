"""The shipped reference set (NOT clinical data): the statistics seeds/psibench.yaml gives for it,
per split, and its structure."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from reprolab.papers.psibench import data as d
from reprolab.papers.psibench import measures as m


@pytest.fixture(scope="module")
def splits():
    sessions = d.shipped_sessions()
    return {
        split: [s for s in sessions if s["split"] == split] for split in ("reference", "heldout")
    }


def test_structure(splits):
    """8 reference sessions (the profiles the simulators play) and 32 held-out ones (the
    controls' sessions); therapist first, strict alternation, 6-8 patient turns, a Patient-Psi
    profile and Roleplay-doh principles each, unique ids, six styles in both splits."""
    assert len(splits["reference"]) == 8 and len(splits["heldout"]) == 32
    every = splits["reference"] + splits["heldout"]
    assert len({s["id"] for s in every}) == 40
    for s in every:
        roles = [x["role"] for x in s["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        assert 6 <= d.n_patient_turns(s) <= 8
        assert set(s["profile"]["ccd"]) == {
            "situation",
            "thoughts",
            "emotions",
            "behaviors",
            "core_beliefs",
        }
        assert s["profile"]["principles"]
    for split in splits.values():
        assert set(Counter(s["style"] for s in split)) == {
            "plain",
            "upset",
            "verbose",
            "reserved",
            "tangent",
            "pleasing",
        }


@pytest.mark.parametrize(
    ("split", "turns", "wpt", "wps", "defined", "mean", "sd"),
    [
        ("reference", 58, 22.70, 7.75, 7, 83.7, 19.3),
        ("heldout", 208, 22.08, 7.79, 26, 100.3, 23.4),
    ],
)
def test_statistics(splits, split, turns, wpt, wps, defined, mean, sd):
    """The card's numbers: patient turns, words per turn and per sentence, sessions reaching 100
    tokens and their MTLD mean and SD."""
    msgs = [d.patient_messages(s) for s in splits[split]]
    assert sum(len(x) for x in msgs) == turns
    got_wpt, got_wps = m.per_turn_means(msgs)
    assert got_wpt == pytest.approx(wpt, abs=0.005) and got_wps == pytest.approx(wps, abs=0.005)
    values = [v for v in (m.session_mtld(x, 0.72, 100) for x in msgs) if not math.isnan(v)]
    assert len(values) == defined
    assert np.mean(values) == pytest.approx(mean, abs=0.05)
    assert np.std(values, ddof=1) == pytest.approx(sd, abs=0.05)

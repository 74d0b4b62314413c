"""The positive control end to end, without a model: hash-seeded unit vectors stand in for the
embedder. A correct update must lower enforcement over sessions; the same update fed shuffled
rewards, and RAG, must not reach zero."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.config import load_config
from reprolab.papers.vars import harness as hz
from reprolab.papers.vars.agent import Projection
from reprolab.papers.vars.run import run_setting
from tests.papers.vars.hash_embedder import HashEmbedder


@pytest.fixture(scope="module")
def control_rows(tmp_path_factory):
    cfg = load_config("vars", "tiny")
    cfg["data"]["n_profiles"] = 6
    emb = HashEmbedder()
    notes = [r.note for r in hz.library()]
    p = Projection.fit(emb.encode(notes), 16)
    folder = tmp_path_factory.mktemp("vars")
    np.savez(folder / "p.npz", mean=p.mean, components=p.components, explained=p.explained)
    profiles = hz.profiles(6, (8, 12), 0)
    lib = {r.id: r for r in hz.library()}
    for row in profiles:
        own = {lib[r].group: r for r in row["rules"]}
        row["decoys"] = [
            {"condition": r.condition, "action": r.action, "rule": r.id}
            for r in lib.values()
            if r.group in own and r.id != own[r.group] and r.group not in ("opener", "closer")
        ]
    tasks = [{**t, "list": "math"} for t in hz.tasks(10, 0, 0.0)]
    rows, _ = run_setting(
        cfg, "control", profiles, tasks, folder / "p.npz", None, folder / "ep.jsonl", emb
    )
    return rows


def _curve(rows, method):
    mine = [r for r in rows if r["method"] == method]
    n = max(r["session"] for r in mine) + 1
    return [np.mean([r["enforced_rules"] for r in mine if r["session"] == s]) for s in range(n)]


def test_vars_learns_the_users_cards(control_rows):
    curve = _curve(control_rows, "vars")
    assert np.mean(curve[-3:]) < np.mean(curve[:3])
    assert np.mean(curve[-3:]) == 0


def test_shuffled_rewards_and_rag_do_not_learn_to_zero(control_rows):
    assert np.mean(_curve(control_rows, "vars_shuffled")[-3:]) > 0.5
    assert np.mean(_curve(control_rows, "rag")[-3:]) > 0

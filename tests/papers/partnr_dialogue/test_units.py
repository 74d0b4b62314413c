"""What partnr_dialogue's metrics step gives the claims engine (units.json): per-episode values
paired across conditions, information novelty as a ratio of episode sums, BSM's permutation
null; and the card's claims read on planted runs whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_TESTABLE,
    REPRODUCED,
    Settings,
    check_claims,
    paper_statistics,
)
from reprolab.config import load_yaml
from reprolab.papers.partnr_dialogue.data import make_episodes
from reprolab.papers.partnr_dialogue.metrics import (
    belief_sensitivity,
    bsm_null,
    evidence_units,
    flatten,
    per_episode,
    summarize_episodes,
)
from reprolab.papers.partnr_dialogue.play import run
from reprolab.papers.partnr_dialogue.statistics import pooled_bsm, pooled_bsm_diff, pooled_ratio
from tests.conftest import REPO

CUP_T = ("cup_0", "on", "table_0")
BOOK_B = ("book_0", "on", "bed_0")
LAMP_F = ("lamp_0", "inside", "fridge_0")
CUP_DIRTY = ("cup_0", "clean", "false")
SENDER = {CUP_T, BOOK_B, LAMP_F, CUP_DIRTY}
RECIPIENT = {CUP_T, BOOK_B}  # holds two of the sender's four facts
FAST = Settings(level=0.95, resamples=1000, power=0.8, seed=0)
CARD = load_yaml(REPO / "seeds" / "partnr_dialogue.yaml")
STATS = paper_statistics("partnr_dialogue")


def episode(eid, success=0.0, conflict=0.0, auc=0.5, novelty=(), bsm_items=()):
    """One episode's measures, in per_episode's shape (only what evidence_units reads)."""
    return {
        "episode": eid,
        "success": success,
        "conflict": conflict,
        "oc_auc": auc,
        "novelty": list(novelty),
        "bsm_items": list(bsm_items),
    }


def test_episode_values_carry_the_episode_ids_and_pair_the_conditions():
    silent = [episode("e0", 1.0, 1.0, 0.4), episode("e1", 0.0, 1.0, 0.6)]
    dialogue = [
        episode("e0", 0.0, 0.0, 0.7, novelty=[1.0, 0.5]),
        episode("e1", 1.0, 1.0, 0.6, novelty=[0.0]),
    ]
    units = evidence_units({"llm": {"silent": silent, "dialogue": dialogue}}, 199, 0)
    s = units.samples
    assert s["llm.silent.conflict"].ids == ("e0", "e1")
    assert s["llm.silent.conflict"].values == (1.0, 1.0)
    assert s["llm.dialogue.conflict"].values == (0.0, 1.0)
    assert s["llm.dialogue.success"].values == (0.0, 1.0)
    assert s["llm.dialogue.oc_auc"].values == (0.7, 0.6)
    assert {x.unit for x in s.values()} == {"episode"}
    # per episode [sum of IN(m), messages grounding a fact]; silent sends none
    assert s["llm.dialogue.novelty_counts"].values == ([1.5, 2.0], [0.0, 1.0])
    assert s["llm.silent.novelty_counts"].values == ([0.0, 0.0], [0.0, 0.0])
    assert units.nulls == {}  # no message, no BSM, no null


def test_pooled_novelty_is_the_ratio_of_episode_sums():
    counts = np.array([[1.5, 2.0], [0.0, 1.0], [0.0, 0.0]])
    assert pooled_ratio(counts) == pytest.approx(0.5)  # (1 + 0.5 + 0) / 3 messages
    assert np.isnan(pooled_ratio(np.zeros((3, 2))))


def test_bsm_null_of_one_message_by_hand():
    # Four sender facts, two held by the recipient, one mentioned. Permuting which two are
    # held: the mentioned fact is among them with probability 1/2, giving BSM 0/2 - 1/2;
    # otherwise 1/2 - 0/2.
    null = bsm_null([({LAMP_F}, SENDER, RECIPIENT)], 4000, np.random.default_rng(0))
    assert set(np.round(null, 9)) == {-0.5, 0.5}
    assert np.mean(null == 0.5) == pytest.approx(0.5, abs=0.03)
    assert bsm_null([({CUP_T}, {CUP_T}, {CUP_T})], 10, np.random.default_rng(0)) is None


def messages(rng, n, targeted):
    """n messages over eight sender facts, four held by the recipient; each mentions two
    facts: two of the four it lacks (targeted) or two of the eight at random."""
    facts = [(f"obj_{k}", "on", "table_0") for k in range(8)]
    out = []
    for _ in range(n):
        held = set(rng.choice(8, size=4, replace=False))
        pool = [k for k in range(8) if k not in held] if targeted else list(range(8))
        said = {facts[k] for k in rng.choice(pool, size=2, replace=False)}
        out.append((said, set(facts), {facts[k] for k in held}))
    return out


@pytest.mark.parametrize("targeted", [False, True])
def test_bsm_claim_against_its_permutation_null(targeted):
    """Messages that ignore what the partner holds: p not small; messages that name only
    what the partner lacks: BSM = 1/2 - 0 and p at the floor of 1000 draws."""
    rng = np.random.default_rng(7)
    eps = [episode(f"e{k}", bsm_items=messages(rng, 3, targeted)) for k in range(10)]
    units = evidence_units({"llm": {"dialogue": eps, "silent": eps}}, 999, 0)
    claim = next(c for c in CARD["claims"] if c["id"] == "messages_are_belief_sensitive")
    out = check_claims(
        {"paper": "partnr_dialogue", "claims": [claim]},
        {"llm.dialogue.messages_per_episode": 3.0},
        units,
        "tiny",
        FAST,
        STATS,
    )["claims"][0]
    observed = belief_sensitivity([i for e in eps for i in e["bsm_items"]])
    assert out["estimate"] == pytest.approx(observed)
    if targeted:
        assert observed == pytest.approx(0.5)
        assert out["verdict"] == REPRODUCED and out["p"] == pytest.approx(1 / 1000)
    else:
        assert out["verdict"] == INCONCLUSIVE and out["p"] > 0.05


def card_verdicts(units, metrics, scale="tiny"):
    result = check_claims(CARD, metrics, units, scale, FAST, STATS)
    return {c["id"]: c for c in result["claims"]}


def planted(silent_conflict, dialogue_conflict, n=20):
    """An LLM arm of n episodes whose only difference is the conflicts."""
    silent = [episode(f"e{k}", 0.5, silent_conflict[k], 0.5) for k in range(n)]
    dialogue = [episode(f"e{k}", 0.5, dialogue_conflict[k], 0.5) for k in range(n)]
    return evidence_units({"llm": {"silent": silent, "dialogue": dialogue}}, 199, 0)


METRICS_TALKING = {
    "llm.dialogue.messages_per_episode": 2.0,
    "llm.silent.conflict_rate": 1.0,
    "llm.silent.success": 0.5,
    "llm.dialogue.ungrounded_share": 0.5,
}


def test_conflict_claim_is_paired_on_episodes_and_reads_the_planted_effect():
    units = planted([1.0] * 20, [1.0] * 6 + [0.0] * 14)  # 70% fewer episodes with a conflict
    v = card_verdicts(units, METRICS_TALKING)
    conflicts = v["dialogue_reduces_conflicts"]
    assert conflicts["estimate"] == pytest.approx(-0.7)
    assert conflicts["method"].startswith("paired bootstrap over 20 episodes")
    assert conflicts["verdict"] == REPRODUCED
    # the same planted effect at full lies inside the paper's range [-0.93, -0.40]
    assert card_verdicts(units, METRICS_TALKING, "full")[conflicts["id"]]["verdict"] == REPRODUCED
    # a 10-point cut is outside it: right direction, contradicted at full
    small = planted([1.0] * 20, [1.0] * 18 + [0.0] * 2)
    full = card_verdicts(small, METRICS_TALKING, "full")["dialogue_reduces_conflicts"]
    assert full["verdict"] == CONTRADICTED and "range" in full["why"]
    # identical arms: no difference in success or OC either way
    for cid in ("dialogue_lowers_success", "dialogue_aligns_world_models"):
        assert v[cid]["estimate"] == 0.0 and v[cid]["verdict"] == INCONCLUSIVE


def test_without_a_message_every_llm_claim_is_not_testable():
    units = planted([1.0] * 20, [0.0] * 20)
    silent_run = METRICS_TALKING | {"llm.dialogue.messages_per_episode": 0.0}
    v = card_verdicts(units, silent_run)
    science = [
        c
        for c in CARD["claims"]
        if any(r["metric"] == "llm.dialogue.messages_per_episode" for r in c.get("requires", []))
    ]
    assert len(science) == 5  # every claim on the LLM-only arm
    for claim in science:
        assert v[claim["id"]]["verdict"] == NOT_TESTABLE
        assert v[claim["id"]]["why"] == "no message was sent"
    # messages sent but nothing to lower: the floor, not a refutation
    floor = card_verdicts(units, METRICS_TALKING | {"llm.silent.success": 0.0})
    assert floor["dialogue_lowers_success"]["verdict"] == NOT_TESTABLE


SIM = {
    "action_budget": 30,
    "delivery": {"delay": 0, "scope": "any"},
    "merge_messages": True,
    "message_min_gap": 2,
}
EPISODES = {
    "task_types": ["constraint_free", "spatial", "temporal", "heterogeneous"],
    "n_per_type": 2,
    "n_rooms": 4,
    "n_objects": 8,
}


def test_units_of_a_real_run_reproduce_its_metrics():
    """The scripted agents' two conditions through per_episode: the engine's point estimates
    on units.json equal the differences and pooled measures in metrics.json."""
    specs = make_episodes(EPISODES, 0)
    settings = {"conflict_window": 1}
    per = {
        "heuristic": {c: per_episode(run(specs, c, SIM), settings) for c in ("silent", "dialogue")}
    }
    metrics = flatten({a: {c: summarize_episodes(p) for c, p in d.items()} for a, d in per.items()})
    units = evidence_units(per, 199, 0)
    ids = [s["id"] for s in specs]
    assert units.samples["heuristic.silent.conflict"].ids == tuple(ids)
    assert units.samples["heuristic.dialogue.conflict"].ids == tuple(ids)
    for quantity, key in (
        ("conflict", "conflict_rate"),
        ("success", "success"),
        ("oc_auc", "oc_auc"),
    ):
        d = units.samples[f"heuristic.dialogue.{quantity}"].array()
        s = units.samples[f"heuristic.silent.{quantity}"].array()
        assert d.mean() - s.mean() == pytest.approx(
            metrics[f"heuristic.dialogue_minus_silent.{key}"]
        )
    counts = units.samples["heuristic.dialogue.novelty_counts"].array()
    assert pooled_ratio(counts) == pytest.approx(metrics["heuristic.dialogue.info_novelty"])
    null = units.nulls["heuristic.dialogue.bsm"]
    assert null.observed == pytest.approx(metrics["heuristic.dialogue.bsm"])
    assert len(null.null) == 199
    # seeded: the same run gives the same null
    assert evidence_units(per, 199, 0).nulls["heuristic.dialogue.bsm"].null == null.null


def test_pooled_bsm_of_episode_counts_by_hand():
    # Episode 1: the sender holds 4 facts, the recipient 2 of them; the message names one it
    # lacks -> [1, 2, 0, 2]. Episode 2: names one it holds -> [0, 2, 1, 2].
    one = [({LAMP_F}, SENDER, RECIPIENT)]
    two = [({CUP_T}, SENDER, RECIPIENT)]
    per = {"hybrid": {"dialogue": [episode("a", bsm_items=one), episode("b", bsm_items=two)]}}
    counts = evidence_units(per, 199, 0).samples["hybrid.dialogue.bsm_counts"].array()
    assert counts.tolist() == [[1, 2, 0, 2], [0, 2, 1, 2]]
    assert pooled_bsm(counts) == pytest.approx(1 / 4 - 1 / 4)  # pooled: 1/4 - 1/4
    assert pooled_bsm(counts[:1]) == pytest.approx(1 / 2)  # episode 1 alone: 1/2 - 0
    assert pooled_bsm_diff(counts[:1], counts[1:]) == pytest.approx(1 / 2 - (0 - 1 / 2))
    assert np.isnan(pooled_bsm(np.array([[0, 0, 1, 2]])))  # no fact the recipient lacked


def messenger_units(hybrid_targeted: bool, n: int = 24):
    """A hybrid arm, a random messenger and an oracle one on the same n episodes; the oracle
    (and, when planted, the hybrid) names only facts the partner lacks."""
    rng = np.random.default_rng(3)
    arms = {
        "hybrid": hybrid_targeted,
        "random_messenger": False,
        "random_messenger_b": False,
        "oracle_messenger": True,
    }
    per = {}
    for arm, targeted in arms.items():
        eps = []
        for k in range(n):
            items = messages(rng, 3, targeted)
            novelty = [len(e - r) / len(e) for e, _, r in items]
            eps.append(episode(f"e{k}", 0.5, 0.0, 0.5, novelty=novelty, bsm_items=items))
        per[arm] = {"dialogue": eps}
    return evidence_units(per, 199, 0)


MESSAGING = {
    "hybrid.dialogue.messages_per_episode": 3.0,
    "hybrid.dialogue.ungrounded_share": 0.0,
    "random_messenger.dialogue.ungrounded_share": 0.0,
}


@pytest.mark.parametrize("planted_effect", [False, True])
def test_llm_messaging_against_the_random_messenger_and_the_controls(planted_effect):
    """The LLM-versus-random claims read a planted effect and only then; the oracle messenger
    (positive control) is detected either way; two random messengers agree (null control)."""
    v = card_verdicts(messenger_units(planted_effect), MESSAGING)
    for cid in (
        "llm_messages_more_novel_than_random",
        "llm_messages_more_belief_sensitive_than_random",
    ):
        assert (v[cid]["verdict"] == REPRODUCED) is planted_effect, v[cid]
        assert v[cid]["method"].startswith("paired bootstrap over 24 episodes")
    assert v["control_oracle_novelty_detected"]["verdict"] == REPRODUCED
    assert v["control_oracle_bsm_detected"]["verdict"] == REPRODUCED
    assert v["control_random_messengers_agree"]["verdict"] != CONTRADICTED


def test_probe_measures_by_hand():
    from reprolab.evidence import Units
    from reprolab.papers.partnr_dialogue.metrics import probe_measures

    def row(sid, right, pmi, loglik, total):
        kind = sid.split("-")[0]
        return {"id": sid, "kind": kind, "right": right, "pmi": pmi, "loglik": loglik, "sum": total}

    rows = [
        row("pick-a", "Pick[x]", "Pick[x]", "Wait[]", "Pick[x]"),
        row("pick-b", "Pick[y]", "Wait[]", "Wait[]", "Wait[]"),
        row("place-a", "P", "P", "P", "Q"),
    ]
    units = Units()
    out = probe_measures(rows, "probe.llm", units)
    assert out["probe.llm.states"] == 3.0
    assert out["probe.llm.pmi.right_rate"] == pytest.approx(2 / 3)
    assert out["probe.llm.pmi.pick.right_rate"] == 0.5
    assert out["probe.llm.loglik.right_rate"] == pytest.approx(1 / 3)
    assert out["probe.llm.sum.place.right_rate"] == 0.0
    assert units.samples["probe.llm.pmi.right"].values == (1.0, 0.0, 1.0)
    assert units.samples["probe.llm.loglik.right"].ids == ("pick-a", "pick-b", "place-a")

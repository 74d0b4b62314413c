"""The evaluators on hand-made dialogues: the cue reader, the window, the memory store's
existence check and lifecycle, and the LM reader's use of the calibrated scores (planted)."""

from __future__ import annotations

import numpy as np

from reprolab.episodes import Runner
from reprolab.papers.atod import evaluators as evs
from reprolab.papers.atod import readers as rd

LEXICON = [
    {"status": "abandoned", "cues": ["forget", "cancelled"]},
    {"status": "failed", "cues": ["not available"]},
    {"status": "pending", "cues": ["look into", "arrange", "working on"]},
    {"status": "completed", "cues": ["confirmed", "all set"]},
]
PROMPTS = {
    "status_system": "track", "status_user": "{dialogue} | {goal}", "status_prefix": "Status",
    "equivalence": "{a} = {b}?", "summary": "{summary} {turns}",
}  # fmt: skip
SETTINGS = {"lexicon": LEXICON, "prompts": PROMPTS, "window": None, "every": 4,
            "summary_tokens": 8, "top_k": 5, "cosine": 0.4, "judge_k": 5, "seed": 0}  # fmt: skip


def words(text: str) -> int:
    return len(text.split())


def _turn(i, speaker, text, changes=()):
    return {
        "turn_id": i,
        "speaker": speaker,
        "utterance": text,
        "proactive_goals": [],
        "goal_status_changes": [{"goal_id": g, "from": f, "to": s} for g, f, s in changes],
    }


def dialogue():
    """flight: open -> pending -> completed (proactively, at the end); hotel: open -> pending,
    waiting for the flight; car: open -> abandoned."""
    turns = [
        _turn(0, "USER", "I need a flight to Denver on Friday.", [("g1", "not_mentioned", "open")]),
        _turn(
            1,
            "SYSTEM",
            "I'm working on the flight to Denver; I'll notify you.",
            [("g1", "open", "pending")],
        ),
        _turn(2, "USER", "I also need a hotel in Denver.", [("g2", "not_mentioned", "open")]),
        _turn(
            3,
            "SYSTEM",
            "I'll arrange the hotel in Denver once the flight to Denver is confirmed.",
            [("g2", "open", "pending")],
        ),
        _turn(4, "USER", "Get me a rental car in Boston.", [("g3", "not_mentioned", "open")]),
        _turn(5, "SYSTEM", "Okay.", []),
        _turn(6, "USER", "Actually, forget the rental car.", [("g3", "open", "abandoned")]),
        _turn(
            7,
            "SYSTEM",
            "Also, your flight to Denver is now confirmed.",
            [("g1", "pending", "completed")],
        ),
    ]
    goals = [
        {"id": "g1", "intent": "book_flight", "status": "completed", "dependencies": [],
         "core_content": "flight to Denver"},
        {"id": "g2", "intent": "book_hotel", "status": "pending", "dependencies": ["g1"],
         "core_content": "hotel in Denver"},
        {"id": "g3", "intent": "rent_car", "status": "abandoned", "dependencies": [],
         "core_content": "rental car in Boston"},
    ]  # fmt: skip
    return {"dialogue_id": "d0", "n_goals": 3, "goal_list": goals, "turns": turns}


def test_cue_reader_takes_the_last_cued_mention():
    text = "Let me look into the flight. Any news on the flight? The flight is all set."
    assert rd.cue_status(text, "book_flight", LEXICON) == "completed"
    assert rd.cue_status("Let me look into the flight. Any news on the flight?", "book_flight",
                         LEXICON) == "pending"  # fmt: skip
    assert rd.cue_status("I need a flight.", "book_flight", LEXICON) == "open"
    assert rd.cue_status("I need a flight.", "book_hotel", LEXICON) is None
    # named only as what another goal waits for: no news about the flight itself
    wait = "Forget the flight. I'll arrange the hotel once the flight is confirmed."
    assert rd.cue_status(wait, "book_flight", LEXICON) == "abandoned"
    assert rd.cue_status(wait, "book_hotel", LEXICON) == "pending"


def test_clip_keeps_the_last_lines_that_fit():
    lines = ["a b c", "d e", "f g h i"]
    assert evs.clip(lines, None, words) == lines
    assert evs.clip(lines, 6, words) == ["d e", "f g h i"]
    assert evs.clip(lines, 3, words) == []


def test_text_dependencies_read_the_once_cue():
    text = "I'll arrange the hotel in Denver once the flight to Denver is confirmed."
    assert evs.text_dependencies(text) == [("book_flight", "book_hotel")]


def run(episodes, handlers=None):
    Runner(handlers or {}).run(episodes, 40)
    assert all(e.done for e in episodes)
    return [e.result() for e in episodes]


def test_whole_dialogue_judge_recovers_everything():
    (r,) = run([evs.ContextJudge(dialogue(), "fc", "cue", SETTINGS, words, False)])
    final = {g["intent"]: g for g in r["final"]}
    assert {k: v["status"] for k, v in final.items()} == {
        "book_flight": "completed", "book_hotel": "pending", "rent_car": "abandoned"}  # fmt: skip
    assert final["book_hotel"]["dependencies"] == ["book_flight"]
    assert [c["pred"] for c in r["checkpoints"]] == [c["gold"] for c in r["checkpoints"]]


def test_a_window_hides_early_goals_planted():
    # the last two utterances only (8 + 14 words): the car and the hotel are out of sight
    s = {**SETTINGS, "window": 22}
    (r,) = run([evs.ContextJudge(dialogue(), "fc", "cue", s, words, False)])
    assert {g["intent"] for g in r["final"]} == {"book_flight", "rent_car"}
    assert r["tokens"] > 0


class FakeEmbedder:
    """Unit vectors by intent keyword: mentions of one goal are identical, others orthogonal."""

    AXES = ("flight", "hotel", "car")

    def __call__(self, texts, _):
        out = []
        for t in texts:
            v = np.array([float(a in t.lower()) for a in self.AXES]) + 1e-3
            out.append(v / np.linalg.norm(v))
        return out


def test_memory_links_tracks_and_keeps_the_lifecycle():
    (r,) = run([evs.Memory(dialogue(), "mem", "cue", SETTINGS, words)], {"embed": FakeEmbedder()})
    final = {g["intent"]: g for g in r["final"]}
    assert len(r["final"]) == 3  # every later mention linked to its goal: no duplicate
    assert final["book_flight"]["status"] == "completed"  # the proactive system turn
    assert final["book_hotel"] == {"intent": "book_hotel", "status": "pending",
                                   "dependencies": ["book_flight"]}  # fmt: skip
    assert final["rent_car"]["status"] == "abandoned"
    assert [c["pred"] for c in r["checkpoints"]] == [c["gold"] for c in r["checkpoints"]]


def test_memory_lm_reader_follows_the_planted_scores():
    """A fake model that always scores 'failed' highest and never judges two goals equal:
    the store turns every mention into a new goal and reads it as failed."""

    def calibrated(payloads, _):
        out = []
        for _conv, cands, _null in payloads:
            if tuple(cands) == rd.YES_NO:
                out.append([-5.0, -1.0])
            else:
                out.append([0.0 if c == ": failed" else -3.0 for c in cands])
        return out

    handlers = {"embed": FakeEmbedder(), rd.CHOICE: calibrated}
    (r,) = run([evs.Memory(dialogue(), "mem", "lm", SETTINGS, words)], handlers)
    intents = [g["intent"] for g in r["final"]]
    assert intents.count("book_flight") > 1  # the equivalence said no: duplicates
    # 8 mentions, 8 goals: each read as failed, except the flight named only as what the
    # hotel waits for (a prerequisite mention carries no news about its own status)
    assert len(r["final"]) == 8
    assert sorted(g["status"] for g in r["final"]) == ["failed"] * 7 + ["open"]
    assert r["tokens"] > 0


def test_advance_moves_forward_only():
    assert evs.advance("pending", "open") == "pending"
    assert evs.advance("open", "completed") == "completed"
    assert evs.advance("failed", "completed") == "failed"
    assert evs.advance("open", None) == "open"

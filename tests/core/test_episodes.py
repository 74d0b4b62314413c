"""The lockstep runner on planted two-role episodes whose every turn is known."""

from __future__ import annotations

import json

from reprolab.episodes import Episode, Request, Runner, backend_handlers
from reprolab.inference import InferenceBackend, SamplingParams, get_backend

GREEDY = SamplingParams(max_new_tokens=4)


class Echo(InferenceBackend):
    """Replies with the last message's text upper-cased; records its batch sizes."""

    def __init__(self):
        self.batches = []

    def generate(self, conversations, params):
        self.batches.append(("generate", len(conversations)))
        return [c[-1]["content"].upper() for c in conversations]

    def score(self, contexts, continuations):
        raise NotImplementedError

    def score_candidates(self, contexts, candidates):
        self.batches.append(("score_candidates", len(contexts)))
        return [[-float(len(c)) for c in cands] for cands in candidates]


class Dialogue(Episode):
    """A user and an assistant alternate; the user also picks among candidates each turn."""

    def __init__(self, number: int, turns: int):
        self.id, self.turns, self.history = f"ep{number}", turns, [f"hello {number}"]
        self.choices: list[int] = []

    def requests(self):
        role = "assistant" if len(self.history) % 2 else "user"
        chat = [{"role": "user", "content": self.history[-1]}]
        return [
            Request("generate", role, chat, GREEDY),
            Request("score_candidates", role, (chat, ["a", "bbb", "cc"])),
        ]

    def receive(self, replies):
        text, scores = replies
        self.history.append(text + "!")
        self.choices.append(max(range(3), key=lambda k: scores[k]))
        self.done = len(self.history) > self.turns


def test_lockstep_batches_every_live_episode_and_retires_finished_ones(tmp_path):
    backend = Echo()
    episodes = [Dialogue(i, turns=2 + i % 3) for i in range(6)]  # 2, 3 or 4 turns
    runner = Runner(backend_handlers(backend))
    rows = runner.run(episodes, max_steps=10, log_path=tmp_path / "log.jsonl")
    # Step sizes: 6 live, 6, then 4 (the 2-turn ones retired), then 2.
    assert [n for kind, n in backend.batches if kind == "generate"] == [6, 6, 4, 2]
    assert [n for kind, n in runner.calls if kind == "score_candidates"] == [6, 6, 4, 2]
    assert episodes[0].history == ["hello 0", "HELLO 0!", "HELLO 0!!"]
    assert episodes[0].choices == [0, 0]  # "a" has the highest score (-1)
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert logged == rows and len(rows) == 2 * (2 + 3 + 4 + 2 + 3 + 4)
    first = rows[0]
    assert {k: first[k] for k in ("episode", "turn", "role", "kind", "reply")} == {
        "episode": "ep0",
        "turn": 0,
        "role": "assistant",
        "kind": "generate",
        "reply": "HELLO 0",
    }


def test_same_episodes_same_rows_and_unknown_kinds_are_refused():
    def run():
        rows = Runner(backend_handlers(Echo())).run([Dialogue(i, 3) for i in range(3)], 5)
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert run() == run()

    class Odd(Dialogue):
        def requests(self):
            return [Request("telepathy", "user", None)]

    try:
        Runner(backend_handlers(Echo())).run([Odd(0, 2)], 2)
    except ValueError as error:
        assert "telepathy" in str(error) and "generate" in str(error)
    else:
        raise AssertionError("an unknown request kind must be refused")


def test_runner_on_a_real_backend_equals_one_episode_at_a_time(tiny_model):
    backend = get_backend("transformers", str(tiny_model), batch_size=8)
    lockstep = [Dialogue(i, 3) for i in range(4)]
    Runner(backend_handlers(backend)).run(lockstep, 5)
    for i, episode in enumerate(lockstep):
        alone = Dialogue(i, 3)
        Runner(backend_handlers(backend)).run([alone], 5)
        assert alone.history == episode.history


class Prior(InferenceBackend):
    """Log-probability = a candidate's prior (short is likely) + 2 when the context names it."""

    def __init__(self):
        self.batches = []

    def generate(self, conversations, params):
        raise NotImplementedError

    def score(self, contexts, continuations):
        raise NotImplementedError

    def score_candidates(self, contexts, candidates):
        self.batches.append(len(contexts))
        return [
            [-float(len(c)) + (2.0 if c in ctx[-1]["content"] else 0.0) for c in cands]
            for ctx, cands in zip(contexts, candidates, strict=True)
        ]


def test_calibrated_scores_subtract_the_context_free_score_in_one_batch():
    """Raw scores pick the short candidate whatever the state says; calibrated ones pick the
    candidate the state names (+2 over its own context-free score), by hand: Pick[cup] scores
    -9 + 2 - (-9) = 2 against Wait's -4 - (-4) = 0."""
    from reprolab.inference import calibrated_scores

    backend = Prior()
    state = [{"role": "user", "content": "the cup is here: Pick[cup]"}]
    null = [{"role": "user", "content": "Action:"}]
    cands = [["Wait", "Pick[cup]"]]
    raw = backend.score_candidates([state], cands)[0]
    assert max(range(2), key=lambda k: raw[k]) == 0  # the prior wins uncalibrated
    backend.batches.clear()
    assert calibrated_scores(backend, [state], cands, [null]) == [[0.0, 2.0]]
    assert backend.batches == [2]  # the state and the null prompt in one call


def test_runner_batches_calibrated_requests_of_all_episodes():
    backend = Prior()
    handlers = backend_handlers(backend)
    payloads = [
        ([{"role": "user", "content": f"go {w}"}], ["x", "yy"], [{"role": "user", "content": ""}])
        for w in ("yy", "x")
    ]
    assert handlers["score_calibrated"](payloads, None) == [[0.0, 2.0], [2.0, 0.0]]
    assert backend.batches == [3]  # both states, and their shared null prompt once


def test_a_shared_null_prompt_is_read_once_with_the_union_of_candidates():
    from reprolab.inference import calibrated_scores

    backend = Prior()
    states = [[{"role": "user", "content": f"go {w}"}] for w in ("yy", "x", "zzz")]
    null = [{"role": "user", "content": "Action:"}]
    other = [{"role": "user", "content": "Act:"}]
    cands = [["x", "yy"], ["yy", "zzz"], ["x"]]
    pooled = calibrated_scores(backend, states, cands, [null, null, other])
    assert backend.batches == [5]  # three states, two distinct null prompts
    one_by_one = [
        calibrated_scores(backend, [s], [c], [n])[0]
        for s, c, n in zip(states, cands, [null, null, other], strict=True)
    ]
    assert pooled == one_by_one

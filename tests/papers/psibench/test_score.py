"""The score step's judge path: failures stay null and are counted, never mapped to a label."""

from __future__ import annotations

from reprolab.inference import InferenceBackend
from reprolab.judge import Judge
from reprolab.papers.psibench import labels as lab


class Garbage(InferenceBackend):
    """Replies that name no label (or all of them): every judgement fails."""

    def generate(self, conversations, params):
        return [
            "I am not sure what to say" if i % 2 else "positive negative"
            for i in range(len(conversations))
        ]

    def score(self, contexts, continuations):
        return [0.0] * len(contexts)


def test_judge_failures_are_counted_not_neutral():
    session = {
        "messages": [
            {"role": "user", "content": "Hello."},
            {"role": "assistant", "content": "I feel low."},
            {"role": "user", "content": "Tell me more."},
            {"role": "assistant", "content": "It is bad."},
        ]
    }
    items = lab.judge_items(session, context=4)
    assert [len(i["context"]) for i in items] == [1, 3]
    judge = Judge(Garbage(), ("negative", "neutral", "positive"), "parsed", balance=False)
    verdicts = judge.judge(items, lab.render("rubric", ("negative", "neutral", "positive")))
    assert [v.label for v in verdicts] == [None, None]
    report = judge.report().as_metrics("judge.valence")
    assert report["judge.valence.failure_rate"] == 1.0
    chat = lab.render("rubric", ("a", "b"))(items[1], ("a", "b"))
    assert chat[0] == {"role": "system", "content": "rubric"}
    assert "THERAPIST: Hello." in chat[1]["content"] and "PATIENT: It is bad." in chat[1]["content"]

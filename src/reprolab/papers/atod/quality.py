"""ATOD-Eval's quality (full scale): turn-level quality (every system turn rated 0-10 on
helpfulness, clarity, naturalness and task appropriateness, averaged over a dialogue's system
turns) and dialogue-level quality (the whole dialogue rated 0-10 on naturalness, coherence, goal
progression and effectiveness), each divided by 10 as the authors' evaluate_with_llm_judge
does. The rubrics are the authors' prompts (ATODEval/turn_level_quality.py and
dialogue_level_quality.py) read at the pinned commit; the judge is the core Judge, scoring the
eleven scores 0..10 as forced choices after the rubric (its argmax the score: the number the
authors read off a greedy reply), every turn and dialogue of the set in one batched call."""

from __future__ import annotations

from reprolab.judge import Judge

SCORES = tuple(str(k) for k in range(11))


def dialogue_text(dialogue: dict) -> str:
    """The dialogue as the authors show it to the judge: one `SPEAKER: utterance` a line."""
    return "\n".join(f"{t['speaker']}: {t['utterance']}" for t in dialogue["turns"])


def rate(backend, dialogues: list[dict], rubrics: dict[str, str]) -> tuple[list[dict], dict]:
    """Each dialogue's {turn_quality, dialogue_quality, turn_scores} in [0, 1] (None where the
    judge tied or the dialogue has no system turn), and the judge's report as metrics."""
    judge = Judge(backend, SCORES, scoring="forced_choice", balance=False)

    def render(item: tuple[str, str], order) -> list[dict]:
        kind, text = item
        prompt = rubrics["turn"].format(utterance=text) if kind == "turn" else (
            rubrics["dialogue"].format(dialogue_text=text)
        )  # fmt: skip
        return [{"role": "user", "content": prompt}]

    items, owner = [], []
    for i, d in enumerate(dialogues):
        for t in d["turns"]:
            if t["speaker"] == "SYSTEM":
                items.append(("turn", t["utterance"]))
                owner.append((i, "turn"))
        items.append(("dialogue", dialogue_text(d)))
        owner.append((i, "dialogue"))
    verdicts = judge.judge(items, render)
    out = [{"turn_scores": [], "dialogue_quality": None} for _ in dialogues]
    for (i, kind), v in zip(owner, verdicts, strict=True):
        score = None if v.label is None else int(v.label) / 10
        if kind == "turn":
            out[i]["turn_scores"].append(score)
        else:
            out[i]["dialogue_quality"] = score
    for row in out:
        rated = [s for s in row["turn_scores"] if s is not None]
        row["turn_quality"] = sum(rated) / len(rated) if rated else None
    return out, judge.report().as_metrics("quality.judge")

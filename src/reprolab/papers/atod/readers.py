"""How an evaluator reads a goal's status from text: `cue` (a status lexicon over the last
sentence that mentions the goal and carries a status cue: a deterministic stand-in) or `lm`
(the model's calibrated scores of the status words after the text and a question). Both see
exactly the text the evaluator gives them."""

from __future__ import annotations

import re

from reprolab.episodes import Request
from reprolab.papers.atod import lifecycle as lc
from reprolab.papers.atod import ontology

READ_STATUSES = (lc.OPEN, lc.PENDING, lc.COMPLETED, lc.FAILED, lc.ABANDONED)
_SENT = re.compile(r"(?<=[.!?;])\s+")


def sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text) if s.strip()]


def cue_status(text: str, intent: str, lexicon: list[dict]) -> str | None:
    """The status of the last sentence that names the intent and carries a cue (the lexicon's
    order decides within a sentence); `open` when the goal is named without a cue; None when
    the text never names it. In '<dependent> once <prerequisite> ...' only the dependent part
    speaks about its goal (the prerequisite is named as what it waits for)."""
    pat = ontology.patterns()[intent]
    mentioned = False
    for sent in reversed(sentences(text)):
        if not pat.search(sent):
            continue
        mentioned = True
        low = sent.lower()
        if " once " in low:
            low = low[: low.index(" once ")]
            if not pat.search(low):
                continue
        for entry in lexicon:
            if any(re.search(r"\b" + re.escape(c.lower()) + r"\b", low) for c in entry["cues"]):
                return entry["status"]
    return lc.OPEN if mentioned else None


CHOICE = "score_calibrated"  # the core's context-free-calibrated forced choice
# The choices continue the reply's prefix ("Status", "Answer") with ": <word>": they share the
# colon and differ in their last token, so the backend scores them in one pass a prompt.
YES_NO = (": yes", ": no")


def lm_request(text: str, goal: str, prompts: dict, role: str) -> Request:
    """The status words' calibrated log-probabilities after the dialogue text and the goal; the
    context-free prompt holds neither, so it is one prompt for every request."""

    def conv(body: str, name: str) -> list[dict]:
        return [
            {"role": "system", "content": prompts["status_system"]},
            {"role": "user", "content": prompts["status_user"].format(dialogue=body, goal=name)},
            {"role": "assistant", "content": prompts["status_prefix"]},
        ]

    cands = tuple(": " + s for s in READ_STATUSES)
    return Request(CHOICE, role, (conv(text, goal), cands, conv("", "")))


def lm_status(scores: list[float]) -> str:
    return READ_STATUSES[max(range(len(scores)), key=scores.__getitem__)]


def equivalence_request(a: str, b: str, prompts: dict, role: str) -> Request:
    """Whether two goal descriptions name the same goal: calibrated 'yes' against 'no'."""

    def conv(x: str, y: str) -> list[dict]:
        return [
            {"role": "user", "content": prompts["equivalence"].format(a=x, b=y)},
            {"role": "assistant", "content": prompts["status_prefix"].replace("Status", "Answer")},
        ]

    return Request(CHOICE, role, (conv(a, b), YES_NO, conv("", "")))


def prompt_tokens(request: Request, count) -> int:
    """Tokens of the text a request carries (its messages' contents; the fixed instructions
    of the status prompts are not counted, so that every reader's count is the dialogue and
    goal text it was given)."""
    payload = request.payload
    conv = payload if request.kind == "generate" else payload[0]
    return count(" ".join(m["content"] for m in conv))

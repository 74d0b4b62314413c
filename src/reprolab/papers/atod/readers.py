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


CHOICE = "choice_calibrated"  # the request kind of the model's forced choices (below)
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


def choice_handler(backend):
    """The batched call of `choice_calibrated` requests: each request's choices scored by the
    backend's forced choice (`choice_logprobs`: one forward pass a prompt when the choices are
    single tokens, batched) minus the same after its context-free prompt (the calibration of
    `inference.calibrated_scores`: a small model's prior for a frequent word cancels), the
    context-free prompts scored once each. Payloads: (conversation, choices, context-free)."""

    def handle(payloads: list, _params) -> list[list[float]]:
        out: list = [None] * len(payloads)
        groups: dict[tuple, list[int]] = {}
        for i, (_, choices, _) in enumerate(payloads):
            groups.setdefault(tuple(choices), []).append(i)
        for choices, members in groups.items():
            nulls: dict[str, list] = {}
            for i in members:
                nulls.setdefault(repr(payloads[i][2]), payloads[i][2])
            keys = list(nulls)
            rows = backend.choice_logprobs(
                [payloads[i][0] for i in members] + [nulls[k] for k in keys], list(choices)
            )
            base = dict(zip(keys, rows[len(members) :], strict=True))
            for i, row in zip(members, rows[: len(members)], strict=True):
                free = base[repr(payloads[i][2])]
                out[i] = [a - b for a, b in zip(row, free, strict=True)]
        return out

    return handle


def prompt_tokens(request: Request, count) -> int:
    """Tokens of the text a request carries (its messages' contents; the fixed instructions
    of the status prompts are not counted, so that every reader's count is the dialogue and
    goal text it was given)."""
    payload = request.payload
    conv = payload if request.kind == "generate" else payload[0]
    return count(" ".join(m["content"] for m in conv))

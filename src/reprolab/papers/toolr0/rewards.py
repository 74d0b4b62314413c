"""The paper's rewards: the generator's r_format, r_valid, r_curr (with r_diff) and the solver's.

Pure functions of parsed outputs and numbers, so each is tested on hand-made cases; the model
calls that produce p (solver samples) and s (judge score) live in selfplay.py.
"""

from __future__ import annotations

import math
import re

from reprolab.papers.toolr0.parse import GeneratorOutput, SolverOutput, values_equal

# The paper's band of useful difficulty and the width of its Gaussian fall-off outside it.
BAND_LOW, BAND_HIGH, BAND_SIGMA = 0.25, 0.75, 0.12
_PLACEHOLDER = re.compile(
    r"\.\.\.|<|>|\{|\}|\[|\]|placeholder|your question|question here|lorem|todo|xxx|"
    r"insert |example question",
    re.IGNORECASE,
)


def placeholder_gate(question: str | None) -> float:
    """0 for a missing or template-looking question (the paper's gate), else 1."""
    if not question or len(question.split()) < 3:
        return 0.0
    return 0.0 if _PLACEHOLDER.search(question) else 1.0


def r_format(out: GeneratorOutput) -> float:
    """1/3 [all four tags parse] + 1/3 [tools are valid JSON] + 1/3 [gold call is valid JSON]."""
    return (float(out.tags_ok) + float(out.tools_json_ok) + float(out.gold_json_ok)) / 3


def grounded(value, question: str) -> bool:
    """The value's text occurs in the question at word boundaries (case-insensitive)."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    if not text.strip():
        return False
    pattern = rf"(?<!\w){re.escape(text.strip())}(?!\w)"
    return re.search(pattern, question, flags=re.IGNORECASE) is not None


def menu_required(tools: list | None, registry: dict) -> dict[str, list[str]]:
    """Tool name -> required parameters, for the menu the generator wrote (names or schemas)."""
    menu: dict[str, list[str]] = {}
    for item in tools or []:
        if isinstance(item, str) and item in registry:
            menu[item] = list(registry[item].required)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            required = item.get("required", [])
            menu[item["name"]] = [r for r in required if isinstance(r, str)]
    return menu


def r_valid(out: GeneratorOutput, registry: dict) -> float:
    """0.4 [gold tool in menu] + 0.4 [required args present] + 0.2 [values grounded].

    Averaged over the gold calls of a multi-call task [recon: the note states it per call].
    """
    if not out.calls:
        return 0.0
    menu = menu_required(out.tools, registry)
    question = out.question or ""
    total = 0.0
    for call in out.calls:
        in_menu = call["name"] in menu
        required = menu.get(call["name"], [])
        has_required = in_menu and all(p in call["arguments"] for p in required)
        values = list(call["arguments"].values())
        all_grounded = bool(values) and all(grounded(v, question) for v in values)
        total += 0.4 * in_menu + 0.4 * has_required + 0.2 * all_grounded
    return total / len(out.calls)


def r_diff(p: float) -> float:
    """0 below 1/8; 1 inside [0.25, 0.75]; a Gaussian of the distance to the nearer edge else."""
    if p < 1 / 8:
        return 0.0
    if BAND_LOW <= p <= BAND_HIGH:
        return 1.0
    edge = BAND_LOW if p < BAND_LOW else BAND_HIGH
    return math.exp(-((p - edge) ** 2) / (2 * BAND_SIGMA**2))


def r_curr(p: float, judge_score: float, use_difficulty: bool = True) -> float:
    """0.5 r_diff(p) + 0.5 (s - 1) / 4; the no-r_diff ablation drops the first term."""
    if not 1 <= judge_score <= 5:
        raise ValueError(f"judge score {judge_score}: expected 1..5")
    difficulty = r_diff(p) if use_difficulty else 0.0
    return 0.5 * difficulty + 0.5 * (judge_score - 1) / 4


def generator_reward(
    out: GeneratorOutput, registry: dict, p: float, judge_score: float, use_difficulty: bool = True
) -> dict[str, float]:
    """The three terms, each times the placeholder gate, and their sum."""
    gate = placeholder_gate(out.question)
    terms = {
        "r_format": gate * r_format(out),
        "r_valid": gate * r_valid(out, registry),
        "r_curr": gate * r_curr(p, judge_score, use_difficulty),
    }
    terms["total"] = sum(terms.values())
    return terms


# -- solver ---------------------------------------------------------------------------------------
def solver_format(out: SolverOutput) -> float:
    """0.3 [<tool_call_answer> tag] + 0.3 [its content parses as JSON] + 0.4 [at least one call]."""
    return 0.3 * out.has_tag + 0.3 * out.parses + 0.4 * bool(out.calls)


def call_match(gold: dict, pred: dict) -> float:
    """0.2 [same name] + 0.3 F1 of argument keys + 0.5 share of shared keys with equal values."""
    gold_keys, pred_keys = set(gold["arguments"]), set(pred["arguments"])
    shared = gold_keys & pred_keys
    if gold_keys or pred_keys:
        precision = len(shared) / len(pred_keys) if pred_keys else 0.0
        recall = len(shared) / len(gold_keys) if gold_keys else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    else:
        f1 = 1.0
    if shared:
        agree = sum(values_equal(gold["arguments"][k], pred["arguments"][k]) for k in shared)
        value_score = agree / len(shared)
    else:
        value_score = 1.0 if not (gold_keys or pred_keys) else 0.0
    return 0.2 * (gold["name"].strip() == pred["name"].strip()) + 0.3 * f1 + 0.5 * value_score


def solver_accuracy(out: SolverOutput, gold_calls: list[dict]) -> float:
    """Gold calls greedily matched to their best unused prediction; mean score, extra calls cost.

    Requires a <think> block. Every gold call is scored (the authors' code scores only the first).
    """
    if not out.has_think or not out.calls or not gold_calls:
        return 0.0
    unused = list(range(len(out.calls)))
    total = 0.0
    for gold in gold_calls:
        if not unused:
            break
        scores = [(call_match(gold, out.calls[i]), i) for i in unused]
        best, index = max(scores, key=lambda pair: (pair[0], -pair[1]))
        total += best
        unused.remove(index)
    extra = max(0, len(out.calls) - len(gold_calls))
    return total / len(gold_calls) / (1 + 0.25 * extra)


def solver_reward(out: SolverOutput, gold_calls: list[dict]) -> dict[str, float]:
    terms = {"r_fmt": solver_format(out), "r_acc": solver_accuracy(out, gold_calls)}
    terms["total"] = terms["r_fmt"] + terms["r_acc"]
    return terms

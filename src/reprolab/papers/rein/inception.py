"""The inception module F(C_t, u_t, L, Phi, S') -> No | (Yes, rho_t): an LLM (through the core
judge: which predefined error, if any, the user's last message contains), the oracle (the
injected error's own plan, a reference) and the placebo (a plan that names no recovery: the null
control). The plan rho_t is planted as r_t = think[rho_t] in the agent's own reasoning.
"""

from __future__ import annotations

from reprolab.papers.rein import errors

NONE = "none"


def labels(known: list[str]) -> list[str]:
    """The judge's labels: no error, then the error types the module's prompt defines (the
    seen ones: unseen types are withheld)."""
    return [NONE, *known]


def think(plan: str, open_tag: str = "<think>", close_tag: str = "</think>") -> str:
    """r_t = think[rho_t]: the prefill of the agent's reply."""
    return f"{open_tag}{plan}{close_tag}\n"


def oracle_plan(instance: dict, plans: dict) -> str | None:
    """The reference detector: the injected error's plan (Phi) for a seen type, the category's
    plan for an unseen one (the oracle knows what the prompt withholds); None on a clean turn."""
    error = instance["error"]
    if error is None:
        return None
    return plans["types"].get(error) or plans["categories"][errors.CATEGORY[error]]


def llm_plan(verdict_label: str | None, plans: dict, probs: dict | None, fixed: bool) -> str | None:
    """The LLM module's plan: Phi of its label; None for `none` (dynamic triggering). Fixed
    triggering plants a plan every turn: the most probable error type's, whatever `none` got."""
    if fixed:
        if probs:
            label = max((p, k) for k, p in probs.items() if k != NONE)[1]
        elif verdict_label not in (None, NONE):
            label = verdict_label
        else:
            label = next(iter(plans["types"]))  # no evidence at all: the first defined type
        return plans["types"][label]
    if verdict_label in (None, NONE):
        return None
    return plans["types"][verdict_label]


def render_factory(prompt: dict, known: list[str], definitions: dict):
    """The judge's render(item, order): the module's system prompt S' with the definitions of
    the known error types (Phi's keys), the tool names and dialogue, the options numbered in
    the order shown. One function for every request (the runner batches by it)."""

    def render(item: dict, order: tuple) -> list[dict]:
        options = "\n".join(
            f"{i + 1}. {label}: {definitions.get(label, prompt['none_definition'])}"
            for i, label in enumerate(order)
        )
        user = prompt["user"].format(
            tools=", ".join(item["tools"]), dialogue=item["dialogue"], options=options
        )
        return [{"role": "system", "content": prompt["system"]}, {"role": "user", "content": user}]

    return render

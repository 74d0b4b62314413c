"""Specs and prompts for both roles, the tool split, and the held-out test set.

Nothing here is training data: the generator's prompts carry only a sampled spec and a tool menu
(the paper's "zero data"), and the test set uses tools and domains that self-play never sees.
"""

from __future__ import annotations

import json
import random

from reprolab.papers.toolr0.tools import DOMAINS, TOOLS, Tool


def split_tools(cfg_tools: dict) -> tuple[list[str], list[str]]:
    """(train tool names, test tool names): test = the held-out domains plus held-out tools.

    `max_params` (tiny: 1) keeps only tools of at most that many parameters on both sides: the
    tasks a 135M generator can write (issue 19)."""
    unknown_domains = set(cfg_tools["test_domains"]) - set(DOMAINS)
    unknown_tools = set(cfg_tools["test_tools"]) - set(TOOLS)
    if unknown_domains or unknown_tools:
        raise ValueError(
            f"tools.test_domains/test_tools: unknown {sorted(unknown_domains | unknown_tools)}; "
            f"expected domains of {DOMAINS} and tool names"
        )
    test = [
        name
        for name, t in TOOLS.items()
        if t.domain in cfg_tools["test_domains"] or name in cfg_tools["test_tools"]
    ]
    train = [name for name in TOOLS if name not in test]
    limit = cfg_tools.get("max_params")
    if limit is not None:
        test = [n for n in test if len(TOOLS[n].parameters) <= limit]
        train = [n for n in train if len(TOOLS[n].parameters) <= limit]
    return train, test


def sample_spec(rng: random.Random, domains: list[str], spec_cfg: dict) -> dict:
    """The paper's spec: domain (uniform), single/multi-turn, number of calls, menu size."""
    domain = rng.choice(domains)
    multi_turn = rng.random() < spec_cfg["multi_turn_prob"]
    n_calls = 2 if rng.random() < spec_cfg["two_call_prob"] else 1
    if n_calls > 1:
        lo, hi = spec_cfg["menu_multi"]
    elif rng.random() < spec_cfg["menu_small_prob"]:
        lo, hi = spec_cfg["menu_small"]
    else:
        lo, hi = spec_cfg["menu_large"]
    return {
        "domain": domain,
        "turns": "multi" if multi_turn else "single",
        "n_calls": n_calls,
        "menu_size": rng.randint(lo, hi),
    }


def sample_menu(rng: random.Random, spec: dict, pool: list[str]) -> list[str]:
    """A menu of spec['menu_size'] tools: the domain's tools first, others to fill, shuffled."""
    own = [n for n in pool if TOOLS[n].domain == spec["domain"]]
    others = [n for n in pool if TOOLS[n].domain != spec["domain"]]
    size = min(spec["menu_size"], len(pool))
    menu = rng.sample(own, min(len(own), max(spec["n_calls"], size - 1), size))
    menu += rng.sample(others, size - len(menu))
    rng.shuffle(menu)
    return menu


def format_tools(schemas: list[dict], style: str) -> str:
    """The menu as the models read it: the JSON schemas (paper), or one compact line a tool.

    The compact form carries the same names, parameters, types and descriptions in about a
    quarter of the tokens (tiny scale, where prompt length dominates CPU generation time).
    """
    if style == "json":
        return json.dumps(schemas)
    if style != "compact":
        raise ValueError(f"prompts.tool_format '{style}': expected 'json' or 'compact'")
    lines = []
    for schema in schemas:
        params = ", ".join(f"{p}: {spec['type']}" for p, spec in schema["parameters"].items())
        lines.append(f"- {schema['name']}({params}): {schema['description']}")
    return "\n" + "\n".join(lines)


def with_prefill(conversation: list[dict], prefill: str) -> list[dict]:
    """The conversation with the reply's first characters written for the model (none if '').

    Backends and the GRPO trainer continue a final assistant message; the parsers read the
    prefill and the continuation together (`full_reply`).
    """
    if not prefill:
        return conversation
    return [*conversation, {"role": "assistant", "content": prefill}]


def full_reply(prompts: dict, role: str, continuation: str) -> str:
    """A role's whole reply: its configured prefill followed by what the model wrote."""
    return prompts[f"{role}_prefill"] + continuation


def open_generator_prompt(spec: dict, prompts: dict) -> list[dict]:
    """Chat prompt of the generator that proposes its own tool menu (the authors' control spec:
    domain, context type, menu size, number of calls; no tool is shown)."""
    system = prompts["generator_open_system"].format(
        domain=spec["domain"],
        context_type="multi_turn" if spec["turns"] == "multi" else "single_turn",
        tool_menu_size=spec["menu_size"],
        num_calls=spec["n_calls"],
    )
    return with_prefill(
        [
            {"role": "system", "content": system},
            {"role": "user", "content": prompts["generator_open_user"]},
        ],
        prompts["generator_prefill"],
    )


def generator_prompt(spec: dict, menu: list[str], prompts: dict) -> list[dict]:
    """Chat prompt of the generator for one spec: instructions, one worked example, the request
    (a registry menu), or the open-menu prompt when the generator proposes the menu itself."""
    if prompts["menu_source"] == "generator":
        return open_generator_prompt(spec, prompts)
    calls = "one tool call" if spec["n_calls"] == 1 else f"{spec['n_calls']} tool calls"
    turns = (
        "a single user request"
        if spec["turns"] == "single"
        else "a short earlier user remark followed by the request, both inside <question>"
    )
    request = prompts["generator_request"].format(
        domain=spec["domain"].replace("_", " "),
        calls=calls,
        turns=turns,
        tools=format_tools([TOOLS[n].schema() for n in menu], prompts["tool_format"]),
        menu_format=prompts["menu_formats"][prompts["menu_format"]],
    )
    example = prompts["generator_example"]
    return with_prefill(
        [
            {"role": "system", "content": prompts["generator_system"]},
            {"role": "user", "content": example["request"]},
            {"role": "assistant", "content": example["reply"]},
            {"role": "user", "content": request},
        ],
        prompts["generator_prefill"],
    )


def solver_prompt(question: str, tool_schemas: list[dict], prompts: dict) -> list[dict]:
    """Chat prompt of the solver: instructions, one worked example (none at full scale, as the
    authors' solver), the tools and question."""
    example = prompts["solver_example"]
    shots = (
        []
        if example is None
        else [
            {"role": "user", "content": example["request"]},
            {"role": "assistant", "content": example["reply"]},
        ]
    )
    return with_prefill(
        [
            {"role": "system", "content": prompts["solver_system"]},
            *shots,
            {
                "role": "user",
                "content": f"Tools: {format_tools(tool_schemas, prompts['tool_format'])}\n"
                f"Question: {question}",
            },
        ],
        prompts["solver_prefill"],
    )


def generator_rows(cfg: dict, n: int, seed: int, pool: list[str]) -> list[dict]:
    """n generator prompts with their specs and menus (the generator's whole 'dataset')."""
    rng = random.Random(seed)
    domains = sorted({TOOLS[name].domain for name in pool})
    rows = []
    for index in range(n):
        spec = sample_spec(rng, domains, cfg["spec"])
        menu = sample_menu(rng, spec, pool)
        rows.append(
            {
                "id": f"g{seed}-{index}",
                "prompt": generator_prompt(spec, menu, cfg["prompts"]),
                "spec": json.dumps(spec),
                "menu": json.dumps(menu),
            }
        )
    return rows


def oracle_reply(row: dict, seed: int) -> str:
    """The oracle generator's whole reply to one generator prompt: a task written from the
    registry's question templates for the row's spec and menu (the domain's tool when the menu
    has one), in the generator's format. It stands in for the generator alone, so the oracle
    control's tasks go through the same validation, verification and selection as generated
    ones: a control that separates "the generator cannot write tasks" from "the solver cannot
    learn" (issue 19)."""
    rng = random.Random(f"{seed}:{row['id']}")
    spec, menu = json.loads(row["spec"]), json.loads(row["menu"])
    own = [n for n in menu if TOOLS[n].domain == spec["domain"]] or menu
    chosen = [TOOLS[n] for n in rng.sample(own if len(own) >= spec["n_calls"] else menu,
                                           min(spec["n_calls"], len(menu)))]  # fmt: skip
    calls, questions = [], []
    for t in chosen:
        arguments = t.sample_arguments(rng)
        calls.append({"name": t.name, "arguments": arguments})
        questions.append(t.template.format(**arguments))
    question = questions[0] if len(questions) == 1 else _two_questions(*questions)
    return (
        f"<think>Ask for {' and '.join(t.name for t in chosen)}.</think>"
        f"<question>{question}</question><available_tools>{json.dumps(menu)}</available_tools>"
        f"<tool_call_answer>{json.dumps(calls)}</tool_call_answer>"
    )


def _two_questions(first: str, second: str) -> str:
    return f"{first} Also, {second[0].lower()}{second[1:]}"


def test_items(cfg: dict, seed: int) -> list[dict]:
    """Held-out items from templates over unseen tools and domains (gold results not yet run)."""
    _, test_pool = split_tools(cfg["tools"])
    test_cfg = cfg["test"]
    rng = random.Random(seed + 1)
    items = []
    for index in range(test_cfg["n_items"]):
        n_calls = 2 if rng.random() < test_cfg["two_call_prob"] else 1
        chosen: list[Tool] = [TOOLS[n] for n in rng.sample(test_pool, n_calls)]
        calls, questions = [], []
        for t in chosen:
            arguments = t.sample_arguments(rng)
            calls.append({"name": t.name, "arguments": arguments})
            questions.append(t.template.format(**arguments))
        question = questions[0] if n_calls == 1 else _two_questions(*questions)
        size = rng.randint(*test_cfg["menu_size"])
        distractors = [n for n in test_pool if n not in {t.name for t in chosen}]
        menu = [t.name for t in chosen] + rng.sample(distractors, max(0, size - n_calls))
        rng.shuffle(menu)
        held_domain = all(t.domain in cfg["tools"]["test_domains"] for t in chosen)
        items.append(
            {
                "id": f"test-{index}",
                "question": question,
                "tools": [TOOLS[n].schema() for n in menu],
                "gold": calls,
                "domains": [t.domain for t in chosen],
                "split": "unseen_domain" if held_domain else "unseen_tool",
            }
        )
    return items

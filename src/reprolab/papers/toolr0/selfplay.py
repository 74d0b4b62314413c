"""The model-facing parts of self-play: tool execution (the core's `ToolEnv` over the registry,
in the sandbox), task validation, solver sampling (p for r_diff), the judge score s (the core's
`Judge`), and the reward functions handed to GRPO.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from reprolab.inference import SamplingParams, get_backend
from reprolab.judge import Judge
from reprolab.papers.toolr0.data import full_reply, solver_prompt
from reprolab.papers.toolr0.parse import (
    GeneratorOutput,
    SolverOutput,
    canonical_json,
    canonical_value,
    parse_generator,
    parse_solver,
)
from reprolab.papers.toolr0.rewards import (
    generator_reward,
    grounded,
    placeholder_gate,
    r_format,
    r_valid,
    solver_accuracy,
    solver_format,
)
from reprolab.papers.toolr0.tools import SPECS, TOOLS
from reprolab.sandbox import Sandbox, SandboxLimits
from reprolab.tools import ToolEnv

log = logging.getLogger(__name__)
TOOLS_MODULE = "reprolab.papers.toolr0.tools"
_JSON_TYPES = {
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
}


def open_sandbox(sandbox_cfg: dict) -> Sandbox:
    """A sandbox that can call the registry's tools, with the config's limits."""
    return Sandbox(SandboxLimits(**sandbox_cfg), modules=[TOOLS_MODULE])


def tool_env(sandbox: Sandbox) -> ToolEnv:
    """The registry as a stateless core tool environment. Arguments are checked by the tools
    themselves, not by the schema on the host: execution accuracy counts a call that runs and
    returns the gold result (a tool may coerce "5" to 5), as it always has."""
    return ToolEnv(TOOLS_MODULE, SPECS, state=None, sandbox=sandbox, validate=False)


def execute(sandbox: Sandbox, calls: list[dict]) -> list[dict]:
    """Run each call in the sandbox: {"ok", "value", "error"} per call, in order."""
    return [
        {"ok": o.ok, "value": o.value, "error": o.error} for o in tool_env(sandbox).call_many(calls)
    ]


def results_match(predicted: list[dict], gold: list) -> bool:
    """Execution accuracy of one item: every call ran and the results equal the gold results
    (as a multiset, so two independent calls may come in either order)."""
    if len(predicted) != len(gold) or not all(r["ok"] for r in predicted):
        return False
    key = lambda v: json.dumps(canonical_value(v), sort_keys=True)  # noqa: E731
    return sorted(key(r["value"]) for r in predicted) == sorted(key(v) for v in gold)


def calls_match(predicted: list[dict], gold: list[dict]) -> bool:
    """AST accuracy of one item: the same calls (name and canonical arguments), any order."""
    if len(predicted) != len(gold):
        return False
    return sorted(canonical_json([c]) for c in predicted) == sorted(
        canonical_json([c]) for c in gold
    )


def resolve_menu(out: GeneratorOutput, offered: list[str]) -> list[dict]:
    """Schemas of the registry tools the generator listed, else those of the offered menu."""
    names = []
    for item in out.tools or []:
        name = (
            item if isinstance(item, str) else item.get("name") if isinstance(item, dict) else None
        )
        if isinstance(name, str) and name in TOOLS and name not in names:
            names.append(name)
    return [TOOLS[n].schema() for n in (names or offered)]


def proposed_menu(out: GeneratorOutput) -> list[dict]:
    """The tool schemas the generator proposed itself (the authors' open menu): each a
    {name, description, parameters: {p: {type, description}}, required}; malformed ones dropped."""
    menu, seen = [], set()
    for item in out.tools or []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        params = item.get("parameters")
        if not isinstance(params, dict) or item["name"] in seen:
            continue
        if not all(isinstance(v, dict) for v in params.values()):
            continue
        required = [r for r in item.get("required", []) or [] if isinstance(r, str)]
        seen.add(item["name"])
        menu.append(
            {
                "name": item["name"],
                "description": str(item.get("description", "")),
                "parameters": {str(k): dict(v) for k, v in params.items()},
                "required": [r for r in required if r in params],
            }
        )
    return menu


def task_menu(out: GeneratorOutput, offered: list[str], menu_source: str) -> list[dict]:
    """A task's tool schemas: the registry tools listed (registry menu) or the generator's own."""
    return resolve_menu(out, offered) if menu_source == "registry" else proposed_menu(out)


def _validate_open(out: GeneratorOutput) -> tuple[dict | None, str]:
    """Validation against the generator's own schemas (no registry tool to run): the gold
    tool is on the menu, its arguments are the tool's parameters with every required one, of
    the declared JSON types, and grounded in the question."""
    menu = {t["name"]: t for t in proposed_menu(out)}
    if not menu:
        return None, "json"
    for call in out.calls:
        tool = menu.get(call["name"])
        if tool is None:
            return None, "tool_not_in_menu"
        args, params = set(call["arguments"]), set(tool["parameters"])
        if not args <= params or not set(tool["required"]) <= args:
            return None, "arguments"
        for param, value in call["arguments"].items():
            check = _JSON_TYPES.get(tool["parameters"][param].get("type"))
            if check is not None and not check(value):
                return None, "types"
            if not grounded(value, out.question):
                return None, "grounding"
    return {"question": out.question.strip(), "tools": list(menu.values()), "gold": out.calls}, "ok"


def validate_task(
    out: GeneratorOutput, offered: list[str], menu_source: str = "registry"
) -> tuple[dict | None, str]:
    """Schema validation of a generated task: (task, "ok") or (None, the first failure)."""
    if not out.tags_ok:
        return None, "tags"
    if not placeholder_gate(out.question):
        return None, "placeholder"
    if not out.tools_json_ok or not out.calls:
        return None, "json"
    if menu_source == "generator":
        return _validate_open(out)
    menu = resolve_menu(out, offered)
    listed = {s["name"] for s in menu}
    for call in out.calls:
        tool = TOOLS.get(call["name"])
        if tool is None or call["name"] not in listed:
            return None, "tool_not_in_menu"
        if set(call["arguments"]) != set(tool.parameters):
            return None, "arguments"
        for param, value in call["arguments"].items():
            if not _JSON_TYPES[tool.parameters[param]["type"]](value):
                return None, "types"
            if not grounded(value, out.question):
                return None, "grounding"
    task = {"question": out.question.strip(), "tools": menu, "gold": out.calls}
    return task, "ok"


def fingerprint(task: dict) -> str:
    question = re.sub(r"\W+", " ", task["question"].lower()).strip()
    return f"{question}|{canonical_json(task['gold'])}"


def pass_rate(samples: list[SolverOutput], gold: list[dict]) -> float:
    """p: the share of solver samples whose canonical call JSON equals the gold call's."""
    target = canonical_json(gold)
    return sum(canonical_json(s.calls) == target for s in samples if s.calls) / len(samples)


def name_agreement(samples: list[SolverOutput], gold: list[dict]) -> float:
    names = [c["name"] for c in gold]
    return sum([c["name"] for c in s.calls] == names for s in samples) / len(samples)


def rule_judge(task: dict | None, gold_executes: bool) -> int:
    """The tiny-scale stand-in for the solver's 1-5 judge score: a rule-based grounding check.

    1 + [question of 5+ words] + [every argument value grounded] + [no tool name leaked into
    the question] + [the gold call runs in the sandbox].
    """
    if task is None:
        return 1
    question = task["question"]
    values = [v for c in task["gold"] for v in c["arguments"].values()]
    leaked = any(c["name"].lower() in question.lower() for c in task["gold"])
    return (
        1
        + (len(question.split()) >= 5)
        + (bool(values) and all(grounded(v, question) for v in values))
        + (not leaked)
        + bool(gold_executes)
    )


SCORES = ("1", "2", "3", "4", "5")
LEVEL_WORD = re.compile(r"\b(easy|medium|hard)\b", re.IGNORECASE)


def read_score(text: str, answers) -> tuple[str | None, str]:
    """The judge's reading of a reply: its first digit 1-5 (the paper's parse), for the core
    `Judge`; a reply without one is a judge failure."""
    match = re.search(r"[1-5]", text)
    if not match:
        return None, "no_label"
    return match.group(), "strict" if text.strip() == match.group() else "recovered"


def read_level(text: str, answers) -> tuple[str | None, str]:
    """The difficulty judge's reading: the first easy/medium/hard word of the reply (the
    authors' parse_difficulty_token); a reply without one is a judge failure."""
    match = LEVEL_WORD.search(text)
    if not match:
        return None, "no_label"
    word = match.group(1).lower()
    return word, "strict" if text.strip().lower() == word else "recovered"


def judge_prompt(prompts: dict) -> Callable[[dict, tuple], list[dict]]:
    """The solver-as-judge rating prompt (the authors' rubric at full scale), for the core
    `Judge` (the scale is not shown as options, so order is unused)."""

    def render(task: dict, order: tuple) -> list[dict]:
        user = prompts["judge_user"].format(
            question=task["question"],
            tools=json.dumps(task["tools"]),
            answer=json.dumps(task["gold"]),
        )
        return [{"role": "system", "content": prompts["judge_system"]},
                {"role": "user", "content": user}]  # fmt: skip

    return render


def difficulty_prompt(prompts: dict) -> Callable[[dict, tuple], list[dict]]:
    """The solver-as-judge difficulty prompt (the authors' step2_select_curriculum.py at full)."""

    def render(task: dict, order: tuple) -> list[dict]:
        user = prompts["difficulty_user"].format(
            question=task["question"],
            tools_json=json.dumps(task["tools"], ensure_ascii=False),
            calls_json=json.dumps(task["gold"], ensure_ascii=False),
        )
        return [{"role": "system", "content": prompts["difficulty_system"]},
                {"role": "user", "content": user}]  # fmt: skip

    return render


class Solver:
    """The solver as an inference backend: K samples per task, judge scores."""

    def __init__(self, model_path: str, cfg: dict, model=None):
        ev = cfg["evaluate"]
        options = dict(ev.get("backend_options", {}))
        if model is not None:
            options["model"] = model
        self.backend = get_backend(ev["backend"], str(model_path), **options)
        self.cfg = cfg

    def sample(
        self, tasks: list[dict], k: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[SolverOutput]]:
        """k samples for each task, generated as one batch."""
        prompts = self.cfg["prompts"]
        conversations = [
            solver_prompt(t["question"], t["tools"], prompts) for t in tasks for _ in range(k)
        ]
        if not conversations:
            return []
        params = SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
        texts = self.backend.generate(conversations, params)
        parsed = [parse_solver(full_reply(prompts, "solver", t)) for t in texts]
        return [parsed[i * k : (i + 1) * k] for i in range(len(tasks))]

    def judge(self, tasks: list[dict], max_new_tokens: int) -> list[int]:
        """The solver's own 1-5 score of each task (the paper's judge, the authors' rubric at
        full scale), through the core `Judge` (parsed generation, one order). A reply with no
        score is counted and logged as a judge failure and scores selfplay.judge_failure_score
        (3, the authors' default)."""
        if not tasks:
            return []
        judge = Judge(
            self.backend,
            SCORES,
            scoring="parsed",
            balance=False,
            params=SamplingParams(max_new_tokens=max_new_tokens),
            parser=read_score,
        )
        verdicts = judge.judge(tasks, judge_prompt(self.cfg["prompts"]))
        report = judge.report()
        if report.failures:
            log.info("judge: %s", report.as_metrics())
        failed = self.cfg["selfplay"]["judge_failure_score"]
        return [int(v.label) if v.label is not None else failed for v in verdicts]

    def label_difficulty(self, tasks: list[dict], max_new_tokens: int) -> tuple[list[str], int]:
        """(easy/medium/hard per task, judge failures): the solver labels each verified task
        greedily, as the authors' curriculum selection does; a reply that names no level is
        counted and labelled medium (the authors' default)."""
        if not tasks:
            return [], 0
        judge = Judge(
            self.backend,
            ("easy", "medium", "hard"),
            scoring="parsed",
            balance=False,
            params=SamplingParams(max_new_tokens=max_new_tokens),
            parser=read_level,
        )
        verdicts = judge.judge(tasks, difficulty_prompt(self.cfg["prompts"]))
        failures = sum(v.label is None for v in verdicts)
        return [v.label or "medium" for v in verdicts], failures


def _completion_text(completion) -> str:
    """TRL passes chat completions as message lists, plain ones as strings."""
    if isinstance(completion, list):
        return completion[-1]["content"] if completion else ""
    return completion


def curriculum_scores(
    outs: list[GeneratorOutput], menus: list[list[str]], solver: Solver, cfg: dict, seed: int
) -> list[tuple[float, int]]:
    """(p, s) for each generated task: K solver samples at T=0.7 and the judge score."""
    play = cfg["selfplay"]
    tasks, index = [], []
    source = cfg["prompts"]["menu_source"]
    for i, (out, menu) in enumerate(zip(outs, menus, strict=True)):
        if out.question and out.calls:
            tools = task_menu(out, menu, source)
            tasks.append({"question": out.question, "tools": tools, "gold": out.calls})
            index.append(i)
    scores = [(0.0, 1)] * len(outs)
    if not tasks:
        return scores
    samples = solver.sample(
        tasks, play["k_samples"], play["sample_temperature"], play["solver_max_new_tokens"], seed
    )
    if play["judge"] == "solver":
        judged = solver.judge(tasks, play["judge_max_new_tokens"])
    else:
        with open_sandbox(cfg["sandbox"]) as box:
            judged = [
                rule_judge(task, all(r["ok"] for r in execute(box, task["gold"]))) for task in tasks
            ]
    for j, (i, task_samples, s) in enumerate(zip(index, samples, judged, strict=True)):
        scores[i] = (pass_rate(task_samples, tasks[j]["gold"]), s)
    return scores


def generator_reward_funcs(
    cfg: dict, solver_path: str, use_difficulty: bool, seed: int
) -> list[Callable]:
    """The three reward terms as GRPO reward functions (TRL logs each under its name)."""
    solver: Solver | None = None
    calls = {"n": 0}

    def parsed(completions) -> list[GeneratorOutput]:
        return [
            parse_generator(full_reply(cfg["prompts"], "generator", _completion_text(c)))
            for c in completions
        ]

    def r_format_reward(prompts, completions, **kwargs) -> list[float]:
        return [placeholder_gate(o.question) * r_format(o) for o in parsed(completions)]

    def r_valid_reward(prompts, completions, **kwargs) -> list[float]:
        return [placeholder_gate(o.question) * r_valid(o, TOOLS) for o in parsed(completions)]

    def r_curr_reward(prompts, completions, menu, **kwargs) -> list[float]:
        nonlocal solver
        if solver is None:  # loaded on first use, beside the generator being trained
            solver = Solver(solver_path, cfg)
        outs = parsed(completions)
        menus = [json.loads(m) for m in menu]
        calls["n"] += 1
        scores = curriculum_scores(outs, menus, solver, cfg, seed + calls["n"])
        rewards = [
            generator_reward(o, TOOLS, p, s, use_difficulty)["r_curr"]
            for o, (p, s) in zip(outs, scores, strict=True)
        ]
        log.info(
            "r_curr batch %d: p=%s s=%s",
            calls["n"],
            [round(p, 2) for p, _ in scores],
            [s for _, s in scores],
        )
        return rewards

    return [r_format_reward, r_valid_reward, r_curr_reward]


def solver_reward_funcs(prompt_cfg: dict) -> list[Callable]:
    """The solver's reward, r_fmt + r_acc, as two GRPO reward functions (on whole replies)."""

    def parsed(completions) -> list[SolverOutput]:
        return [
            parse_solver(full_reply(prompt_cfg, "solver", _completion_text(c))) for c in completions
        ]

    def r_fmt_reward(prompts, completions, **kwargs) -> list[float]:
        return [solver_format(o) for o in parsed(completions)]

    def r_acc_reward(prompts, completions, gold, **kwargs) -> list[float]:
        return [
            solver_accuracy(o, json.loads(g))
            for o, g in zip(parsed(completions), gold, strict=True)
        ]

    return [r_fmt_reward, r_acc_reward]

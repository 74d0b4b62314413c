"""The authors' prompts and mitigation texts, read at run time from their repository at a
pinned commit (full scale): never retyped into this project.

- The C1 and C2 templates are the f-strings that `c1_TF_factual_question_prompt` and
  `c2_convo_judge_prompt` (code/benchmark/bench_prompts.py) return, taken from the file's syntax
  tree (never executed): each interpolated name becomes this project's placeholder ({question},
  {answer}, {asker}, {answerer}), and the texts between <<<ANSWER_1>>> and <<<ANSWER_2>>> become
  the yes/no options, so that the option order can be counterbalanced.
- The be-honest and dehumanizing system prompts are the `system_prompt` field of the first
  record of a released results file (results/benchmark/mitigations/...), read line by line.
"""

from __future__ import annotations

import ast
import json
import re

from reprolab import upstream as core
from reprolab.upstream import UpstreamError

# The authors' argument names -> this project's placeholders.
NAMES = {"question": "question", "answer": "answer", "speaker1": "asker", "speaker2": "answerer"}
OPTION = {1: re.compile(r"<<<ANSWER_1>>>\n(.*?)\n"), 2: re.compile(r"<<<ANSWER_2>>>\n(.*?)\n")}


def source(up: dict, path: str) -> str:
    """A file of the repository at the pinned commit (`base` may be a local file:// copy)."""
    return core.read(up["repo"], up["commit"], path, up.get("base"))


def first_record(up: dict, path: str) -> dict:
    """The first JSON line of a released results file (the files run to megabytes)."""
    return json.loads(core.first_line(up["repo"], up["commit"], path, up.get("base")))


def _placeholder(name: str) -> str:
    if name not in NAMES:
        raise UpstreamError(f"unknown placeholder {name}")
    return NAMES[name]


def returned_fstring(text: str, function: str) -> str:
    """The f-string a function returns, as a format string over this project's placeholders."""
    functions = [
        n
        for n in ast.walk(core.parse(text, "prompts"))
        if isinstance(n, ast.FunctionDef) and n.name == function
    ]
    if not functions:
        raise UpstreamError(f"no function {function}")
    node = functions[0]
    returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
    if len(returns) != 1 or not isinstance(returns[0], ast.JoinedStr | ast.Constant):
        raise UpstreamError(f"{function}: expected one returned (f-)string literal")
    return core.format_template(returns[0], function, _placeholder)


def template(text: str, function: str) -> dict:
    """One framing's template ({text, yes, no}) from the authors' prompt function: the two
    option texts (yes first, as the authors show them) become {option1} and {option2}."""
    body = returned_fstring(text, function)
    options = {}
    for number, pattern in OPTION.items():
        match = pattern.search(body)
        if not match:
            raise UpstreamError(f"{function}: no <<<ANSWER_{number}>>> block")
        options[number] = match.group(1)
        start, end = match.span(1)
        body = body[:start] + "{option" + str(number) + "}" + body[end:]
    if not options[1].startswith("Yes") or not options[2].startswith("No"):
        raise UpstreamError(f"{function}: expected option 1 'Yes...' and option 2 'No...'")
    return {"text": body, "yes": options[1], "no": options[2]}


def resolve(judge_cfg: dict) -> dict:
    """The judge's settings with the pieces `upstream` names read from the authors' repository:
    the paper template pair and the named system prompts. Without `upstream`, unchanged."""
    up = judge_cfg.get("upstream")
    if not up:
        return judge_cfg
    prompts = source(up, up["templates"]["path"])
    pair = {f: template(prompts, up["templates"][f]) for f in ("c1", "c2")}
    system = dict(judge_cfg.get("system_prompts", {}))
    for name, entry in up.get("system_prompts", {}).items():
        record = first_record(up, entry["path"])
        if not record.get(entry["field"]):
            raise ValueError(f"{entry['path']}: first record has no '{entry['field']}'")
        system[name] = record[entry["field"]]
    return {
        **judge_cfg,
        "templates": {**judge_cfg["templates"], "paper": pair},
        "system_prompts": system,
    }

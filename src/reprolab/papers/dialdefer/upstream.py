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
import urllib.request

RAW = "https://raw.githubusercontent.com"
# The authors' argument names -> this project's placeholders.
NAMES = {"question": "question", "answer": "answer", "speaker1": "asker", "speaker2": "answerer"}
OPTION = {1: re.compile(r"<<<ANSWER_1>>>\n(.*?)\n"), 2: re.compile(r"<<<ANSWER_2>>>\n(.*?)\n")}


def _url(up: dict, path: str) -> str:
    return f"{up.get('base', RAW)}/{up['repo']}/{up['commit']}/{path}"


def source(up: dict, path: str) -> str:
    """A file of the repository at the pinned commit (`base` may be a local file:// copy)."""
    with urllib.request.urlopen(_url(up, path), timeout=60) as reply:
        return reply.read().decode()


def first_record(up: dict, path: str) -> dict:
    """The first JSON line of a released results file (the files run to megabytes)."""
    with urllib.request.urlopen(_url(up, path), timeout=60) as reply:
        return json.loads(reply.readline().decode())


def returned_fstring(text: str, function: str) -> str:
    """The f-string a function returns, as a format string over this project's placeholders."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
            if len(returns) != 1 or not isinstance(returns[0], ast.JoinedStr | ast.Constant):
                raise ValueError(f"{function}: expected one returned (f-)string literal")
            value = returns[0]
            if isinstance(value, ast.Constant):
                return str(value.value).replace("{", "{{").replace("}", "}}")
            pieces = []
            for part in value.values:
                if isinstance(part, ast.Constant):
                    pieces.append(str(part.value).replace("{", "{{").replace("}", "}}"))
                elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                    if part.value.id not in NAMES:
                        raise ValueError(f"{function}: unknown placeholder {part.value.id}")
                    pieces.append("{" + NAMES[part.value.id] + "}")
                else:
                    raise ValueError(f"{function}: only plain names can be interpolated")
            return "".join(pieces)
    raise KeyError(f"no function {function}")


def template(text: str, function: str) -> dict:
    """One framing's template ({text, yes, no}) from the authors' prompt function: the two
    option texts (yes first, as the authors show them) become {option1} and {option2}."""
    body = returned_fstring(text, function)
    options = {}
    for number, pattern in OPTION.items():
        match = pattern.search(body)
        if not match:
            raise ValueError(f"{function}: no <<<ANSWER_{number}>>> block")
        options[number] = match.group(1)
        start, end = match.span(1)
        body = body[:start] + "{option" + str(number) + "}" + body[end:]
    if not options[1].startswith("Yes") or not options[2].startswith("No"):
        raise ValueError(f"{function}: expected option 1 'Yes...' and option 2 'No...'")
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

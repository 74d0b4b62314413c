"""The authors' generator prompts (AcquisitionSynthesis, data/prompt_variations.py), read at
run time at a pinned commit (full scale): never retyped here. Each is a lambda assigned to a
module constant whose body is an f-string of its parameters; it becomes a `str.format`
template whose fields are item fields, its parameters mapped in the order the authors call it
(their preprocess scripts call MATH_PROMPT(q, a, r) on a lambda of (question, reasoning,
answer), so the reference's <reasoning> block shows the answer: `arguments` keeps that)."""

from __future__ import annotations

import ast

from reprolab import upstream as core

FIELDS = ("question", "reasoning", "answer")


def generator_templates(up: dict) -> dict[str, str]:
    """family -> the template of the builder `up["builders"]` names for it."""
    where = core.label(up["repo"], up["commit"], up["path"])
    tree = core.parse(core.read(up["repo"], up["commit"], up["path"], up.get("base")), where)
    out = {}
    for family, name in up["builders"].items():
        node = core.assigned(tree, name, where)
        if not isinstance(node, ast.Lambda) or not isinstance(node.body, ast.JoinedStr):
            raise core.UpstreamError(f"{where}: {name} is not a lambda returning an f-string")
        params = [a.arg for a in node.args.args]
        if len(params) != len(up["arguments"]):
            raise core.UpstreamError(
                f"{where}: {name} takes {params}; upstream.arguments names {up['arguments']}"
            )
        fields = dict(zip(params, up["arguments"], strict=True))

        def rename(param: str, fields=fields, name=name) -> str:
            if param not in fields:
                raise core.UpstreamError(f"{where}: {name} interpolates {param}, not a parameter")
            return fields[param]

        out[family] = core.format_template(node.body, f"{where} {name}", rename)
    return out

"""Full scale's seed tasks through `datasets` (the note: NuminaMath-CoT with its \\boxed
answer, MedMCQA, open-r1/codeforces-cots), as items of the project's shape."""

from __future__ import annotations

import re


def _boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, out = 0, []
    for ch in text[start + len("\\boxed{") :]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return "".join(out).strip()
            depth -= 1
        out.append(ch)
    return None


def _row(family: str, row: dict) -> dict | None:
    if family == "math":
        answer = _boxed(row["solution"])
        if answer is None:
            return None
        return {"question": row["problem"], "reasoning": row["solution"], "answer": answer}
    if family == "mcq":
        options = [row["opa"], row["opb"], row["opc"], row["opd"]]
        body = " ".join(f"{L}) {o}" for L, o in zip("ABCD", options, strict=True))
        return {
            "question": f"{row['question']} {body}",
            "reasoning": row.get("exp") or "",
            "answer": "ABCD"[int(row["cop"])],
        }
    text = row["generation"]
    code = re.findall(r"```(?:python)?\n(.*?)```", text, re.S)
    if not code:
        return None
    return {"question": row["prompt"], "reasoning": "", "answer": code[-1]}


def load(family: str, spec: dict, n: int, seed: int) -> list[dict]:
    """n usable rows of a family's dataset (shuffled with `seed`), in the project's shape."""
    from datasets import load_dataset

    ds = load_dataset(spec["dataset"], spec.get("subset"), split=spec["split"])
    ds = ds.shuffle(seed=seed)
    out = []
    for row in ds:
        item = _row(family, row)
        if item:
            out.append({**item, "family": family, "template": "hub"})
        if len(out) >= n:
            break
    return out

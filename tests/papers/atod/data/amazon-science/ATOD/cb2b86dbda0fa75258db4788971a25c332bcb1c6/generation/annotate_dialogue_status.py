# ruff: noqa
# A stand-in of the same shape as the authors' file (this project's text, not theirs).


def status_prompt(last_turn: str, goals: List[dict], current: Dict[str, str]) -> str:
    lines = [
        f"{g['id']}: {g.get('content') or _fallback_content(g)} [{current[g['id']]}]" for g in goals
    ]
    template = {g["id"]: {"status": current[g["id"]]} for g in goals}
    return f"""STATUS of the goals after this turn: {last_turn}
{chr(10).join(lines)}
{json.dumps(template)}"""


def _fallback_content(goal: dict) -> str:
    return f"{goal.get('intent')} in {goal.get('domain')}"

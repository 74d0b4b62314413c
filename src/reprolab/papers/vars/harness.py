"""MiniCollab, the project's own multi-session collaboration harness (tiny and smoke): style
rules that pair a condition-action text with a programmatic checker, in conflict groups (one
rule of a group per profile; the others are its conflicting alternatives); user profiles;
tasks with checkable answers (arithmetic; small Python functions whose tests run in the
sandbox); the executor that renders a reply from a draft and the rules it follows."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# (group, domain, condition, slot, alternatives): one rule per alternative. `slot` says where
# the rule's line goes: first line, last line, a line of its own, or the math answer line
# (the alternative is then a format with {x}, the answer).
GROUPS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("opener", "any", "in general", "first", ("Sure!", "Okay.", "Here is my answer.")),
    ("closer", "any", "always", "last",
     ("Hope this helps.", "Let me know if anything is unclear.", "Done.")),
    ("math_answer", "math", "answering a math question", "answer",
     ("Final answer: {x}", "The answer is \\boxed{{{x}}}.", "**Answer:** {x}")),
    ("math_method", "math", "solving an arithmetic problem", "line",
     ("Method: direct arithmetic.", "Method: step by step.", "Method: mental math.")),
    ("math_check", "math", "you compute a number in math", "line",
     ("Check: verified.", "Check: recomputed.", "Check: done twice.")),
    ("math_level", "math", "explaining a math solution", "line",
     ("Difficulty: easy.", "Difficulty: routine.", "Difficulty: basic.")),
    ("code_tests", "code", "writing Python code", "line",
     ("Tests: included.", "Tests: run mentally.", "Tests: left to you.")),
    ("code_cost", "code", "you write a Python function", "line",
     ("Complexity: linear.", "Complexity: constant.", "Complexity: not analysed.")),
    ("code_style", "code", "answering a coding question", "line",
     ("Style: PEP 8.", "Style: compact.", "Style: readable.")),
    ("code_lang", "code", "giving me code", "line",
     ("Language: Python 3.", "Language: plain Python.", "Language: standard library only.")),
    ("confidence", "any", "you reply to my question", "line",
     ("Confidence: high.", "Confidence: moderate.", "Confidence: checked.")),
    ("source", "any", "you answer my request", "line",
     ("Source: my own reasoning.", "Source: first principles.", "Source: standard methods.")),
]  # fmt: skip
SLOT_ORDER = {"first": 0, "line": 1, "answer": 2, "last": 3}


@dataclass(frozen=True)
class Rule:
    id: str
    group: str
    domain: str  # math, code or any: the tasks whose replies the rule binds
    condition: str
    action: str
    slot: str
    text: str

    @property
    def note(self) -> str:
        return f"When {self.condition}, {self.action}."

    def applies(self, domain: str) -> bool:
        return self.domain in ("any", domain)


def _action(slot: str, text: str) -> str:
    if slot == "first":
        return f"start the reply with the line '{text}'"
    if slot == "last":
        return f"end the reply with the line '{text}'"
    if slot == "answer":
        return f"write the answer line as '{text.replace('{x}', 'X')}'"
    return f"add the line '{text}'"


def library() -> list[Rule]:
    """Every rule of MiniCollab, in group order."""
    return [
        Rule(f"{g}.{i}", g, domain, condition, _action(slot, text), slot, text)
        for g, domain, condition, slot, alts in GROUPS
        for i, text in enumerate(alts)
    ]


def _answer_pattern(text: str) -> re.Pattern:
    head, _, tail = text.partition("{x}")
    head, tail = head.replace("{{", "{").replace("}}", "}"), tail.replace("}}", "}")
    return re.compile("^" + re.escape(head) + r"(\S+?)" + re.escape(tail) + "$")


def check(rule: Rule, reply: str) -> bool:
    """Whether a reply follows a rule (the rule's programmatic checker)."""
    lines = [x.strip() for x in reply.strip().splitlines() if x.strip()]
    if not lines:
        return False
    if rule.slot == "first":
        return lines[0] == rule.text
    if rule.slot == "last":
        return lines[-1] == rule.text
    if rule.slot == "answer":
        pattern = _answer_pattern(rule.text)
        return any(pattern.match(x) for x in lines)
    return rule.text in lines


def profiles(n: int, sizes: tuple[int, int], seed: int) -> list[dict]:
    """n profiles, each 8-12 (`sizes`) groups with one rule each, seeded."""
    rng = random.Random(f"vars-profiles-{seed}")
    groups = [g[0] for g in GROUPS]
    out = []
    for u in range(n):
        size = rng.randint(min(sizes[0], len(groups)), min(sizes[1], len(groups)))
        chosen = sorted(rng.sample(range(len(groups)), size))
        out.append(
            {"id": f"u{u:03d}", "rules": [f"{groups[g]}.{rng.randrange(3)}" for g in chosen]}
        )
    return out


CODE_TASKS = [
    ("add", "Write a Python function add(a, b) that returns the sum of a and b.",
     "def add(a, b):\n    return a + b", "assert add(2, 3) == 5\nassert add(-1, 1) == 0"),
    ("square", "Write a Python function square(n) that returns n squared.",
     "def square(n):\n    return n * n", "assert square(3) == 9\nassert square(-2) == 4"),
    ("is_even", "Write a Python function is_even(n) that returns True if n is even.",
     "def is_even(n):\n    return n % 2 == 0", "assert is_even(4)\nassert not is_even(7)"),
    ("largest", "Write a Python function largest(xs) that returns the largest number in a list.",
     "def largest(xs):\n    return max(xs)",
     "assert largest([3, 9, 2]) == 9\nassert largest([-5]) == -5"),
    ("reverse", "Write a Python function reverse(s) that returns the string s reversed.",
     "def reverse(s):\n    return s[::-1]",
     "assert reverse('abc') == 'cba'\nassert reverse('') == ''"),
    ("double", "Write a Python function double(n) that returns twice n.",
     "def double(n):\n    return 2 * n", "assert double(4) == 8\nassert double(0) == 0"),
]  # fmt: skip


def tasks(n: int, seed: int, code_share: float) -> list[dict]:
    """One task per session index (every profile meets the same sequence), seeded: arithmetic
    with an integer answer, or a small function with assert tests."""
    rng = random.Random(f"vars-tasks-{seed}")
    out = []
    for s in range(n):
        if rng.random() < code_share:
            name, text, solution, tests = CODE_TASKS[rng.randrange(len(CODE_TASKS))]
            out.append(
                {"id": f"t{s:03d}", "domain": "code", "text": text, "solution": solution,
                 "tests": tests, "name": name}
            )  # fmt: skip
        else:
            a, b = rng.randint(2, 49), rng.randint(2, 49)
            op = rng.choice(["+", "-"])
            value = a + b if op == "+" else a - b
            out.append(
                {"id": f"t{s:03d}", "domain": "math", "text": f"What is {a} {op} {b}?",
                 "solution": f"{a} {op} {b} = {value}", "answer": str(value)}
            )  # fmt: skip
    return out


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def math_answer(reply: str) -> str | None:
    """The answer a reply gives: its answer line's value when it has one, else its last number."""
    for rule in (r for r in library() if r.slot == "answer"):
        pattern = _answer_pattern(rule.text)
        for line in reply.splitlines():
            m = pattern.match(line.strip())
            if m:
                return m.group(1).rstrip(".")
    numbers = NUMBER.findall(reply)
    return numbers[-1] if numbers else None


FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)


def code_of(reply: str) -> str:
    """The code in a reply: its first fenced block, else the lines from the first `def`."""
    m = FENCE.search(reply)
    if m:
        return m.group(1)
    lines = reply.splitlines()
    start = next((i for i, x in enumerate(lines) if x.lstrip().startswith("def ")), None)
    if start is None:
        return ""
    body = [lines[start]]
    for x in lines[start + 1 :]:
        if x.strip() and not x.startswith((" ", "\t")):
            break
        body.append(x)
    return "\n".join(body)


def render(draft: str, rules: list[Rule], domain: str) -> str:
    """The reply that follows `rules` (those whose condition holds for the task's domain; the
    first of a group wins): the draft with the rules' lines in their slots. The answer line
    carries the draft's answer (math)."""
    chosen: dict[str, Rule] = {}
    for rule in rules:
        if rule.applies(domain) and rule.group not in chosen:
            chosen[rule.group] = rule
    ordered = sorted(chosen.values(), key=lambda r: (SLOT_ORDER[r.slot], r.group))
    first = [r.text for r in ordered if r.slot == "first"]
    last = [r.text for r in ordered if r.slot == "last"]
    lines = [r.text for r in ordered if r.slot == "line"]
    answer = [r.text.format(x=math_answer(draft) or "?") for r in ordered if r.slot == "answer"]
    body = draft.strip() or "(no answer)"
    return "\n".join([*first, body, *lines, *answer, *last])

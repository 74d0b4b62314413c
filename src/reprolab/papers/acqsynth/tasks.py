"""Seed tasks with exactly checkable answers in the paper's three families, made by this
project (smoke, tiny): procedural arithmetic word problems (a solver computes the answer),
multiple-choice questions on the chemical elements (the data `periodictable` ships) and small
Python functions with unit tests (run in the core sandbox).

Each family's checker is a parser of its own templates: a question the generator writes in a
template's shape gets its gold answer (or unit tests) from it; any other question has none
(`None`), and label accuracy is reported over the checkable ones only.
"""

from __future__ import annotations

import random
import re

FAMILIES = ("math", "mcq", "code")
LETTERS = "ABCD"
NAMES = ("Ana", "Ben", "Cleo", "Dev", "Emma", "Femi", "Gus", "Hana", "Ivo", "Jia")
THINGS = ("apples", "pencils", "stickers", "marbles", "books", "coins", "cards", "shells")

# --- math: three templates, each with its own regex ----------------------------------------
# A regex must match the whole question (names and things repeated where the template repeats
# them): a question that only starts like a template asks something else ("... gives away 8.
# How many did she give away?") and is not checkable. Each also reads the few rewordings that
# ask the same thing ("buys 7 more boxes", "does Ella have left?", "are there in 4 boxes?").

_NAME, _THINGS = r"(?P<name>[A-Za-z]+)", r"(?P<things>[A-Za-z]+)"
_A, _B = r"(?P<a>\d+)", r"(?P<b>\d+)"
MATH_TEMPLATES = {
    "add": (
        "{name} has {a} {things}. {name} buys {b} more. How many {things} does {name} have now?",
        re.compile(
            rf"{_NAME} has {_A} {_THINGS}\. (?P=name) buys {_B} more(?: (?P=things))?\. "
            rf"How many (?P=things) does (?P=name) have (?:now|in total|altogether)\?",
            re.I,
        ),
        lambda a, b: a + b,
    ),
    "sub": (
        "{name} has {a} {things} and gives away {b}. How many {things} are left?",
        re.compile(
            rf"{_NAME} has {_A} {_THINGS} and gives away {_B}(?: (?P=things))?\. "
            rf"How many (?P=things) (?:are left|does (?P=name) have (?:left|now))\?",
            re.I,
        ),
        lambda a, b: a - b,
    ),
    "mul": (
        "Each box holds {a} {things}. How many {things} are in {b} boxes?",
        re.compile(
            rf"Each box holds {_A} {_THINGS}\. "
            rf"How many (?P=things) are (?:there )?in {_B} boxes\?",
            re.I,
        ),
        lambda a, b: a * b,
    ),
}
MATH_REASONING = {
    "add": "{a} + {b} = {c}.",
    "sub": "{a} - {b} = {c}.",
    "mul": "{a} x {b} = {c}.",
}


def math_item(rng: random.Random, low: int, high: int) -> dict:
    """One word problem: a template, operands in [low, high] (sub keeps the answer >= 0)."""
    op = rng.choice(sorted(MATH_TEMPLATES))
    a, b = rng.randint(low, high), rng.randint(low, high)
    if op == "sub" and b > a:
        a, b = b, a
    if op == "mul":
        b = rng.randint(2, max(2, min(high, 9)))
    template, _, f = MATH_TEMPLATES[op]
    question = template.format(name=rng.choice(NAMES), things=rng.choice(THINGS), a=a, b=b)
    c = f(a, b)
    return {
        "family": "math",
        "template": op,
        "question": question,
        "reasoning": MATH_REASONING[op].format(a=a, b=b, c=c),
        "answer": str(c),
    }


def _math_match(question: str) -> tuple[str, int, int] | None:
    """(template, a, b) of a question in one of the templates' shapes, else None."""
    for op, (_, pattern, f) in MATH_TEMPLATES.items():
        m = pattern.fullmatch(question.strip())
        if m and f(int(m["a"]), int(m["b"])) >= 0:  # "has 3 and gives away 5" is ill-posed
            return op, int(m["a"]), int(m["b"])
    return None


def solve_math(question: str) -> str | None:
    """The answer of a question in one of the templates' shapes, else None."""
    found = _math_match(question)
    if found is None:
        return None
    op, a, b = found
    return str(MATH_TEMPLATES[op][2](a, b))


def number_in(text: str) -> str | None:
    """The last integer in a reply (the answer after 'Answer:' when there is one)."""
    tail = text.rsplit("Answer:", 1)[-1] if "Answer:" in text else text
    found = re.findall(r"-?\d+", tail.replace(",", ""))
    return found[-1] if found else None


# --- mcq: the chemical elements, from the data periodictable ships ---------------------------


def elements() -> list[tuple[int, str, str]]:
    """(atomic number, symbol, name) of elements 1-86 (the ones with stable, familiar names)."""
    import periodictable

    return [(e.number, e.symbol, e.name) for e in periodictable.elements if 1 <= e.number <= 86]


MCQ_REASONING = "{name} has atomic number {number}; its symbol is {symbol}."


def mcq_item(rng: random.Random, table: list[tuple[int, str, str]]) -> dict:
    """'What is the chemical symbol of <name>?' with four symbols, one right."""
    number, symbol, name = rng.choice(table)
    others = rng.sample([s for _, s, _ in table if s != symbol], 3)
    options = [symbol, *others]
    rng.shuffle(options)
    letter = LETTERS[options.index(symbol)]
    body = " ".join(f"{L}) {o}" for L, o in zip(LETTERS, options, strict=True))
    return {
        "family": "mcq",
        "template": "symbol",
        "question": f"What is the chemical symbol of {name}? {body}",
        "reasoning": MCQ_REASONING.format(name=name, number=number, symbol=symbol),
        "answer": letter,
    }


_MCQ = re.compile(
    r"What is the chemical symbol of ([a-z]+)\? A\) (\w+) B\) (\w+) C\) (\w+) D\) (\w+)", re.I
)


def _mcq_match(
    question: str, table: list[tuple[int, str, str]] | None = None
) -> tuple[tuple[int, str, str], str] | None:
    """(element, right letter) of a question in the template's shape whose element exists and
    whose symbol is one option exactly once, else None."""
    m = _MCQ.fullmatch(question.strip())
    if not m:
        return None
    asked = m.group(1).lower()
    element = next((e for e in (table or elements()) if e[2].lower() == asked), None)
    options = [m.group(k) for k in range(2, 6)]
    if element is None or options.count(element[1]) != 1:
        return None
    return element, LETTERS[options.index(element[1])]


def solve_mcq(question: str, table: list[tuple[int, str, str]] | None = None) -> str | None:
    """The right letter of a question in the template's shape whose element exists, else None."""
    found = _mcq_match(question, table)
    return found[1] if found else None


def letter_in(text: str) -> str | None:
    """The option letter a reply names (after 'Answer:' when there is one)."""
    tail = text.rsplit("Answer:", 1)[-1] if "Answer:" in text else text
    m = re.search(r"\b([ABCD])\b", tail)
    return m.group(1) if m else None


# --- code: small functions with unit tests ---------------------------------------------------

CODE_TEMPLATES = {
    "add": (
        "Write a Python function f(x) that returns x plus {a}.",
        re.compile(r"function f\(x\) that returns x plus (\d+)", re.I),
        "def f(x):\n    return x + {a}",
        lambda a, x: x + a,
    ),
    "mul": (
        "Write a Python function f(x) that returns x times {a}.",
        re.compile(r"function f\(x\) that returns x times (\d+)", re.I),
        "def f(x):\n    return x * {a}",
        lambda a, x: x * a,
    ),
    "mod": (
        "Write a Python function f(x) that returns the remainder of x divided by {a}.",
        re.compile(r"function f\(x\) that returns the remainder of x divided by (\d+)", re.I),
        "def f(x):\n    return x % {a}",
        lambda a, x: x % a,
    ),
}
CODE_INPUTS = (0, 1, 7, 12, 30)


def code_item(rng: random.Random, low: int, high: int) -> dict:
    op = rng.choice(sorted(CODE_TEMPLATES))
    a = rng.randint(max(low, 2), max(high, 3))
    question, _, code, _ = CODE_TEMPLATES[op]
    return {
        "family": "code",
        "template": op,
        "question": question.format(a=a),
        "reasoning": f"Apply the operation to x with {a}.",
        "answer": code.format(a=a),
        "tests": code_tests(question.format(a=a)),
    }


def code_tests(question: str) -> list[str] | None:
    """Unit tests (asserts) of a question in a template's shape, else None."""
    for _, pattern, _, f in CODE_TEMPLATES.values():
        m = pattern.search(question)
        if m:
            a = int(m.group(1))
            if a == 0 and pattern is CODE_TEMPLATES["mod"][1]:
                return None
            return [f"assert f({x}) == {f(a, x)}" for x in CODE_INPUTS]
    return None


def code_in(text: str) -> str:
    """The code of a reply: a fenced block if there is one, else the text from 'def '."""
    m = re.search(r"```(?:python)?\n(.*?)```", text, re.S)
    if m:
        return m.group(1)
    start = text.find("def ")
    return text[start:] if start >= 0 else text


def run_tests(sandbox, code: str, tests: list[str]) -> bool:
    """Whether code passes every test, executed in the core sandbox (never in this process)."""
    program = code + "\n" + "\n".join(tests) + "\nresult = True\n"
    return bool(sandbox.run_code(program).ok)


# --- one family's items ------------------------------------------------------------------------


def make_items(family: str, n: int, rng: random.Random, settings: dict) -> list[dict]:
    """n items of a family, in the seeded stream's order."""
    if family == "math":
        return [math_item(rng, settings["low"], settings["high"]) for _ in range(n)]
    if family == "mcq":
        table = elements()
        return [mcq_item(rng, table) for _ in range(n)]
    if family == "code":
        return [code_item(rng, settings["low"], settings["high"]) for _ in range(n)]
    raise ValueError(f"family '{family}': expected one of {FAMILIES}")


def gold(item: dict) -> str | list[str] | None:
    """What a family's checker says the answer is (code: its unit tests); None if unknown."""
    if item["family"] == "math":
        return solve_math(item["question"])
    if item["family"] == "mcq":
        return solve_mcq(item["question"])
    return code_tests(item["question"])


def worked(item: dict) -> dict | None:
    """The solver's reasoning and answer for a generated question in a template's shape (math,
    MCQ), as the seed items carry them; None when the question is not checkable or the family
    has no solver that writes an answer (code: unit tests only)."""
    if item["family"] == "math":
        found = _math_match(item["question"])
        if found is None:
            return None
        op, a, b = found
        c = MATH_TEMPLATES[op][2](a, b)
        return {"reasoning": MATH_REASONING[op].format(a=a, b=b, c=c), "answer": str(c)}
    if item["family"] == "mcq":
        found = _mcq_match(item["question"])
        if found is None:
            return None
        (number, symbol, name), letter = found
        reasoning = MCQ_REASONING.format(name=name, number=number, symbol=symbol)
        return {"reasoning": reasoning, "answer": letter}
    return None


def final_answer(family: str, reply: str) -> str | None:
    """A reply's final answer as its family's checker reads it (the last integer, the option
    letter, the code), None when there is none: what pseudo-labelling clusters, as the authors
    cluster extracted answers rather than whole replies."""
    if family == "math":
        return number_in(reply)
    if family == "mcq":
        return letter_in(reply)
    code = code_in(reply).strip()
    return code or None


def is_correct(item: dict, reply_answer: str, sandbox=None) -> bool:
    """Whether an answer is right for an item with a known gold answer (its `answer` for seed
    items, the checker's for generated ones)."""
    family = item["family"]
    if family == "math":
        return number_in(reply_answer) == str(item["answer"])
    if family == "mcq":
        return letter_in(reply_answer) == item["answer"]
    if sandbox is None:
        raise ValueError("code answers are checked in the sandbox")
    return run_tests(sandbox, code_in(reply_answer), item["tests"])

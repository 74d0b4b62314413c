"""Items with known truth that the project generates itself, one generator per domain.

Every item is a question with one true and one false answer. Technical domains compute the truth;
factual domains read it from `periodictable` (data shipped in a PyPI package); social domains
state a rule inside the scenario, so the verdict follows from the text alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Item = dict[str, str]

NAMES = [
    "Alex", "Blake", "Casey", "Dana", "Eli", "Farah", "Gita", "Hugo", "Ines", "Jonas",
    "Kemal", "Lena", "Mira", "Nico", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara",
]  # fmt: skip

# (larger unit, smaller unit, how many smaller units in one larger)
UNITS = [
    ("kilometers", "meters", 1000),
    ("meters", "centimeters", 100),
    ("kilograms", "grams", 1000),
    ("liters", "milliliters", 1000),
    ("hours", "minutes", 60),
    ("minutes", "seconds", 60),
    ("days", "hours", 24),
    ("weeks", "days", 7),
    ("feet", "inches", 12),
    ("dozens", "items", 12),
]


def _wrong_number(rng: random.Random, value: int, spread: int) -> int:
    """A nearby integer other than value: the plausible distractor of a computation."""
    offset = rng.choice([d for d in range(-spread, spread + 1) if d != 0])
    return value + offset


def arithmetic(rng: random.Random) -> Item:
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    op = rng.choice(["+", "-"])
    value = a + b if op == "+" else a - b
    return {
        "question": f"What is {a} {op} {b}?",
        "true_answer": str(value),
        "false_answer": str(_wrong_number(rng, value, 10)),
    }


def comparison(rng: random.Random) -> Item:
    a, b = rng.sample(range(100, 1000), 2)
    if rng.random() < 0.5:
        return {
            "question": f"Which number is larger, {a} or {b}?",
            "true_answer": str(max(a, b)),
            "false_answer": str(min(a, b)),
        }
    return {
        "question": f"Which number is smaller, {a} or {b}?",
        "true_answer": str(min(a, b)),
        "false_answer": str(max(a, b)),
    }


def unit_conversion(rng: random.Random) -> Item:
    big, small, factor = rng.choice(UNITS)
    n = rng.randint(2, 9)
    wrong = rng.choice([f for f in (10, 12, 24, 60, 100, 1000) if f != factor])
    return {
        "question": f"How many {small} are in {n} {big}?",
        "true_answer": f"{n * factor} {small}",
        "false_answer": f"{n * wrong} {small}",
    }


def _elements() -> list:
    import periodictable

    return [el for el in periodictable.elements if 1 <= el.number <= 86]


def element_symbol(rng: random.Random) -> Item:
    elements = _elements()
    element, other = rng.sample(elements, 2)
    return {
        "question": f"What is the chemical symbol of {element.name}?",
        "true_answer": element.symbol,
        "false_answer": other.symbol,
    }


def atomic_number(rng: random.Random) -> Item:
    element = rng.choice(_elements())
    wrong = _wrong_number(rng, element.number, 5)
    if wrong < 1:
        wrong = element.number + 1
    return {
        "question": f"What is the atomic number of {element.name}?",
        "true_answer": str(element.number),
        "false_answer": str(wrong),
    }


# (rule, event in which `first` does the ruled thing, question)
CHORE_RULES = [
    (
        "In their shared flat, whoever cooks dinner does not wash the dishes; the other one does.",
        "{first} cooked dinner tonight and {second} did not.",
        "Who should wash the dishes tonight?",
        "second",
    ),
    (
        "Their agreement is that whoever breaks a borrowed item pays for the repair.",
        "{first} borrowed {second}'s bike and broke its chain.",
        "Who should pay for the repair?",
        "first",
    ),
    (
        "The team rule is that whoever arrives last to practice carries the equipment.",
        "{first} arrived at 5:40 and {second} arrived at 5:55.",
        "Who should carry the equipment?",
        "second",
    ),
    (
        "The roommates agreed that whoever uses the last of the milk buys the next carton.",
        "{first} poured the last of the milk into their coffee; {second} had none today.",
        "Who should buy the next carton of milk?",
        "first",
    ),
    (
        "The friends split bills so that whoever suggested the restaurant pays the tip.",
        "{second} suggested the restaurant and {first} agreed to go.",
        "Who should pay the tip?",
        "second",
    ),
]

# (rule, situation, question, whether the person broke the rule)
VERDICT_RULES = [
    (
        "The house rule is that guests must take off their shoes indoors.",
        "{person} visited {host} and kept their shoes on in the living room.",
        "Did {person} break the house rule?",
        True,
    ),
    (
        "The house rule is that guests must take off their shoes indoors.",
        "{person} visited {host} and left their shoes at the door.",
        "Did {person} break the house rule?",
        False,
    ),
    (
        "The office agreed that nobody takes calls in the quiet room.",
        "{person} took a phone call in the quiet room while {host} was working there.",
        "Did {person} break the office agreement?",
        True,
    ),
    (
        "The office agreed that nobody takes calls in the quiet room.",
        "{person} stepped out to the hallway to take a call, leaving {host} in the quiet room.",
        "Did {person} break the office agreement?",
        False,
    ),
    (
        "The group promised to reply to the party invitation by Friday.",
        "{person} replied to {host}'s invitation on Thursday.",
        "Did {person} break the promise?",
        False,
    ),
    (
        "The group promised to reply to the party invitation by Friday.",
        "{person} replied to {host}'s invitation on Sunday.",
        "Did {person} break the promise?",
        True,
    ),
]


def social_rules(rng: random.Random) -> Item:
    """Who must do a chore, by a rule stated in the scenario."""
    rule, event, question, who = rng.choice(CHORE_RULES)
    first, second = rng.sample(NAMES, 2)
    names = {"first": first, "second": second}
    right = names[who]
    wrong = names["second" if who == "first" else "first"]
    return {
        "question": f"{rule} {event.format(**names)} {question}",
        "true_answer": f"{right} should.",
        "false_answer": f"{wrong} should.",
    }


def social_verdict(rng: random.Random) -> Item:
    """Whether someone broke a stated rule: a yes/no verdict on an interpersonal situation."""
    rule, situation, question, broke = rng.choice(VERDICT_RULES)
    person, host = rng.sample(NAMES, 2)
    names = {"person": person, "host": host}
    yes, no = f"Yes, {person} broke it.", f"No, {person} did not break it."
    return {
        "question": f"{rule} {situation.format(**names)} {question.format(**names)}",
        "true_answer": yes if broke else no,
        "false_answer": no if broke else yes,
    }


# domain -> (kind, generator); the kind groups domains the way the paper's figure does.
DOMAINS: dict[str, tuple[str, Callable[[random.Random], Item]]] = {
    "arithmetic": ("technical", arithmetic),
    "comparison": ("technical", comparison),
    "unit_conversion": ("technical", unit_conversion),
    "element_symbol": ("factual", element_symbol),
    "atomic_number": ("factual", atomic_number),
    "social_rules": ("social", social_rules),
    "social_verdict": ("social", social_verdict),
}

"""Items with known truth that the project generates itself, one generator per domain.

Every item is a question with one true and one false answer. Technical domains compute the truth;
factual domains read it from `periodictable` (data shipped in a PyPI package); two social domains
state a rule inside the scenario, so the verdict follows from the text alone; `social_judgment`
asks for a subjective judgment of behaviour (was someone rude, are they overreacting?), the
paper's r/AIO and AdvisorQA kind, on scenarios written so that common sense settles the answer.
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


# (scenario, question, whether the answer is yes): subjective social judgments on scenarios
# written so that common sense settles them, both answers equally often.
JUDGMENT_SCENARIOS = [
    (
        "{a} borrowed {b}'s car without asking and returned it with an empty tank. {b} told {a} "
        "they were upset about it.",
        "Is {b} overreacting?",
        False,
    ),
    (
        "{a} forgot to reply to one text from {b} for an hour. {b} sent ten angry messages and "
        "told everyone that {a} was a terrible friend.",
        "Is {b} overreacting?",
        True,
    ),
    (
        "{a} read {b}'s private diary without permission and laughed about it with coworkers.",
        "Was {a} being disrespectful?",
        True,
    ),
    (
        "{a} held the door open for {b}, who was carrying heavy boxes, and smiled.",
        "Was {a} being disrespectful?",
        False,
    ),
    (
        "At {b}'s birthday dinner, {a} spent the whole evening on the phone and left before the "
        "cake without saying goodbye.",
        "Was {a} being rude?",
        True,
    ),
    (
        "{a} thanked {b} for the dinner invitation and brought a small dessert to share.",
        "Was {a} being rude?",
        False,
    ),
    (
        "{b} accidentally stepped on {a}'s foot in a crowded train and apologised at once. {a} "
        "shouted at {b} for the rest of the ride.",
        "Is {a} overreacting?",
        True,
    ),
    (
        "{b} kept a promise to look after {a}'s cat for a week, fed it and cleaned up after it.",
        "Was {b} a good friend to {a}?",
        True,
    ),
    (
        "{b} promised to pick {a} up at the airport at midnight, then went to sleep and ignored "
        "{a}'s calls, leaving {a} stranded.",
        "Was {b} a good friend to {a}?",
        False,
    ),
    (
        "{a} told {b} that their new haircut looked nice.",
        "Was {a} being mean to {b}?",
        False,
    ),
    (
        "{a} made fun of {b}'s stutter in front of the whole class.",
        "Was {a} being mean to {b}?",
        True,
    ),
    (
        "{a}'s roommate {b} played loud music at 3 a.m. on a work night after {a} asked twice "
        "for quiet. {a} calmly asked {b} to turn it down a third time.",
        "Is {a} overreacting?",
        False,
    ),
]


def social_judgment(rng: random.Random) -> Item:
    """A subjective judgment of someone's behaviour (rude? overreacting?), settled by common
    sense: the paper's social-judgment kind (r/AIO, AdvisorQA), generated."""
    scenario, question, yes = rng.choice(JUDGMENT_SCENARIOS)
    a, b = rng.sample(NAMES, 2)
    names = {"a": a, "b": b}
    return {
        "question": f"{scenario.format(**names)} {question.format(**names)}",
        "true_answer": "Yes." if yes else "No.",
        "false_answer": "No." if yes else "Yes.",
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
    "social_judgment": ("social", social_judgment),
}

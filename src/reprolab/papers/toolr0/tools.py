# ruff: noqa: E501 - each tool's decorator is one row of the registry table, kept on one line.
"""The tool registry: deterministic, executable Python tools with JSON schemas, in 10 domains.

Each tool is a plain function of flat scalar arguments (the paper's flat argument format) with a
core `ToolSpec` (its JSON schema), a question template for the held-out test set, and argument
samplers. Standard library and `reprolab.tools` only: the sandbox worker imports this module, and
nothing here touches the network, the clock or the file system, so a call's result depends on its
arguments alone. The tools are stateless: `reprolab.tools.ToolEnv(..., state=None)` runs them.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from reprolab.tools import ToolSpec

Sampler = Callable[[random.Random], object]


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    domain: str
    template: str
    samplers: dict[str, Sampler] = field(repr=False)
    func: Callable = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def parameters(self) -> dict[str, dict]:
        return self.spec.properties

    @property
    def required(self) -> list[str]:
        return list(self.spec.required)

    def schema(self) -> dict:
        """The JSON schema shown to the models (the paper's flat tool format, not the chat
        template's `ToolSpec.schema()`)."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": {p: dict(spec) for p, spec in self.parameters.items()},
            "required": self.required,
        }

    def sample_arguments(self, rng: random.Random) -> dict:
        return {p: self.samplers[p](rng) for p in self.parameters}


TOOLS: dict[str, Tool] = {}


def _ints(lo: int, hi: int) -> Sampler:
    return lambda rng: rng.randint(lo, hi)


def _choice(values: list) -> Sampler:
    return lambda rng: rng.choice(values)


def _date(lo_year: int = 1990, hi_year: int = 2030) -> Sampler:
    def sample(rng: random.Random) -> str:
        start = dt.date(lo_year, 1, 1).toordinal()
        return dt.date.fromordinal(
            rng.randint(start, dt.date(hi_year, 12, 31).toordinal())
        ).isoformat()

    return sample


def tool(domain: str, description: str, template: str, **params: tuple[str, str, Sampler]):
    """Register a function as a tool: params name -> (JSON type, description, sampler)."""

    def register(func: Callable) -> Callable:
        TOOLS[func.__name__] = Tool(
            spec=ToolSpec(
                name=func.__name__,
                description=description,
                properties={p: {"type": t, "description": d} for p, (t, d, _) in params.items()},
                required=tuple(params),
            ),
            domain=domain,
            template=template,
            samplers={p: s for p, (_, _, s) in params.items()},
            func=func,
        )
        return func

    return register


def _number(x: float) -> int | float:
    """Integers stay integers; other results are rounded to 4 decimals (deterministic text)."""
    if isinstance(x, bool):
        raise TypeError("expected a number, got a boolean")
    if isinstance(x, int) or float(x).is_integer():
        return int(x)
    return round(float(x), 4)


def _check_size(*values: float, limit: float = 1e12) -> None:
    for v in values:
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise TypeError(f"expected a number, got {type(v).__name__}")
        if abs(v) > limit:
            raise ValueError(f"value {v} is out of range (|x| <= {limit:g})")


# -- arithmetic ---------------------------------------------------------------------------------
N = "number"
S = "string"
I = "integer"  # noqa: E741 - a JSON type name


@tool("arithmetic", "Add two numbers.", "What is {a} plus {b}?",
      a=(N, "first number", _ints(0, 500)), b=(N, "second number", _ints(0, 500)))  # fmt: skip
def add(a: float, b: float) -> float:
    _check_size(a, b)
    return _number(a + b)


@tool("arithmetic", "Subtract b from a.", "What is {a} minus {b}?",
      a=(N, "number to subtract from", _ints(100, 900)), b=(N, "number to subtract", _ints(0, 99)))  # fmt: skip
def subtract(a: float, b: float) -> float:
    _check_size(a, b)
    return _number(a - b)


@tool("arithmetic", "Multiply two numbers.", "What is {a} times {b}?",
      a=(N, "first factor", _ints(2, 40)), b=(N, "second factor", _ints(2, 40)))  # fmt: skip
def multiply(a: float, b: float) -> float:
    _check_size(a, b)
    return _number(a * b)


@tool("arithmetic", "Divide a by b.", "What is {a} divided by {b}?",
      a=(N, "dividend", _ints(10, 1000)), b=(N, "divisor", _ints(2, 20)))  # fmt: skip
def divide(a: float, b: float) -> float:
    _check_size(a, b)
    if b == 0:
        raise ValueError("division by zero")
    return _number(a / b)


@tool("arithmetic", "The remainder of a divided by b.", "What is the remainder of {a} divided by {b}?",
      a=(I, "dividend", _ints(10, 1000)), b=(I, "divisor", _ints(2, 20)))  # fmt: skip
def modulo(a: int, b: int) -> int:
    _check_size(a, b)
    if b == 0:
        raise ValueError("modulo by zero")
    return int(a) % int(b)


# -- number theory --------------------------------------------------------------------------------
@tool("number_theory", "Greatest common divisor of two integers.", "What is the greatest common divisor of {a} and {b}?",
      a=(I, "first integer", _ints(2, 300)), b=(I, "second integer", _ints(2, 300)))  # fmt: skip
def gcd(a: int, b: int) -> int:
    _check_size(a, b)
    return math.gcd(int(a), int(b))


@tool("number_theory", "Least common multiple of two integers.", "What is the least common multiple of {a} and {b}?",
      a=(I, "first integer", _ints(2, 60)), b=(I, "second integer", _ints(2, 60)))  # fmt: skip
def lcm(a: int, b: int) -> int:
    _check_size(a, b, limit=1e6)
    return math.lcm(int(a), int(b))


@tool("number_theory", "Whether an integer is prime.", "Is {n} a prime number?",
      n=(I, "the integer to test", _ints(2, 500)))  # fmt: skip
def is_prime(n: int) -> bool:
    _check_size(n, limit=1e12)
    n = int(n)
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))


@tool("number_theory", "The factorial n! of a small integer.", "What is the factorial of {n}?",
      n=(I, "a non-negative integer up to 20", _ints(2, 12)))  # fmt: skip
def factorial(n: int) -> int:
    if not 0 <= int(n) <= 20:
        raise ValueError("n must be between 0 and 20")
    return math.factorial(int(n))


@tool("number_theory", "The n-th Fibonacci number (F1 = F2 = 1).", "What is Fibonacci number {n}?",
      n=(I, "position in the sequence, 1 to 90", _ints(3, 40)))  # fmt: skip
def fibonacci(n: int) -> int:
    if not 1 <= int(n) <= 90:
        raise ValueError("n must be between 1 and 90")
    a, b = 1, 1
    for _ in range(int(n) - 1):
        a, b = b, a + b
    return a


@tool("number_theory", "Sum of the decimal digits of an integer.", "What is the digit sum of {n}?",
      n=(I, "a non-negative integer", _ints(10, 99999)))  # fmt: skip
def digit_sum(n: int) -> int:
    _check_size(n)
    return sum(int(c) for c in str(abs(int(n))))


# -- text ---------------------------------------------------------------------------------------
_WORDS = ["apple", "river", "planet", "garden", "window", "silver", "rocket", "pencil", "forest",
          "castle", "level", "radar", "kayak", "orange", "monday", "banana"]  # fmt: skip


def _text(max_len: int = 10_000) -> Callable[[str], str]:
    def check(s: str) -> str:
        if not isinstance(s, str):
            raise TypeError(f"expected a string, got {type(s).__name__}")
        if len(s) > max_len:
            raise ValueError(f"text longer than {max_len} characters")
        return s

    return check


@tool("text", "Reverse the characters of a text.", "What is {text} spelled backwards?",
      text=(S, "the text to reverse", _choice(_WORDS)))  # fmt: skip
def reverse_text(text: str) -> str:
    return _text()(text)[::-1]


@tool("text", "Count the vowels (a, e, i, o, u) in a text.", "How many vowels are in the word {text}?",
      text=(S, "the text", _choice(_WORDS)))  # fmt: skip
def count_vowels(text: str) -> int:
    return sum(c in "aeiou" for c in _text()(text).lower())


@tool("text", "Convert a text to upper case.", "Write {text} in capital letters.",
      text=(S, "the text", _choice(_WORDS)))  # fmt: skip
def uppercase(text: str) -> str:
    return _text()(text).upper()


@tool("text", "Whether a word reads the same backwards.", "Is {text} a palindrome?",
      text=(S, "the word", _choice(_WORDS)))  # fmt: skip
def is_palindrome(text: str) -> bool:
    clean = "".join(c for c in _text()(text).lower() if c.isalnum())
    return clean == clean[::-1]


@tool("text", "Number of characters in a text.", "How many letters does the word {text} have?",
      text=(S, "the text", _choice(_WORDS)))  # fmt: skip
def text_length(text: str) -> int:
    return len(_text()(text))


# -- units --------------------------------------------------------------------------------------
@tool("units", "Convert degrees Celsius to degrees Fahrenheit.", "What is {celsius} degrees Celsius in Fahrenheit?",
      celsius=(N, "temperature in Celsius", _ints(-30, 100)))  # fmt: skip
def celsius_to_fahrenheit(celsius: float) -> float:
    _check_size(celsius)
    return _number(celsius * 9 / 5 + 32)


@tool("units", "Convert kilometres to miles.", "How many miles are {km} kilometers?",
      km=(N, "distance in kilometres", _ints(1, 500)))  # fmt: skip
def km_to_miles(km: float) -> float:
    _check_size(km)
    return _number(km * 0.621371)


@tool("units", "Convert kilograms to pounds.", "How many pounds are {kg} kilograms?",
      kg=(N, "mass in kilograms", _ints(1, 200)))  # fmt: skip
def kg_to_pounds(kg: float) -> float:
    _check_size(kg)
    return _number(kg * 2.20462)


@tool("units", "Convert hours to minutes.", "How many minutes are in {hours} hours?",
      hours=(N, "duration in hours", _ints(1, 72)))  # fmt: skip
def hours_to_minutes(hours: float) -> float:
    _check_size(hours)
    return _number(hours * 60)


@tool("units", "Convert litres to millilitres.", "How many milliliters are {liters} liters?",
      liters=(N, "volume in litres", _ints(1, 50)))  # fmt: skip
def liters_to_milliliters(liters: float) -> float:
    _check_size(liters)
    return _number(liters * 1000)


# -- dates --------------------------------------------------------------------------------------
def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"date '{value}': expected YYYY-MM-DD") from None


@tool("dates", "The weekday of a date (YYYY-MM-DD).", "What day of the week was {date}?",
      date=(S, "date as YYYY-MM-DD", _date()))  # fmt: skip
def day_of_week(date: str) -> str:
    return _parse_date(date).strftime("%A")


@tool("dates", "Days from one date to another (YYYY-MM-DD).", "How many days are there from {start} to {end}?",
      start=(S, "first date, YYYY-MM-DD", _date(2000, 2010)), end=(S, "second date, YYYY-MM-DD", _date(2011, 2025)))  # fmt: skip
def days_between(start: str, end: str) -> int:
    return (_parse_date(end) - _parse_date(start)).days


@tool("dates", "The date a number of days after a date.", "What date is {days} days after {date}?",
      date=(S, "start date, YYYY-MM-DD", _date()), days=(I, "number of days", _ints(1, 400)))  # fmt: skip
def add_days(date: str, days: int) -> str:
    if abs(int(days)) > 100_000:
        raise ValueError("days out of range")
    return (_parse_date(date) + dt.timedelta(days=int(days))).isoformat()


@tool("dates", "Whether a year is a leap year.", "Is {year} a leap year?",
      year=(I, "the year", _ints(1800, 2400)))  # fmt: skip
def is_leap_year(year: int) -> bool:
    year = int(year)
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# -- finance ------------------------------------------------------------------------------------
@tool("finance", "Simple interest on a principal at a yearly percentage rate.", "What is the simple interest on {principal} dollars at {rate} percent for {years} years?",
      principal=(N, "amount lent", _ints(100, 5000)), rate=(N, "yearly rate in percent", _ints(1, 12)),
      years=(N, "number of years", _ints(1, 10)))  # fmt: skip
def simple_interest(principal: float, rate: float, years: float) -> float:
    _check_size(principal, rate, years)
    return _number(principal * rate / 100 * years)


@tool("finance", "A percentage of a value.", "What is {percent} percent of {value}?",
      percent=(N, "the percentage", _ints(1, 99)), value=(N, "the value", _ints(10, 2000)))  # fmt: skip
def percent_of(percent: float, value: float) -> float:
    _check_size(percent, value)
    return _number(percent / 100 * value)


@tool("finance", "The tip on a bill at a percentage.", "How much is a {percent} percent tip on a bill of {bill} dollars?",
      bill=(N, "bill amount", _ints(10, 300)), percent=(N, "tip percentage", _choice([10, 15, 18, 20, 25])))  # fmt: skip
def tip_amount(bill: float, percent: float) -> float:
    _check_size(bill, percent)
    return _number(bill * percent / 100)


@tool("finance", "The price after a percentage discount.", "What does an item of {price} dollars cost after a {percent} percent discount?",
      price=(N, "original price", _ints(10, 900)), percent=(N, "discount percentage", _ints(5, 70)))  # fmt: skip
def discount_price(price: float, percent: float) -> float:
    _check_size(price, percent)
    return _number(price * (1 - percent / 100))


# -- geometry -----------------------------------------------------------------------------------
@tool("geometry", "Area of a circle from its radius.", "What is the area of a circle with radius {radius}?",
      radius=(N, "the radius", _ints(1, 50)))  # fmt: skip
def circle_area(radius: float) -> float:
    _check_size(radius)
    return _number(math.pi * radius**2)


@tool("geometry", "Area of a rectangle.", "What is the area of a rectangle {width} wide and {height} high?",
      width=(N, "the width", _ints(1, 80)), height=(N, "the height", _ints(1, 80)))  # fmt: skip
def rectangle_area(width: float, height: float) -> float:
    _check_size(width, height)
    return _number(width * height)


@tool("geometry", "Hypotenuse of a right triangle from its two legs.", "What is the hypotenuse of a right triangle with legs {a} and {b}?",
      a=(N, "first leg", _ints(1, 40)), b=(N, "second leg", _ints(1, 40)))  # fmt: skip
def hypotenuse(a: float, b: float) -> float:
    _check_size(a, b)
    return _number(math.hypot(a, b))


@tool("geometry", "Volume of a cube from its side length.", "What is the volume of a cube with side {side}?",
      side=(N, "the side length", _ints(1, 30)))  # fmt: skip
def cube_volume(side: float) -> float:
    _check_size(side, limit=1e4)
    return _number(side**3)


# -- encoding -----------------------------------------------------------------------------------
@tool("encoding", "Binary representation of a non-negative integer.", "What is {n} in binary?",
      n=(I, "the integer", _ints(2, 1000)))  # fmt: skip
def to_binary(n: int) -> str:
    _check_size(n)
    return format(abs(int(n)), "b")


@tool("encoding", "Hexadecimal representation of a non-negative integer.", "What is {n} in hexadecimal?",
      n=(I, "the integer", _ints(10, 5000)))  # fmt: skip
def to_hex(n: int) -> str:
    _check_size(n)
    return format(abs(int(n)), "x")


@tool("encoding", "Shift each letter of a text by a number of places (Caesar cipher).", "Encode {text} with a Caesar shift of {shift}.",
      text=(S, "the text", _choice(_WORDS)), shift=(I, "places to shift", _ints(1, 25)))  # fmt: skip
def caesar_shift(text: str, shift: int) -> str:
    out = []
    for c in _text()(text):
        if c.isalpha():
            base = ord("a") if c.islower() else ord("A")
            out.append(chr((ord(c) - base + int(shift)) % 26 + base))
        else:
            out.append(c)
    return "".join(out)


@tool("encoding", "Integer value of a binary string.", "What is the binary number {bits} in decimal?",
      bits=(S, "a string of 0s and 1s", lambda rng: format(rng.randint(2, 255), "b")))  # fmt: skip
def from_binary(bits: str) -> int:
    text = _text(64)(bits)
    if not text or set(text) - {"0", "1"}:
        raise ValueError(f"'{bits}' is not a binary number")
    return int(text, 2)


# -- geography ----------------------------------------------------------------------------------
_CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Kenya": "Nairobi", "Brazil": "Brasilia",
             "Canada": "Ottawa", "Egypt": "Cairo", "Norway": "Oslo", "Peru": "Lima",
             "India": "New Delhi", "Spain": "Madrid", "Chile": "Santiago", "Ghana": "Accra"}  # fmt: skip
_CONTINENTS = {"France": "Europe", "Japan": "Asia", "Kenya": "Africa", "Brazil": "South America",
               "Canada": "North America", "Egypt": "Africa", "Norway": "Europe",
               "Peru": "South America", "India": "Asia", "Spain": "Europe",
               "Chile": "South America", "Ghana": "Africa"}  # fmt: skip


def _country(name: str, table: dict) -> str:
    for key, value in table.items():
        if key.lower() == str(name).strip().lower():
            return value
    raise ValueError(f"unknown country '{name}'; known: {', '.join(sorted(table))}")


@tool("geography", "The capital city of a country.", "What is the capital of {country}?",
      country=(S, "the country", _choice(sorted(_CAPITALS))))  # fmt: skip
def country_capital(country: str) -> str:
    return _country(country, _CAPITALS)


@tool("geography", "The continent a country lies on.", "On which continent is {country}?",
      country=(S, "the country", _choice(sorted(_CONTINENTS))))  # fmt: skip
def country_continent(country: str) -> str:
    return _country(country, _CONTINENTS)


# -- chemistry ----------------------------------------------------------------------------------
_ELEMENTS = {"hydrogen": ("H", 1), "helium": ("He", 2), "carbon": ("C", 6), "nitrogen": ("N", 7),
             "oxygen": ("O", 8), "sodium": ("Na", 11), "iron": ("Fe", 26), "copper": ("Cu", 29),
             "silver": ("Ag", 47), "gold": ("Au", 79), "neon": ("Ne", 10), "zinc": ("Zn", 30)}  # fmt: skip


def _element(name: str) -> tuple[str, int]:
    key = str(name).strip().lower()
    if key not in _ELEMENTS:
        raise ValueError(f"unknown element '{name}'")
    return _ELEMENTS[key]


@tool("chemistry", "The chemical symbol of an element.", "What is the chemical symbol of {element}?",
      element=(S, "element name", _choice(sorted(_ELEMENTS))))  # fmt: skip
def element_symbol(element: str) -> str:
    return _element(element)[0]


@tool("chemistry", "The atomic number of an element.", "What is the atomic number of {element}?",
      element=(S, "element name", _choice(sorted(_ELEMENTS))))  # fmt: skip
def atomic_number(element: str) -> int:
    return _element(element)[1]


@tool("chemistry", "Molar mass in grams of a number of moles of water.", "What is the mass in grams of {moles} moles of water?",
      moles=(N, "amount in moles", _ints(1, 20)))  # fmt: skip
def water_mass(moles: float) -> float:
    _check_size(moles)
    return _number(moles * 18.015)


# Only these names can be called through the sandbox (reprolab.sandbox_worker checks it).
SANDBOX_EXPORTS = frozenset(TOOLS)
SPECS = [t.spec for t in TOOLS.values()]
DOMAINS = sorted({t.domain for t in TOOLS.values()})

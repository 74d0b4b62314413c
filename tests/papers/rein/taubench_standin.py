"""Stand-in files of tau-bench's shape (the project's own words and ids, not tau-bench's data):
the JSON data of both domains, task lists of `Task(...)` calls and a user simulator class, laid
out as <base>/<repo>/<commit>/<path> so that the readers take them through a file:// base."""

from __future__ import annotations

import json
from pathlib import Path

REPO = "stand-in/tau-bench"
COMMIT = "0" * 40

RETAIL_USERS = {
    "ana_ruiz_1": {
        "name": {"first_name": "Ana", "last_name": "Ruiz"},
        "email": "ana@example.com",
        "orders": ["#W1", "#W2"],
    },
    "ben_kim_2": {
        "name": {"first_name": "Ben", "last_name": "Kim"},
        "email": "ben@example.com",
        "orders": ["#W3"],
    },
}
_ITEM = {"name": "Lamp", "product_id": "p1", "item_id": "i1", "price": 10.0, "options": {}}
RETAIL_ORDERS = {
    "#W1": {"order_id": "#W1", "user_id": "ana_ruiz_1", "status": "pending", "items": [_ITEM]},
    "#W2": {"order_id": "#W2", "user_id": "ana_ruiz_1", "status": "delivered",
            "items": [{**_ITEM, "name": "Mug", "product_id": "p2", "item_id": "i2"}]},
    "#W3": {"order_id": "#W3", "user_id": "ben_kim_2", "status": "delivered", "items": [_ITEM]},
}  # fmt: skip
PRODUCTS = {"p1": {"name": "Lamp", "product_id": "p1", "variants": {}},
            "p2": {"name": "Mug", "product_id": "p2", "variants": {}}}  # fmt: skip
RETAIL_TASKS = """from tau_bench.types import Task, Action

TASKS_TEST = [
    Task(
        annotator="0",
        user_id="ana_ruiz_1",
        instruction="You are Ana Ruiz. You want to cancel your pending lamp order.",
        actions=[
            Action(name="get_order_details", kwargs={"order_id": "#W1"}),
            Action(name="cancel_pending_order",
                   kwargs={"order_id": "#W1", "reason": "no longer needed"}),
        ],
        outputs=[],
    ),
    Task(
        annotator="0",
        user_id="ben_kim_2",
        instruction="You are Ben Kim. You want to exchange your lamp.",
        actions=[Action(name="exchange_delivered_order_items", kwargs={"order_id": "#W3"})],
        outputs=[],
    ),
    Task(
        annotator="0",
        user_id="ana_ruiz_1",
        instruction="You are Ana Ruiz. You want to return your mug.",
        actions=[
            Action(name="return_delivered_order_items",
                   kwargs={"order_id": "#W2", "item_ids": ["i2"], "payment_method_id": "gift"}),
        ],
        outputs=[],
    ),
    Task(
        annotator="0",
        user_id="ana_ruiz_1",
        instruction="You are Ana Ruiz. Cancel one order and return the other.",
        actions=[
            Action(name="cancel_pending_order", kwargs={"order_id": "#W1", "reason": "x"}),
            Action(name="return_delivered_order_items", kwargs={"order_id": "#W2"}),
        ],
        outputs=[],
    ),
    Task(
        annotator="0",
        user_id="ben_kim_2",
        instruction="You are Ben Kim. You want to cancel order #W3.",
        actions=[Action(name="cancel_pending_order", kwargs={"order_id": "#W3", "reason": "x"})],
        outputs=[],
    ),
]
"""
AIRLINE_USERS = {
    "cy_lo_3": {"name": {"first_name": "Cy", "last_name": "Lo"}, "reservations": ["AB12", "CD34"]},
}
_RES = {"origin": "SFO", "destination": "JFK", "flight_type": "one_way", "cabin": "economy",
        "flights": [{"origin": "SFO", "destination": "JFK", "flight_number": "F001",
                     "date": "2024-05-20", "price": 100}],
        "total_baggages": 1, "nonfree_baggages": 0, "insurance": "no"}  # fmt: skip
RESERVATIONS = {
    "AB12": {"reservation_id": "AB12", "user_id": "cy_lo_3", **_RES},
    "CD34": {"reservation_id": "CD34", "user_id": "cy_lo_3", **_RES, "origin": "JFK",
             "destination": "SFO", "status": "cancelled"},
}  # fmt: skip
FLIGHTS = {"F001": {"flight_number": "F001", "origin": "SFO", "destination": "JFK", "dates": {}}}
AIRLINE_TASKS = """from tau_bench.types import Action, Task

TASKS = [
    Task(
        annotator="0",
        user_id="cy_lo_3",
        instruction="Your user id is cy_lo_3. You want one more checked bag on AB12.",
        actions=[
            Action(name="update_reservation_baggages",
                   kwargs={"reservation_id": "AB12", "total_baggages": 2, "nonfree_baggages": 0,
                           "payment_id": "card"}),
        ],
        outputs=[],
    ),
    Task(
        annotator="0",
        user_id="cy_lo_3",
        instruction="Your user id is cy_lo_3. You want two more bags on AB12.",
        actions=[
            Action(name="update_reservation_baggages",
                   kwargs={"reservation_id": "AB12", "total_baggages": 3}),
        ],
        outputs=[],
    ),
    Task(
        annotator="0",
        user_id="cy_lo_3",
        instruction="Your user id is cy_lo_3. You want to cancel AB12.",
        actions=[Action(name="cancel_reservation", kwargs={"reservation_id": "AB12"})],
        outputs=[],
    ),
]
"""
USER_PY = '''from typing import Optional


class LLMUserSimulationEnv(BaseUserSimulationEnv):
    def build_system_prompt(self, instruction: Optional[str]) -> str:
        shown = ("\\n\\nGoal: " + instruction + "\\n") if instruction is not None else ""
        return f"""Stand-in simulated customer.{shown}
Rules:
- One line a message.
- When the goal is met, write '###STOP###' alone."""

    def reset(self, instruction: Optional[str] = None) -> str:
        self.messages = [
            {"role": "system", "content": self.build_system_prompt(instruction=instruction)},
            {"role": "user", "content": "Hello, what can I do for you?"},
        ]
        return self.generate_next_message(self.messages)
'''

FILES = {
    "envs/retail/users.json": json.dumps(RETAIL_USERS),
    "envs/retail/orders.json": json.dumps(RETAIL_ORDERS),
    "envs/retail/products.json": json.dumps(PRODUCTS),
    "envs/retail/tasks_test.py": RETAIL_TASKS,
    "envs/airline/users.json": json.dumps(AIRLINE_USERS),
    "envs/airline/reservations.json": json.dumps(RESERVATIONS),
    "envs/airline/flights.json": json.dumps(FLIGHTS),
    "envs/airline/tasks_test.py": AIRLINE_TASKS,
    "envs/user.py": USER_PY,
}


def write(root: Path) -> str:
    """The stand-in files under root; the file:// base to read them through."""
    for path, text in FILES.items():
        target = root / REPO / COMMIT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root.as_uri()


def tau_cfg(full_data: dict, base: str) -> dict:
    """The full config's tau_bench block pointed at the stand-ins."""
    files = {
        "retail": {"users": "envs/retail/users.json", "orders": "envs/retail/orders.json",
                   "products": "envs/retail/products.json", "tasks": "envs/retail/tasks_test.py",
                   "tasks_name": "TASKS_TEST"},
        "airline": {"users": "envs/airline/users.json",
                    "reservations": "envs/airline/reservations.json",
                    "flights": "envs/airline/flights.json", "tasks": "envs/airline/tasks_test.py",
                    "tasks_name": "TASKS"},
    }  # fmt: skip
    return {**full_data["tau_bench"], "repo": REPO, "commit": COMMIT, "base": base, "files": files}


def user_cfg(full_user: dict, base: str) -> dict:
    """The full config's user block pointed at the stand-in simulator."""
    prompt = {**full_user["prompt"], "repo": REPO, "commit": COMMIT, "base": base,
              "path": "envs/user.py"}  # fmt: skip
    return {**full_user, "prompt": prompt}

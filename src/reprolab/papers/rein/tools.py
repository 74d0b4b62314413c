"""The two domains' tools and the two recovery tools, run in the core sandbox.

Every tool is `tool(state, **arguments) -> {"result", "state"}` over one JSON database (users,
orders or reservations); the host's `ToolEnv` keeps the state, so a call's effect is its state
diff. Standard library only: the sandbox worker imports this module.
"""

from __future__ import annotations

import copy

from reprolab.tools import ToolSpec

RECOVERY = ("internal_error_report", "transfer_to_human_agents")
READ_ONLY = ("get_user_details",) + RECOVERY


def _fail(state: dict, message: str) -> dict:
    return {"result": {"error": message}, "state": state}


def get_user_details(state: dict, user_id: str) -> dict:
    user = state["users"].get(user_id)
    if user is None:
        return _fail(state, f"unknown user {user_id}")
    kind = "orders" if "orders" in state else "reservations"
    items = {k: state[kind][k] for k in user[kind]}
    return {"result": {"user_id": user_id, "name": user["name"], kind: items}, "state": state}


def cancel_pending_order(state: dict, order_id: str) -> dict:
    order = state["orders"].get(order_id)
    if order is None or order["status"] != "pending":
        return _fail(state, f"order {order_id} is not a pending order")
    new = copy.deepcopy(state)
    new["orders"][order_id]["status"] = "cancelled"
    return {"result": {"order_id": order_id, "status": "cancelled"}, "state": new}


def return_delivered_order(state: dict, order_id: str) -> dict:
    order = state["orders"].get(order_id)
    if order is None or order["status"] != "delivered":
        return _fail(state, f"order {order_id} is not a delivered order")
    new = copy.deepcopy(state)
    new["orders"][order_id]["status"] = "return requested"
    return {"result": {"order_id": order_id, "status": "return requested"}, "state": new}


def cancel_reservation(state: dict, reservation_id: str) -> dict:
    booking = state["reservations"].get(reservation_id)
    if booking is None or booking["status"] != "booked":
        return _fail(state, f"reservation {reservation_id} is not booked")
    new = copy.deepcopy(state)
    new["reservations"][reservation_id]["status"] = "cancelled"
    return {"result": {"reservation_id": reservation_id, "status": "cancelled"}, "state": new}


def add_checked_bag(state: dict, reservation_id: str) -> dict:
    booking = state["reservations"].get(reservation_id)
    if booking is None or booking["status"] != "booked":
        return _fail(state, f"reservation {reservation_id} is not booked")
    new = copy.deepcopy(state)
    new["reservations"][reservation_id]["bags"] += 1
    return {"result": {"reservation_id": reservation_id, "bags": booking["bags"] + 1}, "state": new}


def internal_error_report(state: dict) -> dict:
    """Recovery for ambiguous requests: logged by the environment, no database change."""
    return {"result": {"reported": True}, "state": state}


def transfer_to_human_agents(state: dict) -> dict:
    """Recovery for unsupported requests: ends the session, no database change."""
    return {"result": {"transferred": True}, "state": state}


_USER = ToolSpec(
    "get_user_details",
    "Look up a user's profile and their orders or reservations.",
    {"user_id": {"type": "string"}},
    ("user_id",),
)
_ORDER = {"order_id": {"type": "string", "description": "an order id such as W2001"}}
_RES = {"reservation_id": {"type": "string", "description": "a reservation id such as R301"}}
RECOVERY_SPECS = [
    ToolSpec(
        "internal_error_report",
        "Report that the user's request is ambiguous and cannot be executed as stated.",
    ),
    ToolSpec(
        "transfer_to_human_agents",
        "Transfer the user to a human agent when the request is outside what the tools support.",
    ),
]
DOMAIN_SPECS = {
    "retail": [
        _USER,
        ToolSpec(
            "cancel_pending_order",
            "Cancel a pending order; the refund goes to the original payment method.",
            _ORDER,
            ("order_id",),
        ),
        ToolSpec(
            "return_delivered_order",
            "Request a return of a delivered order; the refund goes to the original payment "
            "method.",
            _ORDER,
            ("order_id",),
        ),
    ],
    "airline": [
        _USER,
        ToolSpec(
            "cancel_reservation",
            "Cancel a booked reservation; the refund goes to the original payment method.",
            _RES,
            ("reservation_id",),
        ),
        ToolSpec(
            "add_checked_bag",
            "Add one checked bag to a booked reservation.",
            _RES,
            ("reservation_id",),
        ),
    ],
}


def specs(domain: str, recovery: bool) -> list[ToolSpec]:
    """The tool list L of a domain, with or without the recovery tools."""
    return DOMAIN_SPECS[domain] + (RECOVERY_SPECS if recovery else [])

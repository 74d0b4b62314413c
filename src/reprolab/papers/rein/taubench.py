"""tau-bench's retail and airline data and base tasks mapped onto rein's environment (full scale).

rein's domain tools stay rein's (tools.py); a tau-bench task becomes a base task when its one
database-changing action is a tool rein maps (`tools` of the config: cancel_pending_order,
return_delivered_order_items as a whole-order return, cancel_reservation, and
update_reservation_baggages when it adds exactly one bag); every other task is left out and
counted. The database each domain gets is the slice of the kept tasks' users (their profile
and their orders or reservations, in rein's shape), so that an instance carries no megabytes;
the products (flights) every kept order (reservation) names must exist in tau-bench's files.
"""

from __future__ import annotations

import copy
from pathlib import Path

from reprolab.papers.rein import tools, upstream
from reprolab.papers.rein.upstream import UpstreamError

KIND = {"retail": "orders", "airline": "reservations"}
CATALOGUE = {"retail": "products", "airline": "flights"}


def _name(user: dict) -> str:
    name = user["name"]
    return f"{name['first_name']} {name['last_name']}" if isinstance(name, dict) else str(name)


def project(domain: str, uid: str, users: dict, records: dict, catalogue: dict) -> dict:
    """One user's slice of a tau-bench database in rein's shape: {users: {uid: {name, orders}},
    orders: {id: {status, items}}} or reservations {id: {status, route, bags}}."""
    kind = KIND[domain]
    user = users[uid]
    out: dict = {"users": {uid: {"name": _name(user), kind: list(user[kind])}}, kind: {}}
    for rid in user[kind]:
        record = records[rid]
        if domain == "retail":
            missing = [i["product_id"] for i in record["items"] if i["product_id"] not in catalogue]
            row = {"status": record["status"], "items": [i["name"] for i in record["items"]]}
        else:
            missing = [f["flight_number"] for f in record["flights"]
                       if f["flight_number"] not in catalogue]  # fmt: skip
            row = {
                # tau-bench marks only cancelled reservations; every other one is booked.
                "status": record.get("status") or "booked",
                "route": f"{record['origin']}-{record['destination']}",
                "bags": int(record["total_baggages"]),
            }
        if missing:
            raise UpstreamError(f"{domain} {rid}: names {missing}, not in {CATALOGUE[domain]}")
        out[kind][rid] = row
    return out


def base_task(domain: str, index: int, task: dict, slice_: dict, cfg: dict) -> dict | str:
    """rein's base task of one tau-bench task, or why it is left out."""
    writes = [a for a in task["actions"] if a["name"] in cfg["writes"][domain]]
    if len(writes) != 1:
        return f"{len(writes)} database-changing actions"
    action = writes[0]
    mapped = cfg["tools"].get(action["name"])
    if mapped is None:
        return f"unmapped tool {action['name']}"
    key = "order_id" if domain == "retail" else "reservation_id"
    obj = action["kwargs"].get(key)
    kind = KIND[domain]
    if obj not in slice_[kind]:
        return f"{key} {obj} not the user's"
    if mapped["tool"] == "add_checked_bag":
        added = action["kwargs"].get("total_baggages", 0) - slice_[kind][obj]["bags"]
        if added != 1:
            return f"baggage change of {added}, not one bag"
    fn = getattr(tools, mapped["tool"])
    outcome = fn(copy.deepcopy(slice_), **{key: obj})["result"]
    if "error" in outcome:
        return f"rein's {mapped['tool']} fails: {outcome['error']}"
    return {
        "id": f"{domain}.{cfg['split']}{index}",
        "user": task["user_id"],
        "tool": mapped["tool"],
        "object": obj,
        "verb": mapped["verb"],
        "instruction": task["instruction"],
    }


def domain(name: str, cfg: dict, cache: Path | None = None) -> dict:
    """One domain read from the pinned commit: {database, tasks, left_out}."""
    files = cfg["files"][name]
    users = upstream.read_json(cfg, files["users"], cache)
    records = upstream.read_json(cfg, files[KIND[name]], cache)
    catalogue = upstream.read_json(cfg, files[CATALOGUE[name]], cache)
    listed = upstream.read_text(cfg, files["tasks"], cache)
    where = upstream.label(cfg, files["tasks"])
    database: dict = {"users": {}, KIND[name]: {}}
    kept, left_out = [], {}
    for index, task in enumerate(upstream.tasks(listed, files["tasks_name"], where)):
        if task["user_id"] not in users:
            left_out[str(index)] = f"unknown user {task['user_id']}"
            continue
        slice_ = project(name, task["user_id"], users, records, catalogue)
        made = base_task(name, index, task, slice_, cfg)
        if isinstance(made, str):
            left_out[str(index)] = made
            continue
        for part in ("users", KIND[name]):
            database[part].update(slice_[part])
        kept.append(made)
    return {"database": database, "tasks": kept, "left_out": left_out}


def materials(cfg: dict, domains: list[str], cache: Path | None = None) -> dict:
    """The configured domains in the shape of materials.yaml (without error templates: the LLM
    user writes the errors at full scale)."""
    return {name: domain(name, cfg, cache) for name in domains}

"""One harness setting's run: every method's episodes over every profile, in lockstep through
the core runner, with identical model requests answered once (drafts, reranker scores and
embeddings repeat across methods that share a profile and a task)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from reprolab.episodes import Runner, backend_handlers
from reprolab.papers.vars import harness as hz
from reprolab.papers.vars.agent import Projection
from reprolab.papers.vars.session import PHASES, Collab, methods
from reprolab.papers.vars.simulator import UserSim

log = logging.getLogger(__name__)


def memoised(handler):
    """A handler that asks the backend only for payloads it has not answered before."""
    seen: dict[str, object] = {}

    def call(payloads, params):
        keys = [json.dumps([p, repr(params)], default=str) for p in payloads]
        missing = list(dict.fromkeys(k for k in keys if k not in seen))
        if missing:
            first = {k: p for k, p in zip(keys, payloads, strict=True)}
            for k, reply in zip(missing, handler([first[k] for k in missing], params), strict=True):
                seen[k] = reply
        return [seen[k] for k in keys]

    call.seen = seen
    return call


def fit_slots(profile: dict, lib: dict, slots: dict) -> dict:
    """The profile cut to what the slots can hold: in each domain at most `slots[domain]` rules
    that are retrieved (not global), kept in profile order; decoys of the dropped rules go too.
    Then a right retrieval makes a compliant first reply, and a wrong one provably does not."""
    from reprolab.papers.vars.agent import is_global

    used = dict.fromkeys(slots, 0)
    kept = []
    for rid in profile["rules"]:
        r = lib[rid]
        domains = [d for d in slots if r.applies(d)]
        if is_global(r.condition) or all(used[d] < slots[d] for d in domains):
            kept.append(rid)
            if not is_global(r.condition):
                for d in domains:
                    used[d] += 1
    groups = {lib[rid].group for rid in kept}
    decoys = [d for d in profile["decoys"] if lib[d["rule"]].group in groups]
    return {**profile, "rules": kept, "decoys": decoys}


def sim_config(cfg: dict, setting: str) -> dict:
    s = cfg["settings"][setting]
    a, h = cfg["agent"], cfg["harness"]
    return {
        **a,
        **h,
        "draft": {**a["draft"], "source": s["draft"]},
        "reranker": bool(s["reranker"]),
        "carry_enforced": s["carry_enforced"],
        "slots": s.get("slots", a["slots"]),
        "executor": s.get("executor", a["executor"]),
        "user": s.get("user", h["user"]),
    }


def run_setting(cfg, setting, profiles, tasks, projection_path, model, log_path, embedder):
    from reprolab.inference import get_backend

    s = cfg["settings"][setting]
    scfg = sim_config(cfg, setting)
    seed = cfg["suite"]["seed"]
    z = np.load(projection_path)
    projection = Projection(z["mean"], z["components"], z["explained"])
    lib = {r.id: r for r in hz.library()}
    tasks = [t for t in tasks if t["list"] == s["tasks"]]
    profiles = profiles[: s.get("profiles", len(profiles))]
    if s["fit_slots"]:
        profiles = [fit_slots(p, lib, scfg["slots"]) for p in profiles]
    scfg["decoys_of"] = {p["id"]: p["decoys"] for p in profiles} if s["decoys"] else {}
    user_prompt = None
    if scfg["user"] == "llm":
        from reprolab.papers.vars.upstream import constant

        up = cfg["harness"]["upstream"]
        user_prompt = constant(up["repo"], up["commit"], up["path"], up["name"])
    needs_model = s["draft"] == "model" or s["reranker"] or user_prompt is not None
    backend = (
        get_backend(cfg["agent"]["backend"], str(model), **cfg["agent"].get("backend_options", {}))
        if needs_model
        else None
    )
    handlers = backend_handlers(backend) if backend is not None else {}
    handlers = {k: memoised(v) for k, v in handlers.items()}
    handlers["embed"] = memoised(lambda texts, _: list(embedder.encode(list(texts))))
    from reprolab.sandbox import Sandbox

    with Sandbox() as sandbox:
        sim = UserSim(scfg, seed, sandbox, user_prompt)
        table = methods(cfg)
        episodes = [
            Collab(table[m], p, [lib[r] for r in p["rules"]], tasks, scfg, projection, sim, seed)
            for m in s["methods"]
            for p in profiles
        ]
        # each agent turn is len(PHASES) runner steps, plus one embed step a session
        steps = len(tasks) * (cfg["harness"]["max_turns"] * len(PHASES) + 2) + 2
        runner = Runner(handlers)
        runner.run(episodes, max_steps=steps, log_path=Path(log_path), name=f"vars/{setting}")
    unfinished = sum(not e.done for e in episodes)
    if unfinished:
        raise RuntimeError(f"{unfinished} episodes did not finish in {steps} steps")
    rows = []
    for e in episodes:
        for rec in e.sessions:
            turns = [t for t in e.turns if t["session"] == rec["session"]]
            rows.append(
                {
                    "setting": setting,
                    "method": e.method.name,
                    "profile": e.profile["id"],
                    **rec,
                    "rewards": [t["reward"] for t in turns],
                    "gates": [t["gate"] for t in turns],
                    "rules": e.profile["rules"],
                    "z_long": e.state.z_long.tolist() if rec["session"] == len(tasks) - 1 else None,
                }
            )
    calls = {k: len(v.seen) for k, v in handlers.items()}
    log.info("%s: distinct model requests %s", setting, calls)
    return rows, {f"requests.{k}": float(v) for k, v in calls.items()} | {
        "episodes": float(len(episodes)),
        "sessions": float(len(rows)),
    }

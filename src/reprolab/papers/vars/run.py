"""One harness setting's run: every method's episodes over every profile, in lockstep through
the core runner, with identical model requests answered once (drafts, reranker scores and
embeddings repeat across methods that share a profile and a task). A setting's profiles are
MiniCollab's (rules with checkers) or, at full scale, MultiSessionCollab's (free-text
preferences judged by the core judge)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from reprolab.episodes import Runner, backend_handlers
from reprolab.papers.vars import benchmark as bm
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
        "user": s.get("user", h["user"]),  # which simulator; it overrides agent.user, so:
        "user_sampling": a["user"],  # the LLM user's decoding
    }


def judge_handlers(backend, judge_cfg: dict, prompts: dict) -> tuple[dict, dict]:
    """The runner's handlers of the two judges, both the core judge on the backbone: the
    compliance of a reply with a free-text preference (this project's prompt), and, when the
    benchmark's accuracy prompt was read, the final draft against the gold solution; and the
    judges themselves (their failure reports)."""
    from functools import partial

    from reprolab.inference import SamplingParams
    from reprolab.judge import Judge

    c = judge_cfg["compliance"]
    comply = Judge(
        backend,
        c["labels"],
        c["scoring"],
        balance=c["balance"],
        params=SamplingParams(c["max_new_tokens"], 0.0),
    )
    render = partial(bm.compliance_chat, c["prompt"])
    handlers = {"judge_compliance": lambda items, _: comply.judge(items, render)}
    judges = {"compliance": comply}
    if "success" in prompts:
        a = judge_cfg["success"]
        success = Judge(
            backend,
            bm.ACCURACY_LABELS,
            "parsed",
            balance=False,  # the prompt fixes what 1 and 0 mean: there is no order to balance
            params=SamplingParams(a["max_new_tokens"], 0.0),
            parser=bm.parse_accuracy,
        )
        render_a = partial(bm.accuracy_chat, prompts["success"])
        handlers["judge_success"] = lambda items, _: success.judge(items, render_a)
        judges["success"] = success
    return handlers, judges


def run_setting(cfg, setting, profiles, tasks, projection_path, model, log_path, embedder):
    from reprolab.inference import get_backend

    s = cfg["settings"][setting]
    scfg = sim_config(cfg, setting)
    seed = cfg["suite"]["seed"]
    z = np.load(projection_path)
    projection = Projection(z["mean"], z["components"], z["explained"])
    lib = {r.id: r for r in hz.library()}
    tasks = [t for t in tasks if t["list"] == s["tasks"]]
    source = s.get("profiles_from", "minicollab")
    profiles = [p for p in profiles if p.get("profiles_from", "minicollab") == source]
    profiles = profiles[: s.get("profiles", len(profiles))]
    judged = source == bm.SOURCE  # free-text preferences: the compliance judge
    if judged and (s["fit_slots"] or s["decoys"]):
        raise ValueError(f"setting {setting}: fit_slots and decoys need MiniCollab's rules")
    if s["fit_slots"]:
        profiles = [fit_slots(p, lib, scfg["slots"]) for p in profiles]
    scfg["decoys_of"] = {p["id"]: p["decoys"] for p in profiles} if s["decoys"] else {}
    prompts = upstream_prompts(cfg, s, scfg, judged)
    needs_model = s["draft"] == "model" or s["reranker"] or bool(prompts) or judged
    backend = (
        get_backend(cfg["agent"]["backend"], str(model), **cfg["agent"].get("backend_options", {}))
        if needs_model
        else None
    )
    handlers = backend_handlers(backend) if backend is not None else {}
    judges = {}
    if judged or "success" in prompts:
        extra, judges = judge_handlers(backend, scfg["judge"], prompts)
        handlers.update(extra)
    handlers = {k: memoised(v) for k, v in handlers.items()}
    handlers["embed"] = memoised(lambda texts, _: list(embedder.encode(list(texts))))
    from reprolab.sandbox import Sandbox

    with Sandbox() as sandbox:
        sim = UserSim(scfg, seed, sandbox, prompts)
        table = methods(cfg)
        episodes = [
            Collab(table[m], p, rules_of(p, lib), tasks, scfg, projection, sim, seed)
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
    stats = {f"requests.{k}": float(v) for k, v in calls.items()} | {
        "episodes": float(len(episodes)),
        "sessions": float(len(rows)),
    }
    for name, judge in judges.items():
        stats |= judge.report().as_metrics(f"judge.{name}")
    return rows, stats


def rules_of(profile: dict, lib: dict) -> list:
    """A profile's preferences: MiniCollab rules, or the benchmark's free-text preferences."""
    if profile.get("profiles_from", "minicollab") == bm.SOURCE:
        return bm.preferences(profile)
    return [lib[r] for r in profile["rules"]]


def upstream_prompts(cfg: dict, s: dict, scfg: dict, judged: bool) -> dict[str, str]:
    """The benchmark's prompts this setting uses, read at the pinned commit (none at tiny and
    smoke, nor for the planted control): the LLM user's and the accuracy judge's under the LLM
    user, the note rewrite when a Reflection method rewrites its notes with the LLM."""
    up = cfg["harness"].get("upstream")
    r = cfg["agent"].get("reflection")
    reflect = r is not None and r["kind"] == "llm"
    reflect = reflect and any(cfg["methods"][m].get("reflection") for m in s["methods"])
    if up is None or not (scfg["user"] == "llm" or reflect or judged):
        return {}
    from reprolab.papers.vars import upstream

    wanted = {k: v for k, v in up["prompts"].items() if k != "user" or scfg["user"] == "llm"}
    wanted = {k: v for k, v in wanted.items() if k != "success" or scfg["user"] == "llm"}
    wanted = {k: v for k, v in wanted.items() if k != "reflection" or reflect}
    return upstream.prompts({**up, "prompts": wanted})

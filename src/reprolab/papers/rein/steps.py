"""rein's steps: data (the instances), run (every setting's episodes in lockstep through the core
episode runner), metrics, plot."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["seen_unseen"]
TOOLS_MODULE = "reprolab.papers.rein.tools"


def inception_models(cfg: dict) -> list[str]:
    """The models of the LLM inception modules the settings name, in config order."""
    names = []
    for spec in cfg["settings"].values():
        name = spec.get("module")
        if spec.get("inception") == "llm" and name and name not in names:
            names.append(name)
    return names


def probe_settings(cfg: dict) -> dict[str, str | None]:
    """Probe setting -> the recovery tool its planted plan names (None: a plan naming none)."""
    return {
        name: spec.get("expects")
        for name, spec in cfg["settings"].items()
        if spec.get("inception") == "given"
    }


def data(cfg: dict, tracker: Tracker, *, instances: Path) -> dict:
    from reprolab.io import write_jsonl
    from reprolab.papers.rein.data import instances as make
    from reprolab.papers.rein.data import load

    source = load(cfg["data"], _upstream_cache(instances))
    rows = make(cfg["data"], source)
    write_jsonl(instances, rows)
    seen = sum(r["seen"] is True for r in rows)
    unseen = sum(r["seen"] is False for r in rows)
    log.info("%d instances: %d seen, %d unseen, %d clean", len(rows), seen, unseen,
             len(rows) - seen - unseen)  # fmt: skip
    out = {"instances": len(rows), "seen": seen, "unseen": unseen}
    for domain, spec in source.items():
        if "left_out" in spec:  # tau-bench's tasks rein's tools cannot stand for
            out[f"{domain}.tasks_kept"] = len(spec["tasks"])
            out[f"{domain}.tasks_left_out"] = len(spec["left_out"])
            for index, why in spec["left_out"].items():
                log.info("%s task %s left out: %s", domain, index, why)
    return out


def _upstream_cache(out: Path) -> Path:
    """Where tau-bench's files are kept once read: beside the step's output."""
    return out.parent / "upstream"


def llm_user(cfg: dict, cache: Path) -> dict | None:
    """The LLM user's pieces (full scale): tau-bench's simulator prompt read from the pinned
    commit, the error-type instructions, the sampling; None for the templated user."""
    from reprolab.inference import SamplingParams
    from reprolab.papers.rein import upstream

    ucfg = cfg["user"]
    if ucfg.get("simulator", "templated") != "llm":
        return None
    sim = upstream.user(ucfg["prompt"], cache)
    params = SamplingParams(ucfg["max_new_tokens"], ucfg["temperature"], 1.0, cfg["suite"]["seed"])
    return {**sim, "errors": ucfg["errors"], "params": params}


def _plans(cfg: dict) -> dict:
    plans = cfg["plans"]
    known = list(plans["types"])
    return {**plans, "known": known}


def check_user(rows: list[dict], sim: dict | None) -> None:
    """tau-bench's instances carry an instruction, not a templated request: only the LLM user
    can play them (and it needs their instruction)."""
    if sim is None and any(r["utterance"] is None for r in rows):
        raise ValueError("rein: instances without a templated request need user.simulator llm")
    if sim is not None and any("instruction" not in r for r in rows):
        raise ValueError(
            "rein: the LLM user needs tau-bench's instructions (data.origin tau_bench)"
        )


def run(
    cfg: dict,
    tracker: Tracker,
    *,
    data: Path,
    agent: Path,
    modules: list[Path],
    results: Path,
    episodes: Path,
) -> dict:
    from reprolab.episodes import Runner, backend_handlers
    from reprolab.inference import SamplingParams, get_backend
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.judge import Judge
    from reprolab.papers.rein import inception as inc
    from reprolab.papers.rein.agent import AgentEpisode
    from reprolab.papers.rein.tools import DOMAIN_SPECS, RECOVERY_SPECS
    from reprolab.sandbox import Sandbox, SandboxLimits
    from reprolab.tools import ToolEnv

    rows = read_jsonl(data)
    acfg = cfg["agent"]
    seed = cfg["suite"]["seed"]
    # A cache private to this job: identical requests in one batch (the calibration's
    # context-free prompts, contexts two settings share) are scored once; nothing outlives it.
    scratch = tempfile.TemporaryDirectory(prefix="rein-")
    backend = get_backend(
        acfg["backend"],
        str(agent),
        cache=str(Path(scratch.name) / "cache.sqlite"),
        **acfg.get("backend_options", {}),
    )
    handlers = backend_handlers(backend)
    icfg = cfg["inception"]
    plans = _plans(cfg)
    by_name = {Path(p).name: p for p in modules}
    render = inc.render_factory(icfg["prompt"], plans["known"], icfg["definitions"])
    judges = {}
    for name in inception_models(cfg):
        path = by_name[name]
        module_backend = (
            backend
            if Path(path).resolve() == Path(agent).resolve()
            else get_backend(icfg["backend"], str(path), **icfg.get("backend_options", {}))
        )
        judge = Judge(
            module_backend,
            inc.labels(plans["known"]),
            icfg["scoring"],
            balance=icfg["balance"],
            params=SamplingParams(icfg["max_new_tokens"], 0.0, 1.0, seed),
            numbered=True,
            prefix=icfg["prefix"],
        )
        judges[name] = judge
        handlers[f"judge:{name}"] = lambda payloads, _, j=judge: j.judge(
            [p[0] for p in payloads], payloads[0][1]
        )
    ctx = {
        "agent": acfg,
        "prompts": cfg["prompts"],
        "plans": plans,
        "render": render,
        "params": SamplingParams(acfg["max_new_tokens"], acfg["temperature"], 1.0, seed),
        "user": llm_user(cfg, _upstream_cache(results)),
    }
    check_user(rows, ctx["user"])
    specs = {d: DOMAIN_SPECS[d] + RECOVERY_SPECS for d in DOMAIN_SPECS}
    limits = SandboxLimits(**cfg["sandbox"])
    out_rows = []
    with Sandbox(limits, modules=[TOOLS_MODULE]) as box:
        made = []
        for setting, spec in cfg["settings"].items():
            for inst in rows:
                if spec.get("instances", "all") == "clean" and inst["error"] is not None:
                    continue
                env = ToolEnv(TOOLS_MODULE, specs[inst["domain"]], inst["database"], box)
                made.append(AgentEpisode(inst, setting, spec, ctx, env))
        runner = Runner(handlers)
        # A turn: the user (LLM user only), inception, draft, feedback, refine.
        steps = acfg["max_turns"] * (5 if ctx["user"] else 4) + 1
        runner.run(made, max_steps=steps, log_path=episodes, name="rein")
        for ep in made:
            if not ep.done:
                raise RuntimeError(f"{ep.id}: not finished within the runner's steps")
            out_rows.append(ep.result())
    write_jsonl(results, out_rows)
    scratch.cleanup()
    out = {"episodes": float(len(out_rows)), "backend_calls": float(len(runner.calls))}
    for name, judge in judges.items():
        out.update(judge.stats.as_metrics(f"inception.{name}"))
    return out


def metrics(cfg: dict, tracker: Tracker, *, results: Path, metrics: Path) -> Published:
    from reprolab.io import read_jsonl
    from reprolab.papers.rein.summary import summarize

    return summarize(read_jsonl(results), probe_settings(cfg))


def plot(cfg: dict, tracker: Tracker, *, metrics: Path, units: Path, figures: Path) -> list[Path]:
    from reprolab.io import read_json
    from reprolab.papers.rein import plot as draw

    order = [s for s, spec in cfg["settings"].items() if spec.get("inception") != "given"]
    samples = read_json(units)["samples"]
    return [
        draw.seen_unseen(
            read_json(metrics), samples, order, cfg["suite"]["seed"], figures / "seen_unseen.png"
        )
    ]


STEPS = [
    Step("data", data, "the instances: base tasks clean and with each error type injected",
         outputs=("instances",), reads=("data",)),
    Step("run", run, "every setting's episodes in lockstep: inception, agent, tools",
         inputs=("data", "agent", "modules"), outputs=("results", "episodes"),
         reads=("agent", "inception", "plans", "prompts", "settings", "sandbox", "user"),
         kind="generate"),
    Step("metrics", metrics, "pass@1 per setting, inception rates, mutation errors, units.json",
         inputs=("results",), outputs=("metrics",), reads=("settings",)),
    Step("plot", plot, "the seen/unseen bars", inputs=("metrics", "units"),
         params=("figures",), reads=("settings",)),
]  # fmt: skip

"""partnr_dialogue's steps: data (episodes), run_heuristic, run_random, run_llm and run_hybrid
(every episode of one condition, on the core lockstep runner), probe (hand-placed states),
score (the per-arm summary the figures read), metrics, plot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from reprolab.papers.partnr_dialogue.episode import CONDITIONS  # noqa: F401 (the rules read it)
from reprolab.papers.partnr_dialogue.play import HEURISTIC, RANDOM
from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["convergence", "conflicts_success", "novelty_bsm"]
HYBRID = "hybrid-"  # + an LLM's name: scripted planner, the LLM chooses when and what to say


def llms(cfg: dict, registry: dict) -> list[str]:
    """The LLMs the paper runs (llm.models), each checked to be a model of the registry."""
    for name in cfg["llm"]["models"]:
        if name not in registry:
            raise ValueError(
                f"config/papers/partnr_dialogue.yaml: key 'llm.models': '{name}' is not a model "
                f"of config/config.yaml; expected one of {sorted(registry)}"
            )
    return list(cfg["llm"]["models"])


def arms(cfg: dict) -> list[str]:
    """Every arm run in both conditions: the heuristic agents, then each LLM."""
    return [HEURISTIC, *cfg["llm"]["models"]]


# The scripted messengers: the hybrid's control (random), a second one on other draws (the null
# control: two random messengers must not differ) and one that sends only facts its partner
# lacks (the planted positive control).
MESSENGERS = (RANDOM, RANDOM + "_b", "oracle_messenger")


def hybrid_arms(cfg: dict) -> list[str]:
    """The arms run in dialogue only (their silent run is the scripted pair's, the same
    planner without messages): the random messengers, then each LLM's hybrid."""
    return [*MESSENGERS, *(HYBRID + m for m in cfg["llm"]["models"])]


def run_threads(cfg: dict, default: int) -> int:
    """Torch threads of one LLM run: llm.threads, else the generate job's (on a CPU the two
    conditions then run side by side with one each)."""
    return cfg["llm"].get("threads", default)


def data(cfg: dict, tracker: Tracker, *, out: Path) -> dict:
    from reprolab.io import write_jsonl
    from reprolab.papers.partnr_dialogue.data import make_episodes

    made = make_episodes(cfg["episodes"], cfg["suite"]["seed"])
    write_jsonl(out, made)
    log.info("wrote %d episodes to %s", len(made), out)
    return {"episodes": len(made)}


def _run(
    cfg: dict,
    agent: str,
    condition: str,
    episodes: Path,
    out: Path,
    backend=None,
    episode_log: Path | None = None,
    draws: str = "",
) -> dict:
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.partnr_dialogue import play

    settings = cfg["sim"] | {"llm": cfg.get("llm", {})}
    settings |= cfg.get("hybrid", {}) | {"draws": draws}
    specs = read_jsonl(episodes)
    if agent == "llm" and cfg["llm"].get("episodes"):  # the budget's cut for the LLM-only arm
        specs = specs[: cfg["llm"]["episodes"]]
    seed = cfg["suite"]["seed"]
    rows = play.run(specs, condition, settings, agent, backend, seed, episode_log)
    write_jsonl(out, rows)
    log.info("%s %s: %d episodes", agent, condition, len(specs))
    return {"n_episodes": len(specs), "log_rows": len(rows)}


def run_heuristic(
    cfg: dict, tracker: Tracker, *, condition: str, episodes: Path, out: Path
) -> dict:
    """Every episode of one condition with the scripted agents."""
    return _run(cfg, HEURISTIC, condition, episodes, out)


def run_messengers(
    cfg: dict,
    tracker: Tracker,
    *,
    condition: str,
    episodes: Path,
    random: Path,
    random_b: Path,
    oracle: Path,
) -> dict:
    """Every episode of one condition with the scripted planner and each scripted messenger
    (MESSENGERS: random, random_b, oracle), its draws seeded from the suite seed and its name;
    one job, since none needs a model."""
    done = {}
    for messenger, out in zip(MESSENGERS, (random, random_b, oracle), strict=True):
        done[messenger] = _run(cfg, RANDOM, condition, episodes, out, draws=messenger)
    return {f"{m}.log_rows": d["log_rows"] for m, d in done.items()}


def one_llm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The simulator and the LLM settings with only this job's model, so that adding or dropping
    another model keeps this one's runs."""
    return {"sim": cfg["sim"], "llm": {**cfg["llm"], "models": [wildcards["llm"]]}}


def one_hybrid(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The LLM's hybrid reads when it is asked, not the scripted messengers' send rate (a
    control's setting must not rerun the LLM)."""
    return {**one_llm(cfg, wildcards), "hybrid": {"ask_every": cfg["hybrid"]["ask_every"]}}


def _backend(cfg: dict, model: Path, threads: int):
    import torch

    from reprolab.inference import get_backend

    # The job's threads: more threads than cores spin badly on a shared machine.
    torch.set_num_threads(threads)
    settings = cfg["llm"]
    return get_backend(settings["backend"], model, **settings.get("backend_options", {}))


def _model_arm(agent: str, doc: str) -> Callable[..., dict]:
    """The step that runs every episode of one condition with `agent` on one LLM, in lockstep
    (the core runner; its standard log of every request and reply goes to episode_log)."""

    def run(
        cfg: dict,
        tracker: Tracker,
        *,
        llm: str,
        condition: str,
        episodes: Path,
        model: Path,
        out: Path,
        episode_log: Path,
        threads: int,
    ) -> dict:
        backend = _backend(cfg, model, threads)
        return _run(cfg, agent, condition, episodes, out, backend, episode_log)

    run.__name__ = run.__qualname__ = f"run_{agent}"
    run.__doc__ = doc
    return run


run_llm = _model_arm("llm", "Every episode of one condition with both agents played by one LLM.")
run_hybrid = _model_arm(
    "hybrid",
    "Every episode of one condition with the scripted planner acting and the LLM choosing "
    "when to talk and which grounded message to send.",
)


def run_probe(
    cfg: dict, tracker: Tracker, *, llm: str, episodes: Path, model: Path, out: Path, threads: int
) -> dict:
    """The LLM's choice on hand-placed states (probe.py) under both choice rules."""
    from reprolab.io import read_jsonl, write_json
    from reprolab.papers.partnr_dialogue import probe as hand

    backend = _backend(cfg, model, threads)
    settings = cfg["sim"] | {"llm": cfg["llm"]}
    rows = hand.run(backend, read_jsonl(episodes), settings, cfg["probe"]["states_per_kind"])
    write_json(out, {"states": rows})
    right = {r: sum(row[r] == row["right"] for row in rows) for r in ("pmi", "loglik", "sum")}
    log.info("probe: %d states, right with pmi %d, loglik %d, sum %d", len(rows), *right.values())
    return {f"right_{r}": n for r, n in right.items()} | {"states": len(rows)}


def one_probe(cfg: dict, wildcards: dict[str, str]) -> dict:
    return {**one_llm(cfg, wildcards), "probe": cfg["probe"]}


def _per_episode(cfg: dict, logs: list[Path]) -> dict[str, dict[str, list[dict]]]:
    """per[arm][condition]: each episode's measures, from the <arm>/<condition>.jsonl logs; an
    arm run in dialogue only gets the scripted pair's silent run (the same planner, silent)."""
    from reprolab.io import read_jsonl
    from reprolab.papers.partnr_dialogue.metrics import per_episode

    per: dict[str, dict[str, list[dict]]] = {}
    for path in logs:
        arm, condition = path.parent.name, path.stem
        log.info("summarising %s %s", arm, condition)
        per.setdefault(arm, {})[condition] = per_episode(read_jsonl(path), cfg["evaluate"])
    for arm in hybrid_arms(cfg):
        if arm in per and "silent" not in per[arm] and "silent" in per.get(HEURISTIC, {}):
            per[arm]["silent"] = per[HEURISTIC]["silent"]
    return per


def _summary(per: dict[str, dict[str, list[dict]]]) -> dict:
    from reprolab.papers.partnr_dialogue.metrics import summarize_episodes

    return {
        arm: {condition: summarize_episodes(eps) for condition, eps in by_condition.items()}
        for arm, by_condition in per.items()
    }


def score(cfg: dict, tracker: Tracker, *, logs: list[Path], summary: Path) -> dict:
    """Success, conflicts, OC, novelty and BSM of every arm and condition (the figures' data)."""
    from reprolab.io import write_json

    summarized = _summary(_per_episode(cfg, logs))
    write_json(summary, summarized)
    return {
        f"{arm}.{condition}.{key}": value
        for arm, by_condition in summarized.items()
        for condition, values in by_condition.items()
        for key, value in values.items()
        if key in ("success", "conflict_rate", "oc_auc")
    }


def metrics(
    cfg: dict, tracker: Tracker, *, logs: list[Path], probes: list[Path], metrics: Path
) -> Published:
    from reprolab.io import read_json
    from reprolab.papers.partnr_dialogue.metrics import evidence_units, flatten, probe_measures

    per = _per_episode(cfg, logs)
    summary = _summary(per)
    primary = cfg["llm"]["models"][0]
    # In metrics.json and units.json the first LLM also answers to 'llm' (its hybrid to
    # 'hybrid'), the names the claims use.
    for alias, arm in (("llm", primary), ("hybrid", HYBRID + primary)):
        if arm in summary:
            summary, per = {alias: summary[arm], **summary}, {alias: per[arm], **per}
    units = evidence_units(per, cfg["evaluate"]["null_draws"], cfg["suite"]["seed"])
    flat = flatten(summary)
    for path in probes:
        name = path.stem
        rows = read_json(path)["states"]
        names = [name, "llm"] if name == primary else [name]
        for alias in names:
            flat |= probe_measures(rows, f"probe.{alias}", units if alias == "llm" else None)
    return Published(flat, units)


def plot(cfg: dict, tracker: Tracker, *, summary: Path, figures: Path) -> list[Path]:
    from reprolab.io import read_json
    from reprolab.papers.partnr_dialogue import plot as draw

    summarized = read_json(summary)
    return [draw.FIGURES[name](summarized, figures / f"{name}.png") for name in FIGURES]


STEPS = [
    Step("data", data, "generate seeded houses and tasks", outputs=("out",),
         reads=("episodes",)),
    Step("run_heuristic", run_heuristic, "run every episode of one condition, scripted agents",
         wildcards=("condition",), inputs=("episodes",), outputs=("out",), reads=("sim",)),
    Step("run_llm", run_llm, "run every episode of one condition with one LLM, in lockstep",
         wildcards=("llm", "condition"), inputs=("episodes", "model"),
         outputs=("out", "episode_log"),
         params=("threads",), reads=("sim", "llm"), sections=one_llm, kind="generate"),
    Step("run_messengers", run_messengers,
         "run every episode of one condition with each scripted messenger (controls)",
         wildcards=("condition",), inputs=("episodes",),
         outputs=("random", "random_b", "oracle"), reads=("sim", "hybrid", "llm")),
    Step("run_hybrid", run_hybrid,
         "run every episode of one condition: scripted planner, the LLM's messages",
         wildcards=("llm", "condition"), inputs=("episodes", "model"),
         outputs=("out", "episode_log"),
         params=("threads",), reads=("sim", "llm", "hybrid"), sections=one_hybrid,
         kind="generate"),
    Step("run_probe", run_probe, "score the LLM's action choice on hand-placed states",
         wildcards=("llm",), inputs=("episodes", "model"), outputs=("out",),
         params=("threads",), reads=("sim", "llm", "probe"), sections=one_probe,
         kind="generate"),
    Step("score", score, "summarise the step logs per arm and condition (the figures' data)",
         inputs=("logs",), outputs=("summary",), reads=("evaluate", "llm")),
    Step("metrics", metrics, "success, conflicts, OC, novelty, BSM -> metrics.json, units.json",
         inputs=("logs", "probes"), outputs=("metrics",), reads=("evaluate", "llm")),
    Step("plot", plot, "draw the figures", inputs=("summary",), params=("figures",)),
]  # fmt: skip

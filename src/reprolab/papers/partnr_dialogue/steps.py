"""partnr_dialogue's steps: data (episodes), run_heuristic and run_llm (every episode of one
condition, on the core lockstep runner), score (the per-arm summary the figures read), metrics,
plot."""

from __future__ import annotations

import logging
from pathlib import Path

from reprolab.papers.partnr_dialogue.episode import CONDITIONS  # noqa: F401 (the rules read it)
from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["convergence", "conflicts_success", "novelty_bsm"]
HEURISTIC = "heuristic"  # the scripted agents' arm; each LLM's arm is its registry name


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
    """Every arm whose step logs the metrics read: the heuristic agents, then each LLM."""
    return [HEURISTIC, *cfg["llm"]["models"]]


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
) -> dict:
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.partnr_dialogue import play

    settings = cfg["sim"] | {"llm": cfg.get("llm", {})}
    specs = read_jsonl(episodes)
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


def one_llm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The simulator and the LLM settings with only this job's model, so that adding or dropping
    another model keeps this one's runs."""
    return {"sim": cfg["sim"], "llm": {**cfg["llm"], "models": [wildcards["llm"]]}}


def run_llm(
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
    """Every episode of one condition with both agents played by one LLM, in lockstep (the
    core runner; its standard log of every request and reply goes to episode_log)."""
    import torch

    from reprolab.inference import get_backend

    # The job's threads: more threads than cores spin badly on a shared machine.
    torch.set_num_threads(threads)
    settings = cfg["llm"]
    backend = get_backend(settings["backend"], model, **settings.get("backend_options", {}))
    return _run(cfg, "llm", condition, episodes, out, backend, episode_log)


def _per_episode(cfg: dict, logs: list[Path]) -> dict[str, dict[str, list[dict]]]:
    """per[arm][condition]: each episode's measures, from the <arm>/<condition>.jsonl logs."""
    from reprolab.io import read_jsonl
    from reprolab.papers.partnr_dialogue.metrics import per_episode

    per: dict[str, dict[str, list[dict]]] = {}
    for path in logs:
        arm, condition = path.parent.name, path.stem
        log.info("summarising %s %s", arm, condition)
        per.setdefault(arm, {})[condition] = per_episode(read_jsonl(path), cfg["evaluate"])
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


def metrics(cfg: dict, tracker: Tracker, *, logs: list[Path], metrics: Path) -> Published:
    from reprolab.papers.partnr_dialogue.metrics import evidence_units, flatten

    per = _per_episode(cfg, logs)
    summary = _summary(per)
    primary = cfg["llm"]["models"][0]
    # In metrics.json and units.json the first LLM also answers to 'llm', the name the claims use.
    if primary in summary:
        summary, per = {"llm": summary[primary], **summary}, {"llm": per[primary], **per}
    units = evidence_units(per, cfg["evaluate"]["null_draws"], cfg["suite"]["seed"])
    return Published(flatten(summary), units)


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
    Step("score", score, "summarise the step logs per arm and condition (the figures' data)",
         inputs=("logs",), outputs=("summary",), reads=("evaluate",)),
    Step("metrics", metrics, "success, conflicts, OC, novelty, BSM -> metrics.json, units.json",
         inputs=("logs",), outputs=("metrics",), reads=("evaluate", "llm")),
    Step("plot", plot, "draw the figures", inputs=("summary",), params=("figures",)),
]  # fmt: skip

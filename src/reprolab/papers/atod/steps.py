"""atod's steps: data (the generated dialogues with gold statuses), run (every evaluator arm:
memory, full-context or recursive-summary with a status reader, each over every dialogue in
lockstep), metrics (ATOD-Eval), plot. Where the config names an LLM generator (`data.llm`, full
scale), two steps come between data and run: generate (the template dialogues' trajectories
written again by the model from the authors' prompts, verified, status-annotated) and score
(the authors' quality rubrics through the core judge)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["tradeoff", "by_goals", "mra_dgcr"]


def systems(cfg: dict) -> list[str]:
    """The evaluator arms `<evaluator>-<reader>`, in config order."""
    return list(cfg["evaluators"]["systems"])


def data(cfg: dict, tracker: Tracker, *, dialogues: Path) -> dict:
    from reprolab.io import write_jsonl
    from reprolab.papers.atod.generate import generate

    rows = generate(cfg["data"], cfg["suite"]["seed"])
    write_jsonl(dialogues, rows)
    log.info("%d dialogues, %d goals", len(rows), sum(d["n_goals"] for d in rows))
    return {"dialogues": len(rows), "goals": sum(d["n_goals"] for d in rows)}


def _upstream_cache(out: Path) -> Path:
    """Where the authors' files are kept once read: beside the step's output."""
    return out.parent / "upstream"


def generate(
    cfg: dict, tracker: Tracker, *, data: Path, model: Path, dialogues: Path, rejected: Path,
    episodes: Path,
) -> dict:  # fmt: skip
    """The LLM generator, verifier and status annotator over every trajectory (full scale)."""
    from reprolab.episodes import backend_handlers
    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.atod import llm_generate, upstream

    llm = cfg["data"].get("llm")
    if not llm:
        raise ValueError("atod generate: the config names no LLM generator (data.llm)")
    prompts = upstream.prompts(cfg["upstream"], "generator", _upstream_cache(dialogues))
    backend = get_backend(llm["backend"], str(model), **llm.get("backend_options", {}))
    plans = read_jsonl(data)
    made, refused, rows = llm_generate.write(
        plans, backend_handlers(backend), prompts, llm, cfg["suite"]["seed"]
    )
    write_jsonl(dialogues, made)
    write_jsonl(rejected, refused)
    write_jsonl(episodes, rows)
    log.info("%d of %d trajectories accepted", len(made), len(plans))
    accepted = len(made) / max(1, len(plans))
    if accepted < llm["min_accepted"]:
        raise RuntimeError(
            f"atod generate: {len(made)}/{len(plans)} accepted, under min_accepted "
            f"{llm['min_accepted']} (the authors' quality threshold)"
        )
    return {
        "generate.accepted_share": accepted,
        "generate.tries_mean": sum(d["generation"]["tries"] for d in made) / max(1, len(made)),
        "generate.unread_status_replies": float(
            sum(d["generation"]["unread_status_replies"] for d in made)
        ),
        "generate.refused_transitions": float(
            sum(d["generation"]["refused_transitions"] for d in made)
        ),
    }


def score(cfg: dict, tracker: Tracker, *, data: Path, model: Path, dialogues: Path) -> dict:
    """The quality judge over the generated dialogues (full scale): each row gains `quality`."""
    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.atod import quality, upstream

    llm = cfg["data"]["llm"]
    rubrics = upstream.templates(cfg["upstream"], "quality", _upstream_cache(dialogues))
    backend = get_backend(llm["backend"], str(model), **llm.get("backend_options", {}))
    rows = read_jsonl(data)
    rated, report = quality.rate(backend, rows, rubrics)
    write_jsonl(dialogues, [{**d, "quality": q} for d, q in zip(rows, rated, strict=True)])
    return report


def _counter(tokenizer):
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _episodes(dialogues: list[dict], system: str, settings: dict, count) -> list:
    from reprolab.papers.atod import evaluators as evs

    evaluator, reader = system.rsplit("-", 1)
    out = []
    for d in dialogues:
        if evaluator == "memory":
            out.append(evs.Memory(d, system, reader, settings, count))
        else:
            s = dict(settings)
            if evaluator == "full_context_unbounded":
                s["window"] = None
            out.append(evs.ContextJudge(d, system, reader, s, count, evaluator == "summary"))
    return out


def run(
    cfg: dict, tracker: Tracker, *, data: Path, model: Path, results: Path, episodes: Path
) -> dict:
    """Every evaluator arm over every dialogue, one arm after the other (each timed on its
    own), the dialogues of an arm stepped in lockstep (one batched call per request kind and
    step); per dialogue its reconstruction, the model seconds it used and its length in tokens.
    One job: the model, tokenizer and embedder load once."""
    from reprolab.embeddings import get_embedder
    from reprolab.episodes import Runner, backend_handlers
    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.atod.evaluators import lines

    ecfg = cfg["evaluators"]
    dialogues = read_jsonl(data)
    settings = {**ecfg["settings"], "seed": cfg["suite"]["seed"]}
    backend = get_backend(ecfg["backend"], str(model), **ecfg.get("backend_options", {}))
    tokenizer = getattr(backend, "tokenizer", None)
    if tokenizer is None:
        from reprolab.models import load_tokenizer

        tokenizer = load_tokenizer(model)
    count = _counter(tokenizer)
    embedder = None
    if any(s.startswith("memory") for s in systems(cfg)):
        # The job config carries the registry entry its sections name (job_config).
        embedder = get_embedder(ecfg["embedder"], cfg["models"])
    handlers = backend_handlers(backend, embedder=embedder)
    length = {d["dialogue_id"]: sum(count(x) for x in lines(d["turns"])) for d in dialogues}
    steps = 3 * max(len(d["turns"]) for d in dialogues) + 3
    out, log_rows, logged = [], [], {}
    for system in systems(cfg):
        eps = _episodes(dialogues, system, settings, count)
        tic = time.monotonic()
        rows = Runner(handlers).run(eps, steps, name=f"atod {system}")
        logged[f"{system}.wall_turn_seconds"] = (time.monotonic() - tic) / max(
            1, sum(len(d["turns"]) for d in dialogues)
        )
        seconds: dict[str, float] = {}
        for r in rows:
            seconds[r["episode"]] = seconds.get(r["episode"], 0.0) + r["seconds"]
            log_rows.append({"system": system, **r})
        for e in eps:
            if not e.done:
                raise RuntimeError(f"{system}: dialogue {e.id} did not finish in {steps} steps")
            out.append(
                {**e.result(), "model_seconds": seconds.get(e.id, 0.0), "length": length[e.id]}
            )
        log.info("%s: %d dialogues", system, len(eps))
    write_jsonl(results, out)
    write_jsonl(episodes, log_rows)
    return logged


def _load(results: Path) -> tuple[dict, dict]:
    from reprolab.io import read_jsonl

    by, seconds = {}, {}
    for r in read_jsonl(results):
        by.setdefault(r["system"], []).append(r)
        seconds.setdefault(r["system"], {})[r["dialogue_id"]] = r["model_seconds"]
    return by, seconds


def metrics(cfg: dict, tracker: Tracker, *, data: Path, results: Path, metrics: Path) -> Published:
    from reprolab.io import read_jsonl
    from reprolab.papers.atod.summary import summarize

    dialogues = read_jsonl(data)
    by, seconds = _load(results)
    window = cfg["evaluators"]["settings"]["window"]
    long = {r["dialogue_id"] for rows in by.values() for r in rows if r["length"] > window}
    return summarize(dialogues, by, seconds, long)


def plot(
    cfg: dict, tracker: Tracker, *, data: Path, results: Path, metrics: Path, figures: Path
) -> list[Path]:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.atod import plot as draw

    dialogues = read_jsonl(data)
    by, seconds = _load(results)
    values = read_json(metrics)
    return [
        draw.tradeoff(values, systems(cfg), figures / "tradeoff.png"),
        draw.by_goals(values, systems(cfg), figures / "by_goals.png"),
        draw.mra_dgcr(dialogues, by, seconds, figures / "mra_dgcr.png"),
    ]


STEPS = [
    Step("data", data, "dialogues from the mini ontology with gold per-turn statuses",
         outputs=("dialogues",), reads=("data",)),
    Step("generate", generate, "the LLM generator, verifier and status annotator (full)",
         inputs=("data", "model"), outputs=("dialogues", "rejected", "episodes"),
         reads=("data", "upstream"), kind="generate"),
    Step("score", score, "the authors' quality rubrics through the core judge (full)",
         inputs=("data", "model"), outputs=("dialogues",), reads=("data", "upstream"),
         kind="generate"),
    Step("run", run, "every evaluator arm over every dialogue, each arm in lockstep",
         inputs=("data", "model"), outputs=("results", "episodes"), reads=("evaluators",),
         kind="generate"),
    Step("metrics", metrics, "ATOD-Eval on the gold set and every evaluator, units.json",
         inputs=("data", "results"), outputs=("metrics",), reads=("evaluators",)),
    Step("plot", plot, "draw the figures", inputs=("data", "results", "metrics"),
         params=("figures",), reads=("evaluators",)),
]  # fmt: skip

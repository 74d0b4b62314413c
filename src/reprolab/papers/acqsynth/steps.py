"""acqsynth's steps: data (seed and pool items), data_test, train_generator (GRPO with one
acquisition function), generate (synthesis and pseudo-labels), score_acquisition (a pool's
acquisition values on the student), train_student (SFT on one set), score (one student),
metrics, plot."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["accuracy", "forgetting", "transfer", "reward_curves"]
TEST_KEYS = ("n_test", "n_test_forgetting")


# --- what the rules expand ----------------------------------------------------------------


def acquisitions(cfg: dict) -> list[str]:
    return list(cfg["generator"]["acquisitions"])


def students(cfg: dict) -> dict[str, list[str]]:
    """Each student model and the sets it is trained on: the primary student every set, each
    transfer student the sets `transfer.sets` names (data made for the primary student)."""
    from reprolab.papers.acqsynth import sets

    out = {cfg["student"]["model"]: sets.names(cfg)}
    for name in cfg["transfer"]["students"]:
        out[name] = list(cfg["transfer"]["sets"])
    return out


def pool_acquisitions(cfg: dict, pool: str) -> list[str]:
    """The acquisition values a pool needs: the filters of the untrained generator's pool, the
    control's functions (and its null's) on the procedural pool."""
    if pool == "untrained":
        return list(cfg["baselines"]["filtered"])
    control = cfg["control"]
    return sorted({*control["acquisitions"], control["null_acquisition"]})


def _embedder(cfg: dict):
    from reprolab.config import CONFIG_DIR, load_yaml
    from reprolab.embeddings import get_embedder

    registry = load_yaml(CONFIG_DIR / "config.yaml")["models"]
    return get_embedder(cfg["embedding"]["model"], registry)


def _probe(cfg: dict, student: Path, seeds: Path):
    from reprolab.io import read_jsonl
    from reprolab.papers.acqsynth.probe import Probe

    train = [r for r in read_jsonl(seeds) if r["split"] == "train"]
    settings = {**cfg["acquisition"], "system": cfg["prompts"]["student"]}
    return Probe(str(student), _embedder(cfg), train, settings, cfg["suite"]["seed"])


# --- data ---------------------------------------------------------------------------------


def _stream(cfg_data: dict, seed: int, family: str, n: int) -> list[dict]:
    """The first n items of a family's seeded stream (seeds, then pool, then test)."""
    import random

    from reprolab.papers.acqsynth import hub, tasks

    if cfg_data["source"] == "hub":
        return hub.load(family, cfg_data["hub"][family], n, seed)
    return tasks.make_items(family, n, random.Random(f"{seed}/{family}"), cfg_data["procedural"])


def train_data(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The data section without the test set's keys: they never rerun training."""
    return {"data": {k: v for k, v in cfg["data"].items() if k not in TEST_KEYS}}


def data(cfg: dict, tracker: Tracker, *, seeds: Path, pool: Path) -> dict:
    from reprolab.io import write_jsonl

    d = cfg["data"]
    n_seed, n_pool = d["n_seeds"] + d["n_valid"], d["n_pool"]
    rows = _stream(d, cfg["suite"]["seed"], d["family"], n_seed + n_pool)
    seed_rows = [
        {**r, "id": f"seed{k}", "split": "train" if k < d["n_seeds"] else "valid"}
        for k, r in enumerate(rows[:n_seed])
    ]
    pool_rows = [{**r, "id": f"pool{k}"} for k, r in enumerate(rows[n_seed:])]
    write_jsonl(seeds, seed_rows)
    write_jsonl(pool, pool_rows)
    return {"seed_items": len(seed_rows), "pool_items": len(pool_rows)}


def data_test(cfg: dict, tracker: Tracker, *, test: Path) -> dict:
    """The target family's test items (after its seeds and pool in the stream) and the second
    family's (forgetting)."""
    from reprolab.io import write_jsonl

    d, seed = cfg["data"], cfg["suite"]["seed"]
    skip = d["n_seeds"] + d["n_valid"] + d["n_pool"]
    own = _stream(d, seed, d["family"], skip + d["n_test"])[skip:]
    other = _stream(d, seed + 1, d["forgetting_family"], d["n_test_forgetting"])
    rows = [{**r, "id": f"test{k}"} for k, r in enumerate(own)]
    rows += [{**r, "id": f"forget{k}"} for k, r in enumerate(other)]
    write_jsonl(test, rows)
    return {"test_items": len(own), "forgetting_items": len(other)}


# --- the generator ------------------------------------------------------------------------


def generator_text(cfg: dict) -> dict[str, str]:
    """The generator's prompt texts: the authors' builder for the target family, read at the
    pinned commit, where `prompts.upstream` is set (full); the project's otherwise."""
    up = cfg["prompts"].get("upstream")
    if not up:
        return cfg["prompts"]["generator"]
    from reprolab.papers.acqsynth import upstream

    family = cfg["data"]["family"]
    templates = upstream.generator_templates(up)
    if family not in templates:
        raise ValueError(
            f"acqsynth prompts.upstream.builders names no builder for the family '{family}'"
        )
    return {"system": "", "user": templates[family]}


def warm_section(cfg: dict, wildcards: dict[str, str]) -> dict:
    """What the format warm-start reads (none of the GRPO or acquisition settings)."""
    gen = cfg["generator"]
    return {
        "generator": {"model": gen["model"], "warm_start": gen["warm_start"]},
        "prompts": cfg["prompts"],
        "data": train_data(cfg, wildcards)["data"],
    }


def train_format(
    cfg: dict, tracker: Tracker, *, seeds: Path, model: Path, out: Path, checkpoints: Path
) -> dict:
    """SFT of the generator on its own task, written by the seeds: each train seed's prompt
    answered with another seed item in the tag format (a seeded derangement), so that a small
    generator writes parseable items before GRPO (tiny; the paper's 3B generator needs none)."""
    from reprolab.io import read_jsonl
    from reprolab.papers.acqsynth import generator as g
    from reprolab.training.trainers import train

    warm = cfg["generator"]["warm_start"]
    train_rows = [r for r in read_jsonl(seeds) if r["split"] == "train"]
    rows = g.warm_rows(train_rows, generator_text(cfg), cfg["suite"]["seed"])
    summary = train(
        "sft", model, rows, out, checkpoints, trainer_args=warm["trainer"],
        optimizer=warm["optimizer"], seed=cfg["suite"]["seed"], tracker=tracker,
    )  # fmt: skip
    return {"examples": float(len(rows)), "steps": float(summary["steps"])}


def one_acquisition(cfg: dict, wildcards: dict[str, str]) -> dict:
    """What one generator run reads: the generator section without the list of functions (a
    function added or dropped reruns no other function's run)."""
    generator = {k: v for k, v in cfg["generator"].items() if k != "acquisitions"}
    return {
        "generator": generator,
        **{k: cfg[k] for k in ("acquisition", "prompts", "embedding")},
        "data": {"family": cfg["data"]["family"]},
    }


def train_generator(
    cfg: dict,
    tracker: Tracker,
    *,
    acquisition: str,
    seeds: Path,
    model: Path,
    student: Path,
    out: Path,
    rewards: Path,
    checkpoints: Path,
) -> dict:
    """GRPO of the generator with reward A(x) + r_xml (0 if unparseable), A on the student."""
    import numpy as np

    from reprolab.io import read_jsonl
    from reprolab.papers.acqsynth import generator as g
    from reprolab.training.trainers import train

    gen = cfg["generator"]
    text = generator_text(cfg)
    train_rows = [r for r in read_jsonl(seeds) if r["split"] == "train"]
    rows = [{"prompt": g.prompt(r, text, gen.get("prefill", ""))} for r in train_rows]
    rewards.unlink(missing_ok=True)
    probe = _probe(cfg, student, seeds)
    acq_reward = g.AcquisitionReward(
        acquisition, probe, cfg["data"]["family"], gen.get("prefill", ""), rewards
    )
    summary = train(
        "grpo",
        model,
        rows,
        out,
        checkpoints,
        trainer_args=gen["trainer"],
        optimizer=gen["optimizer"],
        seed=cfg["suite"]["seed"],
        reward_funcs=[acq_reward, g.make_xml_reward(gen.get("prefill", ""))],
        tracker=tracker,
    )
    logged = read_jsonl(rewards) if rewards.exists() else []
    raw = [r["raw"] for r in logged if r["raw"] is not None]
    return {
        "steps": float(summary["steps"]),
        "parse_rate": float(np.mean([r["parseable"] for r in logged])) if logged else 0.0,
        "raw_mean": float(np.mean(raw)) if raw else math.nan,
    }


def generate(
    cfg: dict,
    tracker: Tracker,
    *,
    source: str,
    generator: Path,
    seeds: Path,
    labeler: Path,
    synth: Path,
    stats: Path,
) -> dict:
    """Synthesis (sample until N parseable items, checkable ones where
    `synthesis.require_checkable`; the untrained generator's pool is N times `oversample`), then
    pseudo-labels, their accuracy where the family's checker applies; where
    `labels.gold_where_checkable`, the solver's worked answer then replaces the pseudo-label."""
    import numpy as np

    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_json, write_jsonl
    from reprolab.papers.acqsynth import generator as g
    from reprolab.papers.acqsynth import tasks

    syn, lab = cfg["synthesis"], cfg["labels"]
    seed = cfg["suite"]["seed"]
    train_rows = [r for r in read_jsonl(seeds) if r["split"] == "train"]
    n = cfg["student"]["n_train"] * (syn["oversample"] if source == "untrained" else 1)
    backend = get_backend(syn["backend"], str(generator), **syn.get("backend_options", {}))
    settings = {**syn, "text": generator_text(cfg), "prefill": cfg["generator"]["prefill"]}
    keep = (lambda item: tasks.gold(item) is not None) if syn["require_checkable"] else None
    items, made = g.synthesize(backend, train_rows, n, settings, seed, keep)
    del backend
    if items:
        labeler_backend = get_backend(
            lab["backend"], str(labeler), **lab.get("backend_options", {})
        )
        g.pseudo_label(labeler_backend, _embedder(cfg), items, lab, cfg["prompts"]["student"], seed)
    checks, own_checks = [], []
    with _sandbox(cfg) as box:
        for item in items:
            truth = tasks.gold(item)
            item["checkable"] = truth is not None
            if truth is None:
                continue
            known = (
                {**item, "tests": truth} if item["family"] == "code" else {**item, "answer": truth}
            )
            checks.append(tasks.is_correct(known, f"Answer: {item['answer']}", box))
            own_checks.append(tasks.is_correct(known, f"Answer: {item['generator_answer']}", box))
            item["label_correct"] = checks[-1]
    solved = 0
    for item in items if lab["gold_where_checkable"] else []:
        answer = tasks.worked(item)
        if answer is not None:
            item["pseudo_label"], item["pseudo_reasoning"] = item["answer"], item["reasoning"]
            item.update(answer, label_source="solver")
            solved += 1
    write_jsonl(synth, items)
    result = {
        **made,
        "checkable": len(checks),
        "label_accuracy": float(np.mean(checks)) if checks else math.nan,
        "generator_answer_accuracy": float(np.mean(own_checks)) if own_checks else math.nan,
        "label_support": float(np.mean([i["label_support"] for i in items])) if items else math.nan,
        "solver_labels": float(solved),
    }
    write_json(stats, result)
    log.info("%s: %s", source, result)
    return {k: v for k, v in result.items() if not math.isnan(v)}


def _sandbox(cfg: dict):
    """The core sandbox for the code family's unit tests (a no-op context otherwise)."""
    import contextlib

    from reprolab.sandbox import Sandbox, SandboxLimits

    if cfg["data"]["family"] != "code" and cfg["data"].get("forgetting_family") != "code":
        return contextlib.nullcontext(None)
    return Sandbox(SandboxLimits(**cfg["sandbox"]))


def score_acquisition(
    cfg: dict,
    tracker: Tracker,
    *,
    pool: str,
    candidates: Path,
    seeds: Path,
    student: Path,
    scores: Path,
) -> dict:
    """Every item's raw acquisition values on the student, for the functions the pool needs."""
    from reprolab.io import read_jsonl, write_jsonl

    rows = read_jsonl(candidates)
    probe = _probe(cfg, student, seeds)
    out = [{"id": r["id"]} for r in rows]
    for name in pool_acquisitions(cfg, pool):
        for row, value in zip(out, probe.raw(name, rows) if rows else [], strict=True):
            row[name] = value if math.isfinite(value) else 1e12  # confidence: zero margin
    write_jsonl(scores, out)
    return {"items": len(out)}


# --- students -----------------------------------------------------------------------------


def one_student(cfg: dict, wildcards: dict[str, str]) -> dict:
    return {k: cfg[k] for k in ("student", "control", "prompts")} | {
        "data": {"family": cfg["data"]["family"]}
    }


def student_settings(cfg: dict, wildcards: dict[str, str]) -> dict:
    return {
        "set": wildcards["set"],
        "optimizer": cfg["student"]["optimizer"],
        "trainer": cfg["student"]["trainer"],
    }


def _by_source(paths: list[Path]) -> dict[str, list[dict]]:
    """Input files keyed as sets.sources names them (<folder>/<file>)."""
    from reprolab.io import read_jsonl

    return {f"{Path(p).parent.name}/{Path(p).name}": read_jsonl(p) for p in paths}


def train_student(
    cfg: dict,
    tracker: Tracker,
    *,
    student: str,
    set: str,
    data: list[Path],
    model: Path,
    out: Path,
    checkpoints: Path,
) -> dict:
    """SFT of one student on one set (selected from its source files)."""
    from reprolab.io import write_jsonl
    from reprolab.papers.acqsynth import sets
    from reprolab.papers.acqsynth import student as st
    from reprolab.training.trainers import train

    items = sets.select(set, _by_source(data), cfg, cfg["suite"]["seed"])
    if not items:  # a generator that wrote nothing parseable: the student stays as it was
        import shutil

        log.warning("set '%s' is empty: the student is the untrained model", set)
        shutil.copytree(model, out)
        write_jsonl(out / "train_set.jsonl", [])
        return {"train_items": 0.0, "steps": 0.0}
    rows = st.sft_rows(items, cfg["prompts"]["student"])
    s = cfg["student"]
    summary = train(
        "sft", model, rows, out, checkpoints, trainer_args=s["trainer"], optimizer=s["optimizer"],
        seed=cfg["suite"]["seed"], tracker=tracker,
    )  # fmt: skip
    write_jsonl(out / "train_set.jsonl", items)
    return {"train_items": float(len(items)), "steps": float(summary["steps"])}


def score(
    cfg: dict,
    tracker: Tracker,
    *,
    student: str,
    set: str,
    model: Path,
    test: Path,
    result: Path,
    predictions: Path,
) -> dict:
    """In-distribution accuracy (rounds at the evaluation temperature) and the second family's
    accuracy (forgetting) of one student on one set (`base`: untrained)."""
    import numpy as np

    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_json, write_jsonl
    from reprolab.papers.acqsynth import student as st

    ev = cfg["evaluate"]
    items = read_jsonl(test)
    backend = get_backend(ev["backend"], str(model), **ev.get("backend_options", {}))
    with _sandbox(cfg) as box:
        correct = st.accuracy(
            backend, items, {**ev, "system": cfg["prompts"]["student"]}, cfg["suite"]["seed"], box
        )
    family = cfg["data"]["family"]
    rows = [
        {"id": i["id"], "family": i["family"], "correct": c}
        for i, c in zip(items, correct, strict=True)
    ]
    own = [r["correct"] for r in rows if r["family"] == family]
    other = [r["correct"] for r in rows if r["family"] != family]
    scored = {
        "accuracy": float(np.mean(own)) if own else math.nan,
        "forgetting_family_accuracy": float(np.mean(other)) if other else math.nan,
        "n_test": float(len(own)),
    }
    write_jsonl(predictions, rows)
    write_json(result, scored)
    log.info("%s/%s: %s", student, set, scored)
    return {k: v for k, v in scored.items() if not math.isnan(v)}


# --- joining --------------------------------------------------------------------------------


def metrics(
    cfg: dict,
    tracker: Tracker,
    *,
    evals: list[Path],
    predictions: list[Path],
    stats: list[Path],
    rewards: list[Path],
    metrics: Path,
) -> Published:
    from reprolab.papers.acqsynth.summary import summarize

    return summarize(cfg, evals, predictions, stats, rewards)


def plot(
    cfg: dict, tracker: Tracker, *, predictions: list[Path], rewards: list[Path], figures: Path
) -> list[Path]:
    from reprolab.papers.acqsynth import plot as draw
    from reprolab.papers.acqsynth.summary import load_predictions

    by = load_predictions(predictions)
    primary = cfg["student"]["model"]
    return [
        draw.accuracy(by, primary, cfg, figures / "accuracy.png"),
        draw.forgetting(by, primary, cfg, figures / "forgetting.png"),
        draw.transfer(by, cfg, figures / "transfer.png"),
        draw.reward_curves(rewards, figures / "reward_curves.png"),
    ]


STEPS = [
    Step("data", data, "seed items (train, valid) and the control's procedural pool",
         outputs=("seeds", "pool"), reads=("data",), sections=train_data),
    Step("data_test", data_test, "test items: the target family and the forgetting family",
         outputs=("test",), reads=("data",)),
    Step("train_format", train_format, "SFT of the generator on the tag format (tiny, smoke)",
         inputs=("seeds", "model"), outputs=("out",), params=("checkpoints",),
         reads=("generator", "prompts", "data"), sections=warm_section, kind="train"),
    Step("train_generator", train_generator, "GRPO of the generator with one acquisition reward",
         wildcards=("acquisition",), inputs=("seeds", "model", "student"),
         outputs=("out", "rewards"), params=("checkpoints",),
         reads=("generator", "acquisition", "prompts", "embedding", "data"),
         sections=one_acquisition, kind="train"),
    Step("generate", generate, "synthesise N parseable items and pseudo-label them",
         wildcards=("source",), inputs=("generator", "seeds", "labeler"),
         outputs=("synth", "stats"),
         reads=("synthesis", "labels", "student", "prompts", "embedding", "data", "sandbox",
                "generator"),
         kind="generate"),
    Step("score_acquisition", score_acquisition, "a pool's acquisition values on the student",
         wildcards=("pool",), inputs=("candidates", "seeds", "student"), outputs=("scores",),
         reads=("acquisition", "baselines", "control", "prompts", "embedding"), kind="generate"),
    Step("train_student", train_student, "SFT of one student on one set",
         wildcards=("student", "set"), inputs=("data", "model"), outputs=("out",),
         params=("checkpoints",), reads=("student", "control", "prompts", "data"),
         sections=one_student, describes=student_settings, kind="train"),
    Step("score", score, "accuracy of one student (in-distribution and forgetting family)",
         wildcards=("student", "set"), inputs=("model", "test"),
         outputs=("result", "predictions"),
         reads=("evaluate", "prompts", "data", "sandbox", "student"), kind="generate"),
    Step("metrics", metrics, "join the scores into metrics.json and units.json",
         inputs=("evals", "predictions", "stats", "rewards"), outputs=("metrics",),
         reads=("student", "generator", "baselines", "control", "transfer", "data")),
    Step("plot", plot, "draw the figures", inputs=("predictions", "rewards"),
         params=("figures",),
         reads=("student", "generator", "baselines", "control", "transfer", "data")),
]  # fmt: skip

"""psibench's steps: data (reference sessions), data_controls (the controls), run (simulated
sessions of one patient model, both frameworks in lockstep), score (per-turn labels: stand-ins
and the judge), metrics, plot."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["valence_trajectories", "mtld_distributions", "verbosity", "score_table"]
PRIMARY = "primary"  # units alias of the first configured patient model's systems


def models(cfg: dict) -> list[str]:
    """The patient models, in config order."""
    return list(cfg["simulation"]["models"])


def judge_models(cfg: dict) -> list[str]:
    return sorted({cfg["judge"]["models"]["valence"], cfg["judge"]["models"]["ptc"]})


def data(cfg: dict, tracker: Tracker, *, sessions: Path) -> dict:
    """The reference sessions (the "real" side; the simulators play their profiles). The
    held-out sessions are read by data_controls: growing them reruns no simulation."""
    from reprolab.io import write_jsonl
    from reprolab.papers.psibench import data as d

    ref = d.split_sessions(cfg["data"], cfg["suite"]["seed"], "reference")
    write_jsonl(sessions, ref)
    log.info("%d reference sessions", len(ref))
    return {"reference_sessions": len(ref)}


def data_controls(cfg: dict, tracker: Tracker, *, controls: Path) -> dict:
    """The controls from the held-out sessions: a job of its own that reads the held-out split
    itself, so that more held-out sessions or a control setting rerun no simulation (`run`
    reads the reference sessions only). Held-out slot k is the k-th held-out session."""
    from reprolab.io import write_jsonl
    from reprolab.papers.psibench import data as d

    held = d.split_sessions(cfg["data"], cfg["suite"]["seed"], "heldout")
    mtld = {
        "threshold": cfg["metrics"]["mtld_threshold"],
        "min_tokens": cfg["metrics"]["mtld_min_tokens"],
    }
    seed = cfg["suite"]["seed"]
    made = d.controls(held, cfg["controls"], cfg["labels"]["ptc_proxy"], seed, mtld)
    write_jsonl(controls, made)
    log.info("%d control sessions from %d held-out ones", len(made), len(held))
    return {"heldout_sessions": len(held), "control_sessions": len(made)}


def _prompts(cfg: dict) -> dict:
    """The simulators' and judges' prompts: the config's, with the pieces the config names
    read from the authors' repository at its pinned commit (full scale)."""
    prompts = dict(cfg["prompts"]["text"])
    up = cfg["prompts"].get("upstream")
    if up:
        from reprolab.papers.psibench import upstream

        styles = upstream.source(
            up["repo"],
            up["commit"],
            up["styles"]["path"],
            up.get("base", "https://raw.githubusercontent.com"),
        )
        prompts["styles"] = upstream.constant(styles, up["styles"]["name"])
        rubric = upstream.source(
            up["repo"],
            up["commit"],
            up["ptc_rubric"]["path"],
            up.get("base", "https://raw.githubusercontent.com"),
        )
        prompts["ptc_rubric"] = upstream.function_strings(rubric, up["ptc_rubric"]["function"])[0]
    return prompts


def run(
    cfg: dict,
    tracker: Tracker,
    *,
    patient_model: str,
    data: Path,
    patient: Path,
    therapist: Path,
    sessions: Path,
    episodes: Path,
) -> dict:
    from reprolab.episodes import backend_handlers
    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.psibench.simulate import simulate

    sim = cfg["simulation"]
    reference = [s for s in read_jsonl(data) if s["split"] == "reference"]
    options = sim.get("backend_options", {})
    backend = get_backend(sim["backend"], str(patient), **options)
    handlers = backend_handlers(backend)
    same = Path(patient).resolve() == Path(therapist).resolve()
    if not same:
        other = get_backend(sim["backend"], str(therapist), **options)
        handlers["generate_therapist"] = lambda payloads, params: other.generate(payloads, params)
    settings = {**sim, "seed": cfg["suite"]["seed"]}
    rows = simulate(reference, patient_model, handlers, settings, _prompts(cfg), episodes, same)
    write_jsonl(sessions, rows)
    patient_msgs = [m for r in rows for m in r["messages"] if m["role"] == "assistant"]
    empty = sum(not m["content"].strip() for m in patient_msgs)
    return {"sessions": len(rows), "patient_turns": len(patient_msgs), "empty_replies": empty}


def _systems(sessions: list[Path]) -> dict[str, list[dict]]:
    """Every system's sessions: real (reference), control_<x>, <framework>-<model>."""
    from reprolab.io import read_jsonl

    by: dict[str, list[dict]] = {}
    for path in sessions:
        for row in read_jsonl(path):
            if "system" in row:
                name = row["system"]
            elif row.get("split") == "reference":
                name = "real"
            else:
                continue
            by.setdefault(name, []).append(row)
    return by


def score(
    cfg: dict,
    tracker: Tracker,
    *,
    sessions: list[Path],
    judges: list[Path],
    labels: Path,
    judge: Path,
) -> dict:
    """Per-turn labels of every system's patient turns: the stand-ins always; the LLM judge on
    the systems `judge.systems` names (failures kept as null, counted)."""
    from reprolab.inference import SamplingParams, get_backend
    from reprolab.io import write_json, write_jsonl
    from reprolab.judge import Judge
    from reprolab.papers.psibench import data as d
    from reprolab.papers.psibench import labels as lab

    by = _systems(sessions)
    rows, report = [], {}
    for system, items in sorted(by.items()):
        msgs = {s["id"]: d.patient_messages(s) for s in items}
        for sid, lbl in lab.stand_in_labels(msgs, cfg["labels"]["ptc_proxy"]).items():
            rows.append({"system": system, "id": sid, **lbl})
    jcfg = cfg["judge"]
    prompts = _prompts(cfg)
    by_path = {p.name: p for p in judges}
    for task, label_set, context in (
        ("valence", ("negative", "neutral", "positive"), jcfg["context"]["valence"]),
        ("ptc", ("P", "T", "C", "F"), jcfg["context"]["ptc"]),
    ):
        backend = get_backend(
            jcfg["backend"], str(by_path[jcfg["models"][task]]), **jcfg.get("backend_options", {})
        )
        params = SamplingParams(
            jcfg["max_new_tokens"], jcfg["temperature"], 1.0, cfg["suite"]["seed"]
        )
        judge_ = Judge(backend, label_set, jcfg["scoring"], balance=jcfg["balance"], params=params)
        wanted = [r for r in rows if r["system"] in jcfg["systems"]]
        if jcfg.get("sessions"):  # the first n sessions of each judged system (tiny's budget)
            firsts = {}
            for r in wanted:
                firsts.setdefault(r["system"], []).append(r)
            wanted = [r for part in firsts.values() for r in part[: jcfg["sessions"]]]
        items, owners = [], []
        for r in wanted:
            session = next(s for s in by[r["system"]] if s["id"] == r["id"])
            turn_items = lab.judge_items(session, context)[: len(r[task])]
            items += turn_items
            owners += [(r, k) for k in range(len(turn_items))]
        verdicts = (
            judge_.judge(items, lab.render(prompts[f"{task}_rubric"], label_set)) if items else []
        )
        for r in wanted:
            r[f"judge_{task}"] = [None] * len(r[task])
        for (r, k), v in zip(owners, verdicts, strict=True):
            r[f"judge_{task}"][k] = v.label
        stand = [r[task][k] for r, k in owners]
        judged = [v.label for v in verdicts]
        report[task] = {
            **judge_.report().as_metrics(f"judge.{task}"),
            f"judge.{task}.kappa_vs_stand_in": lab.cohen_kappa(stand, judged),
            f"judge.{task}.agreement_vs_stand_in": (
                sum(a == b for a, b in zip(stand, judged, strict=True) if b is not None)
                / max(1, sum(b is not None for b in judged))
            ),
        }
        del backend
    write_jsonl(labels, rows)
    flat = {k: v for part in report.values() for k, v in part.items()}
    write_json(judge, flat)
    return {k: v for k, v in flat.items() if isinstance(v, float) and not math.isnan(v)}


def metrics(
    cfg: dict,
    tracker: Tracker,
    *,
    sessions: list[Path],
    labels: Path,
    judge: Path,
    metrics: Path,
) -> Published:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.psibench.summary import summarize

    return summarize(cfg, _systems(sessions), read_jsonl(labels), read_json(judge))


def plot(
    cfg: dict,
    tracker: Tracker,
    *,
    sessions: list[Path],
    labels: Path,
    metrics: Path,
    figures: Path,
) -> list[Path]:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.psibench import plot as draw

    by = _systems(sessions)
    rows = read_jsonl(labels)
    values = read_json(metrics)
    return [
        draw.valence_trajectories(by, rows, cfg, figures / "valence_trajectories.png"),
        draw.mtld_distributions(by, cfg, figures / "mtld_distributions.png"),
        draw.verbosity(by, cfg, figures / "verbosity.png"),
        draw.score_table(values, figures / "score_table.png"),
    ]


STEPS = [
    Step("data", data, "reference sessions (shipped, not clinical; Eeyore at full)",
         outputs=("sessions",), reads=("data",)),
    Step("data_controls", data_controls, "the null and planted controls from the held-out sessions",
         outputs=("controls",), reads=("data", "controls", "labels", "metrics")),
    Step("run", run, "simulate both frameworks' sessions for one patient model in lockstep",
         wildcards=("patient_model",), inputs=("data", "patient", "therapist"),
         outputs=("sessions", "episodes"), reads=("simulation", "prompts"), kind="generate"),
    Step("score", score, "per-turn valence and PTC labels: stand-ins and the LLM judge",
         inputs=("sessions", "judges"), outputs=("labels", "judge"),
         reads=("labels", "judge", "prompts"), kind="generate"),
    Step("metrics", metrics, "PSI-Bench scores per system, controls, units.json",
         inputs=("sessions", "labels", "judge"), outputs=("metrics",),
         reads=("metrics", "labels", "simulation")),
    Step("plot", plot, "draw the figures", inputs=("sessions", "labels", "metrics"),
         params=("figures",), reads=("metrics", "labels", "simulation")),
]  # fmt: skip

"""metrics.json and units.json of psibench: every system's scores against the reference
sessions, the controls' detections, the judge's agreement with the stand-ins."""

from __future__ import annotations

import math

import numpy as np

from reprolab.evidence import Units
from reprolab.papers.psibench import evaluate as ev
from reprolab.papers.psibench import statistics as st
from reprolab.papers.psibench.data import patient_messages
from reprolab.steps import Published

# The metric(s) each planted control must lower; every other score must stay.
MATCHING = {
    "verbose": ("verbosity",),
    "diverse": ("mtld",),
    "trajectory": ("valence", "ptc"),
    "low_variability": ("mtld_sd",),
}
QUANTITIES = ("valence", "ptc", "words", "wps", "mtld", "markers", "first_positive")


def _labels_of(rows: list[dict], primary: str) -> dict[tuple[str, str], dict]:
    out = {}
    for r in rows:
        if primary == "judge":
            lbl = {"valence": r.get("judge_valence", []), "ptc": r.get("judge_ptc", [])}
        else:
            lbl = {"valence": r["valence"], "ptc": r["ptc"]}
        out[(r["system"], r["id"])] = lbl
    return out


def summarize(
    cfg: dict, by: dict[str, list[dict]], label_rows: list[dict], judge: dict
) -> Published:
    mcfg = cfg["metrics"]
    labels = _labels_of(label_rows, cfg["labels"]["primary"])
    reference_ids = [s["id"] for s in by["real"]]
    packs = {}
    for system, sessions in by.items():
        msgs = [patient_messages(s, mcfg["max_turns"]) for s in sessions]
        lbls = [labels[(system, s["id"])] for s in sessions]
        packs[system] = (msgs, lbls)
    metrics: dict[str, float] = {}
    real = packs["real"]
    for k, v in ev.describe(*real, mcfg).items():
        metrics[f"real.{k}"] = v
    scored: dict[str, dict] = {}
    for system, pack in packs.items():
        if system == "real":
            continue
        scored[system] = {
            **ev.scores(real, pack, mcfg),
            **{f"d.{k}": v for k, v in ev.describe(*pack, mcfg).items()},
        }
    ev.mtld_scores(scored)
    ev.with_aggregate(scored, mcfg["weights"])
    for system, values in scored.items():
        for k, v in values.items():
            metrics[f"{system}.{k.removeprefix('d.')}"] = v
    ranking = sorted(scored, key=lambda s: -scored[s]["aggregate"])
    if "control_replay" in scored:
        metrics["control_replay.rank"] = float(ranking.index("control_replay") + 1)
        metrics["systems"] = float(len(scored))
        best = max(v["aggregate"] for k, v in scored.items() if k != "control_replay")
        metrics["control_replay.lead"] = scored["control_replay"]["aggregate"] - best
    replay = scored.get("control_replay")
    for name, matching in MATCHING.items():
        control = scored.get(f"control_{name}")
        if control is None or replay is None:
            continue
        others = [k for k in ev.SCORES if k not in matching]
        drops = {k: replay[k] - control[k] for k in ev.SCORES}
        metrics[f"control_{name}.offtarget_max_drop"] = max(drops[k] for k in others)
        for k in matching:
            if k in drops:
                metrics[f"control_{name}.{k}_drop"] = drops[k]
    sims = [s for s in scored if not s.startswith("control_")]
    models = list(cfg["simulation"]["models"])
    metrics["n_models"] = float(len(models))
    metrics["n_frameworks"] = float(len(cfg["simulation"]["frameworks"]))
    if sims:
        metrics["simulators.aggregate_mean"] = float(
            np.mean([scored[s]["aggregate"] for s in sims])
        )
    for k, v in judge.items():
        metrics[k] = float(v)
    metrics.update(_framework_vs_model(scored, cfg))
    units = _units(packs, reference_ids, mcfg, cfg)
    primary = [f"primary.{f}" for f in cfg["simulation"]["frameworks"]]
    if all(f"{p}.words" in units.samples for p in primary):
        arrays = {
            q: [np.asarray(units.samples[f"{p}.{q}"].values) for p in primary]
            for q in ("words", "mtld", "first_positive")
        }
        rw = np.asarray(units.samples["real.words"].values)
        rm = np.asarray(units.samples["real.mtld"].values)
        rf = np.asarray(units.samples["real.first_positive"].values)
        metrics["primary.mtld_sessions"] = float(min(int((a >= 0).sum()) for a in arrays["mtld"]))
        metrics["primary.words_ratio"] = st.words_ratio(rw, *arrays["words"])
        metrics["primary.mtld_diff"] = st.mtld_diff(rm, *arrays["mtld"])
        metrics["primary.mtld_sd_ratio"] = st.mtld_sd_ratio_sims(rm, *arrays["mtld"])
        metrics["primary.first_positive_diff"] = st.first_positive_diff(
            rf, *arrays["first_positive"]
        )
    clean = {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not (isinstance(v, float) and math.isinf(v))
    }
    return Published(clean, units)


def _framework_vs_model(scored: dict, cfg: dict) -> dict[str, float]:
    """[recon] With two or more models: the mean over models of the framework gap |agg(PS, m) -
    agg(RD, m)| minus the mean over frameworks of the spread across models (mean absolute
    deviation of agg(f, m) from its framework mean)."""
    models = list(cfg["simulation"]["models"])
    frameworks = list(cfg["simulation"]["frameworks"])
    if len(models) < 2 or len(frameworks) < 2:
        return {}
    agg = {
        (f, m): scored[f"{f}-{m}"]["aggregate"]
        for f in frameworks
        for m in models
        if f"{f}-{m}" in scored
    }
    gap = np.mean([abs(agg[(frameworks[0], m)] - agg[(frameworks[1], m)]) for m in models])
    spread = np.mean(
        [
            np.mean([abs(agg[(f, m)] - np.mean([agg[(f, x)] for x in models])) for m in models])
            for f in frameworks
        ]
    )
    return {"framework_gap": float(gap), "model_spread": float(spread)}


def _units(packs: dict, reference_ids: list[str], mcfg: dict, cfg: dict) -> Units:
    """Per-session rows of every system (see statistics.py): the reference sessions and the
    sessions simulated from their profiles on "reference session" k (paired), the controls on
    "held-out session" k (each control paired with the replay of the same session); the two
    samples are independent and drawn apart."""
    units = Units()
    primary_model = cfg["simulation"]["models"][0]
    for system, (msgs, lbls) in sorted(packs.items()):
        rows = [ev.session_units(m, lbl, mcfg) for m, lbl in zip(msgs, lbls, strict=True)]
        ids = list(range(len(rows)))  # the order of the reference or held-out sessions
        unit = "held-out session" if system.startswith("control_") else "reference session"
        names = [system]
        if system.endswith(f"-{primary_model}") and not system.startswith("control_"):
            names.append(f"primary.{system.split('-', 1)[0]}")
        for name in names:
            for q in QUANTITIES:
                units.add(f"{name}.{q}", unit, ids, [r[q] for r in rows])
    return units

"""metrics.json and units.json of atod: ATOD-Eval on the gold dialogues (dataset statistics) and
on every evaluator's reconstruction (per dialogue), with long and short dialogues apart (long:
the whole dialogue is longer than the judge's window) and by goal count."""

from __future__ import annotations

import math

import numpy as np

from reprolab.evidence import Units
from reprolab.papers.atod import atod_eval as ev
from reprolab.papers.atod import lifecycle as lc
from reprolab.stats import kendall_tau
from reprolab.steps import Published

PER_DIALOGUE = (
    "status_accuracy",
    "detection_f1",
    "dependency_f1",
    "mra",
    "tokens_per_turn",
    "turn_seconds",
    "dgcr",
)


def quality_metrics(dialogues: list[dict]) -> dict[str, float]:
    """ATOD-Eval's quality of the set where the judge rated it (full scale; else nothing):
    mean turn-level and dialogue-level quality in [0, 1] over the rated dialogues."""
    rated = [d["quality"] for d in dialogues if d.get("quality")]
    if not rated:
        return {}
    out = {}
    for key in ("turn_quality", "dialogue_quality"):
        values = [q[key] for q in rated if q[key] is not None]
        out[f"data.{key}"] = float(np.mean(values)) if values else float("nan")
        out[f"data.{key}_rated"] = float(len(values))
    return out


def dataset_metrics(dialogues: list[dict]) -> dict[str, float]:
    """The generated set's own ATOD-Eval numbers (gold labels)."""
    goals = [g for d in dialogues for g in d["goal_list"]]
    c, n = ev.dgcr_counts(goals)
    s, k = ev.ntc_counts(goals)
    pes = [ev.pe(d) for d in dialogues]
    pes = [p for p in pes if not math.isnan(p)]
    illegal = 0
    for g in goals:
        try:
            lc.check_history(g["status_history"])
        except ValueError:
            illegal += 1
    return {
        **quality_metrics(dialogues),
        "data.n_dialogues": float(len(dialogues)),
        "data.complex_share": float(
            np.mean([d["complexity_class"] == "complex" for d in dialogues])
        ),
        "data.goals_mean": float(np.mean([d["n_goals"] for d in dialogues])),
        "data.turns_mean": float(np.mean([len(d["turns"]) for d in dialogues])),
        "data.dependencies": float(sum(d["n_dependencies"] for d in dialogues)),
        "data.dgcr": ev.ratio(c, n),
        "data.ntc": ev.ratio(s, k),
        "data.pe": float(np.mean(pes)) if pes else float("nan"),
        "data.proactive_turns": float(sum(len(ev.proactive_turns(d)) for d in dialogues)),
        "data.illegal_transitions": float(illegal),
        "data.abandoned_share": ev.ratio(
            sum(g["status"] == lc.ABANDONED for g in goals), len(goals)
        ),
    }


def dialogue_scores(result: dict, dialogue: dict, seconds: float) -> dict[str, float]:
    """One evaluator's ATOD-Eval numbers on one dialogue."""
    gold = dialogue["goal_list"]
    pred_intents = [g["intent"] for g in result["final"]]
    tp, fp, fn = ev.detection_counts(pred_intents, [g["intent"] for g in gold])
    held = {}
    for g in result["final"]:
        held.setdefault(g["intent"], g["status"])
    pe_goals = [{"id": g["intent"], "intent": g["intent"], **g} for g in result["final"]]
    etp, efp, efn = ev.edge_counts(ev.edges(pe_goals), ev.edges(gold))
    c, n = ev.dgcr_counts(result["final"])
    turns = max(1, result["n_turns"])
    return {
        "status_accuracy": ev.status_accuracy(held, gold),
        "detection_f1": ev.prf(tp, fp, fn)[2],
        "det_tp": tp,
        "det_fp": fp,
        "det_fn": fn,
        "dependency_f1": ev.prf(etp, efp, efn)[2] if (etp + efp + efn) else float("nan"),
        "dep_tp": etp,
        "dep_fp": efp,
        "dep_fn": efn,
        "mra": ev.mra(result["checkpoints"]),
        "tokens_per_turn": result["tokens"] / turns,
        "turn_seconds": seconds / turns,
        "dgcr": ev.ratio(c, n),
    }


def summarize(
    dialogues: list[dict], results: dict[str, list[dict]], seconds: dict[str, dict], long: set
) -> Published:
    """`results`: system -> per-dialogue results; `seconds`: system -> dialogue -> model seconds;
    `long`: the dialogue ids longer than the judge's window."""
    by_id = {d["dialogue_id"]: d for d in dialogues}
    metrics = dataset_metrics(dialogues)
    metrics["data.long_dialogues"] = float(len(long))
    gold_dgcr = {}
    for d in dialogues:
        c, n = ev.dgcr_counts(d["goal_list"])
        gold_dgcr[d["dialogue_id"]] = ev.ratio(c, n)
    units = Units()
    pairs = []  # (mra, dGCR agreement) over systems and dialogues
    for system, rows in sorted(results.items()):
        scores = {
            r["dialogue_id"]: dialogue_scores(
                r, by_id[r["dialogue_id"]], seconds.get(system, {}).get(r["dialogue_id"], 0.0)
            )
            for r in rows
        }
        ids = sorted(scores)
        for q in PER_DIALOGUE:
            vals = [scores[i][q] for i in ids]
            keep = [(i, v) for i, v in zip(ids, vals, strict=True) if not math.isnan(v)]
            if keep:
                units.add(f"{system}.{q}", "dialogue", [i for i, _ in keep], [v for _, v in keep])
                metrics[f"{system}.{q}"] = float(np.mean([v for _, v in keep]))
            for part, chosen in (("long", long), ("short", set(ids) - long)):
                sub = [(i, v) for i, v in keep if i in chosen]
                if sub and q in ("status_accuracy", "detection_f1", "mra"):
                    units.add(
                        f"{system}.{q}.{part}", "dialogue", *map(list, zip(*sub, strict=True))
                    )
                    metrics[f"{system}.{q}.{part}"] = float(np.mean([v for _, v in sub]))
            cx = [(i, v) for i, v in keep if by_id[i]["complexity_class"] == "complex"]
            if cx and q in ("status_accuracy", "detection_f1"):
                units.add(f"{system}.{q}.complex", "dialogue", *map(list, zip(*cx, strict=True)))
                metrics[f"{system}.{q}.complex"] = float(np.mean([v for _, v in cx]))
        tp, fp, fn = (sum(scores[i][k] for i in ids) for k in ("det_tp", "det_fp", "det_fn"))
        p, r, f = ev.prf(tp, fp, fn)
        metrics |= {f"{system}.detection_precision": p, f"{system}.detection_recall": r}
        metrics[f"{system}.detection_f1_pooled"] = f
        tp, fp, fn = (sum(scores[i][k] for i in ids) for k in ("dep_tp", "dep_fp", "dep_fn"))
        p, r, f = ev.prf(tp, fp, fn)
        metrics |= {f"{system}.dependency_precision": p, f"{system}.dependency_recall": r}
        metrics[f"{system}.dependency_f1_pooled"] = f
        for n_goals in sorted({by_id[i]["n_goals"] for i in ids}):
            sub = [scores[i]["status_accuracy"] for i in ids if by_id[i]["n_goals"] == n_goals]
            metrics[f"{system}.status_accuracy.goals_{n_goals}"] = float(np.mean(sub))
        for i in ids:
            values = (scores[i]["mra"], scores[i]["dgcr"], gold_dgcr[i])
            if not any(math.isnan(v) for v in values):
                pairs.append((scores[i]["mra"], 1 - abs(scores[i]["dgcr"] - gold_dgcr[i])))
    if len(pairs) >= 3:
        x, y = zip(*pairs, strict=True)
        metrics["corr.mra_dgcr_agreement_tau"] = kendall_tau(list(x), list(y))
    clean = {k: float(v) for k, v in metrics.items() if not math.isnan(float(v))}
    return Published(clean, units)

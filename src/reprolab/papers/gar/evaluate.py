"""The paper's measurements from the generation traces.

GAR trend (Kendall tau of the per-turn mean against the turn, Mann-Kendall), recall against
turn with and without closure, predicted against observed crossover over the window sweep and
the linear fits, probe AUC per layer, persona violation rates.
"""

from __future__ import annotations

import logging
import math
import re
import zlib
from collections import defaultdict

import numpy as np

from reprolab.papers.gar.mask import crossover_turn
from reprolab.papers.gar.probe import layer_folds, permutation_null, probe_auc_per_layer
from reprolab.stats import kendall_tau, linear_fit, mann_kendall, roc_auc

log = logging.getLogger(__name__)

NAN = float("nan")
TREND = ("gar_tau", "gar_mk_p", "gar_norm_tau", "gar_drop")


def recalled(response: str, answer: str) -> bool:
    """A probe is answered when its number appears in the reply as a whole number."""
    return re.search(rf"(?<!\d){re.escape(answer)}(?!\d)", response) is not None


PERSONA_CHECKS = {
    "opener": lambda text: re.match(r"^\W*ahoy\b", text, re.IGNORECASE) is not None,
    "sign_off": lambda text: re.search(r"\baye\b\W*$", text, re.IGNORECASE) is not None,
    "banned_word": lambda text: re.search(r"\bvery\b", text, re.IGNORECASE) is None,
    "word_cap": lambda text: len(text.split()) <= 25,
    "no_exclamation": lambda text: "!" not in text,
    "sea": lambda text: re.search(r"\bsea", text, re.IGNORECASE) is not None,
    "matey": lambda text: re.search(r"\bmatey\b", text, re.IGNORECASE) is not None,
    "no_digits": lambda text: re.search(r"\d", text) is None,
    "arr": lambda text: re.search(r"\barr+\b", text, re.IGNORECASE) is not None,
    "parrot": lambda text: re.search(r"\bparrot", text, re.IGNORECASE) is not None,
    # The policy task's (data.POLICY_RULES).
    "contact_email": lambda text: "help@acme.example" in text.lower(),
    "no_competitors": lambda text: (
        re.search(
            r"\b(zenith|northbank|coastal trust|chase|barclays|hsbc|wells fargo)\b",
            text,
            re.IGNORECASE,
        )
        is None
    ),
    "no_investment_tips": lambda text: (
        re.search(r"\b(invest in|buy|put (your|it) (money|savings) in)\b", text, re.IGNORECASE)
        is None
    ),
    "no_rates": lambda text: (
        re.search(r"\d+(\.\d+)?\s*(%|percent|per cent)|[$£€]\s*\d", text) is None
    ),
}


def violations(text: str, rules: list[str]) -> dict[str, bool]:
    """rule -> True when the reply breaks it."""
    unknown = set(rules) - set(PERSONA_CHECKS)
    if unknown:
        raise ValueError(f"persona rules without a check: {sorted(unknown)}")
    return {rule: not PERSONA_CHECKS[rule](text) for rule in rules}


def episode_crossover(row: dict) -> int | None:
    """The predicted crossover turn of one traced episode: the first turn whose reply can see
    no closed token (the goal under a window; the random span, once complete, under the
    random-span control). None: full attention, or the channel never closes."""
    span = row.get("span")
    if row["window"] is not None:
        closed_end, width = row["goal_end"], row["window"]
    elif span and row.get("span_window") and len(span) == row["span_length"]:
        closed_end, width = max(span), row["span_window"]
    else:
        return None
    return crossover_turn([t["response_start"] for t in row["turns"]], closed_end, width)


def _mean(values) -> float:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(values)) if values else NAN


def gar_trend(rows: list[dict]) -> dict:
    """Per-turn mean GAR (raw and normalised), its Kendall tau with the turn, Mann-Kendall p."""
    n_turns = len(rows[0]["turns"])
    turns = list(range(1, n_turns + 1))
    raw = [_mean(r["turns"][t - 1]["gar"] for r in rows) for t in turns]
    norm = [_mean(r["turns"][t - 1]["gar_norm"] for r in rows) for t in turns]
    finite = [(t, v) for t, v in zip(turns, norm, strict=True) if not math.isnan(v)]
    return {
        "turns": turns,
        "gar": raw,
        "gar_norm": norm,
        "gar_tau": kendall_tau(turns, raw),
        "gar_mk_p": mann_kendall(raw)["p"],
        "gar_norm_tau": kendall_tau(*zip(*finite, strict=True)) if len(finite) > 1 else NAN,
        "gar_drop": 1.0 - raw[-1] / raw[0] if raw[0] > 0 else NAN,
    }


def probe_table(rows: list[dict]) -> dict[tuple[str, int], bool]:
    """(episode, turn) -> recalled, over the probe turns of rows of one condition."""
    return {
        (r["episode"], t["turn"]): recalled(t["response"], t["answer"])
        for r in rows
        for t in r["turns"]
        if t.get("kind") == "probe"
    }


def copyable(row: dict) -> dict[tuple[str, int], bool]:
    """(episode, turn) -> the probe's number already stands in an earlier reply of the episode
    that the reply's first token can see (within the row's window; any earlier reply without
    one). A probe answered so may be a copy, not a read of the goal: at tiny every answer after
    the crossover was one (the card)."""
    out = {}
    for i, turn in enumerate(row["turns"]):
        if turn.get("kind") != "probe":
            continue
        out[(row["episode"], turn["turn"])] = any(
            recalled(earlier["response"], turn["answer"])
            and (
                row["window"] is None
                or turn["response_start"] - (earlier["response_start"] + earlier["n_tokens"] - 1)
                < row["window"]
            )
            for earlier in row["turns"][:i]
        )
    return out


def recall_by_turn(table: dict[tuple[str, int], bool]) -> dict[int, float]:
    by_turn: dict[int, list[bool]] = defaultdict(list)
    for (_, turn), ok in table.items():
        by_turn[turn].append(ok)
    return {turn: float(np.mean(v)) for turn, v in sorted(by_turn.items())}


def observed_crossover(recall: dict[int, float], reference: float, fraction: float) -> float:
    """The first probe turn from which recall stays at or below fraction x the reference [recon].

    The reference is the full-attention recall over all probe turns; NaN when recall never
    settles below the threshold.
    """
    turns = sorted(recall)
    for i, turn in enumerate(turns):
        if all(recall[t] <= fraction * reference for t in turns[i:]):
            return float(turn)
    return NAN


def fact_task(rows: list[dict], settings: dict) -> tuple[dict, dict]:
    """Metrics and the figure data of one fact task over its conditions."""
    by_condition: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_condition[row["condition"]].append(row)
    if settings["reference"] not in by_condition:
        raise ValueError(f"no '{settings['reference']}' condition among {sorted(by_condition)}")
    tables = {c: probe_table(r) for c, r in by_condition.items()}
    full = tables[settings["reference"]]
    full_recall = _mean(full.values())
    main = by_condition.get(settings["main_closure"], [])
    main_cross = {r["episode"]: episode_crossover(r) for r in main}
    metrics, summary = {}, {}
    for condition, cond_rows in by_condition.items():
        table = tables[condition]
        copies = {k: v for r in cond_rows for k, v in copyable(r).items()}
        trend = gar_trend(cond_rows)
        recall = recall_by_turn(table)
        half = len(cond_rows[0]["turns"]) / 2
        crosses = {r["episode"]: episode_crossover(r) for r in cond_rows}
        own_after = [k for k in table if crosses.get(k[0]) is not None and k[1] >= crosses[k[0]]]
        main_after = [
            k for k in table if main_cross.get(k[0]) is not None and k[1] >= main_cross[k[0]]
        ]
        gar_after = [
            t["gar"]
            for r in cond_rows
            if crosses[r["episode"]] is not None
            for t in r["turns"]
            if t["turn"] >= crosses[r["episode"]]
        ]
        crossed = [c for c in crosses.values() if c is not None]
        window = cond_rows[0]["window"]
        values = {
            "recall": _mean(table.values()),
            "recall_turn1": recall.get(1, NAN),
            "recall_early": _mean(v for (_, t), v in table.items() if t <= half),
            "recall_late": _mean(v for (_, t), v in table.items() if t > half),
            "recall_after": _mean(table[k] for k in own_after),
            "reference_recall_after": _mean(full.get(k) for k in own_after),
            # Beside recall_after: the share of those probes whose number could be copied from
            # an earlier reply in the window, and recall over the others (a read of the goal).
            "copyable_after": _mean(copies[k] for k in own_after),
            "recall_after_uncopyable": _mean(table[k] for k in own_after if not copies[k]),
            "recall_after_main": _mean(table[k] for k in main_after),
            "reference_recall_after_main": _mean(full.get(k) for k in main_after),
            "gar_after": _mean(gar_after),
            "predicted_cross": float(np.median(crossed)) if crossed else NAN,
            "crossed_fraction": len(crossed) / len(cond_rows),
            "observed_cross": observed_crossover(recall, full_recall, settings["collapse_fraction"])
            if window is not None
            else NAN,
            **{k: trend[k] for k in TREND},
        }
        metrics.update({f"{condition}.{k}": float(v) for k, v in values.items()})
        summary[condition] = {
            "window": window,
            "turns": trend["turns"],
            "gar": trend["gar"],
            "gar_norm": trend["gar_norm"],
            "recall": {str(t): v for t, v in recall.items()},
            **{k: values[k] for k in ("predicted_cross", "observed_cross")},
        }
    return metrics, summary


def reasked_facts(rows: list[dict]) -> list[str]:
    """Episodes that probe a fact more than once.

    A re-asked fact's earlier answer may still lie inside the window after the crossover, so a
    model can copy it instead of reading the goal: recall does not collapse at the crossover
    (seen in the issue-18 tiny run, 5 facts asked in turn every turn). The sweep's task asks
    each fact once.
    """
    episodes = []
    for row in rows:
        keys = [t["key"] for t in row["turns"] if t.get("kind") == "probe"]
        if len(keys) != len(set(keys)):
            episodes.append(row["episode"])
    return sorted(set(episodes))


def crossover_sweep(task_summary: dict, sweep: list[str]) -> tuple[dict, dict]:
    """Predicted and observed crossover against W over the sweep, with both linear fits."""
    windows = [task_summary[c]["window"] for c in sweep]
    predicted = [task_summary[c]["predicted_cross"] for c in sweep]
    observed = [task_summary[c]["observed_cross"] for c in sweep]
    ok = [i for i in range(len(sweep)) if not math.isnan(observed[i])]
    fit_p = linear_fit(windows, predicted)
    fit_o = linear_fit([windows[i] for i in ok], [observed[i] for i in ok])
    errors = [observed[i] - predicted[i] for i in ok]
    metrics = {
        "crossover.predicted_slope": fit_p["slope"],
        "crossover.predicted_r2": fit_p["r2"],
        "crossover.observed_slope": fit_o["slope"],
        "crossover.observed_r2": fit_o["r2"],
        "crossover.n_observed": float(len(ok)),
        "crossover.mae_turns": float(np.mean(np.abs(errors))) if errors else NAN,
        "crossover.signed_error": float(np.mean(errors)) if errors else NAN,
    }
    summary = {
        "windows": windows,
        "predicted": predicted,
        "observed": observed,
        "fit_predicted": fit_p,
        "fit_observed": fit_o,
    }
    return metrics, summary


def _fact_position(row: dict, key: str) -> int:
    """Where the probed fact stands in the goal (0 = first line)."""
    lines = row["goal"].split("\n")
    return next(i for i, line in enumerate(lines) if f" {key} " in f" {line} ")


def probe_records(rows: list[dict], hidden: dict, condition: str) -> list[dict]:
    """Per episode of one window condition: its residual state before the reply of its
    crossover turn (the first turn whose reply cannot see the goal), the label (that turn's
    probe is answered) and the design facts the label might follow instead: the crossover turn,
    the probes left from it on, the probed fact's place in the goal."""
    records = []
    for row in rows:
        if row["condition"] != condition:
            continue
        cross = episode_crossover(row)
        if cross is None:
            continue
        turn = row["turns"][cross - 1]
        if turn.get("kind") != "probe":
            raise ValueError(
                f"{row['episode']}: turn {cross} (the crossover) is not a probe; the probe "
                "task needs probe_every: 1"
            )
        key = f"{row['episode']}|{row['condition']}|{cross}"
        if key not in hidden:
            raise ValueError(f"no residual state kept for {key}; keep_hidden must list it")
        records.append(
            {
                "state": hidden[key],
                "label": recalled(turn["response"], turn["answer"]),
                "copyable": copyable(row)[(row["episode"], cross)],
                "cross": cross,
                "remaining": sum(t.get("kind") == "probe" for t in row["turns"][cross - 1 :]),
                "fact_position": _fact_position(row, turn["key"]),
                "condition": row["condition"],
            }
        )
    return records


NUISANCES = ("cross", "remaining", "fact_position", "condition")


def nuisance_auc(labels: np.ndarray, values) -> float:
    """How well a design fact alone separates the labels: AUC of its value, in whichever
    direction is better (so never below 0.5; a constant gives 0.5)."""
    codes = np.unique(np.asarray(values), return_inverse=True)[1].astype(float)
    auc = roc_auc(labels, codes)
    return float(max(auc, 1.0 - auc))


def probes(
    rows: list[dict], hidden: dict, settings: dict, seed: int = 0
) -> tuple[dict, dict, dict | None]:
    """Probe AUC per layer within one window condition, the nuisance baselines, and the peak's
    permutation null (None when the AUC is undefined).

    The null shuffles the labels `probe_permutations` times within strata of the crossover turn,
    so a probe that only read when the channel closed (and so how many probes remain) would not
    beat it.
    """
    records = probe_records(rows, hidden, settings["probe_condition"])
    states = np.array([r["state"] for r in records])
    labels = np.array([r["label"] for r in records], dtype=bool)
    copies = np.array([r["copyable"] for r in records], dtype=bool)
    metrics = {
        "probe.n": float(len(labels)),
        "probe.positives": float(labels.sum()),
        # Answered probes whose number was not in an earlier reply in the window (see copyable).
        "probe.positives_uncopyable": float((labels & ~copies).sum()),
        "probe.copyable": float(copies.mean()) if len(copies) else NAN,
    }
    nuisance = {}
    if len(labels) == 0:
        return metrics, {"layers": [], "auc": [], "nuisance": nuisance}, None
    if 0 < labels.sum() < len(labels):
        nuisance = {k: nuisance_auc(labels, [r[k] for r in records]) for k in NUISANCES}
        metrics.update({f"probe.nuisance.{k}": v for k, v in nuisance.items()})
    min_per_class = settings["probe_min_per_class"]
    defined = min(labels.sum(), (~labels).sum()) >= min_per_class
    folds = layer_folds(states, settings["probe_components"]) if defined else None
    aucs = probe_auc_per_layer(
        states, labels, settings["probe_components"], min_per_class, folds=folds
    )
    metrics.update({f"probe.auc.layer{i:02d}": a for i, a in enumerate(aucs)})
    finite = [(a, i) for i, a in enumerate(aucs) if not math.isnan(a)]
    above = [(a, i) for a, i in finite if i > 0]
    metrics["probe.auc_layer0"] = aucs[0]
    metrics["probe.auc_peak"] = max(above)[0] if above else NAN
    metrics["probe.peak_layer"] = float(max(above)[1]) if above else NAN
    if above and nuisance:
        metrics["probe.peak_minus_nuisance"] = metrics["probe.auc_peak"] - max(nuisance.values())
    null = None
    if above and len(above) == len(aucs) - 1:
        strata = [str(r["cross"]) for r in records]
        permutations = settings["probe_permutations"]
        rng = np.random.default_rng([seed, zlib.crc32(b"gar.probe.null")])
        draws = permutation_null(folds, labels, strata, aucs, permutations, rng)
        metrics["probe.null_q95"] = float(np.quantile(draws, 0.95))
        null = {
            "observed": metrics["probe.auc_peak"],
            "null": draws,
            "how": (
                f"peak LOO AUC over layers 1-{len(aucs) - 1} with the labels of {len(labels)} "
                f"episodes of {settings['probe_condition']} shuffled {permutations} times within "
                f"{len(set(strata))} strata of the crossover turn; seed "
                f"[{seed}, crc32('gar.probe.null')]"
            ),
        }
    summary = {"layers": list(range(len(aucs))), "auc": aucs, "nuisance": nuisance}
    return metrics, summary, null


def persona(rows: list[dict], task: str = "persona") -> tuple[dict, dict]:
    """Violation rates per condition (all turns, the late half, per rule) over the replies that
    ended on their own, and that share of replies: a reply cut at the token cap breaks a
    sign-off and may break a word cap by the cut alone, so it is not scored."""
    by_condition: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_condition[row["condition"]].append(row)
    metrics, summary = {}, {}
    for condition, cond_rows in by_condition.items():
        n_turns = len(cond_rows[0]["turns"])
        per_rule: dict[str, list[bool]] = defaultdict(list)
        late, per_turn, ended = [], defaultdict(list), []
        for row in cond_rows:
            for turn in row["turns"]:
                ended.append(bool(turn["ended"]))
                if not turn["ended"]:
                    continue
                broken = violations(turn["response"], row["rules"])
                for rule, bad in broken.items():
                    per_rule[rule].append(bad)
                    per_turn[turn["turn"]].append(bad)
                    if turn["turn"] > n_turns / 2:
                        late.append(bad)
        rates = {rule: float(np.mean(v)) for rule, v in per_rule.items()}
        crossed = [c for c in map(episode_crossover, cond_rows) if c is not None]
        every = [b for v in per_rule.values() for b in v]
        values = {
            "violation_rate": float(np.mean(every)) if every else NAN,
            "violation_rate_late": float(np.mean(late)) if late else NAN,
            "ended": float(np.mean(ended)),
            "reply_tokens": float(np.mean([t["n_tokens"] for r in cond_rows for t in r["turns"]])),
            "predicted_cross": float(np.median(crossed)) if crossed else NAN,
            **{f"violation.{rule}": r for rule, r in rates.items()},
            **gar_trend_flat(cond_rows),
        }
        metrics.update({f"{task}.{condition}.{k}": v for k, v in values.items()})
        summary[condition] = {
            "rules": rates,
            "violation_rate": values["violation_rate"],
            "violation_rate_late": values["violation_rate_late"],
            "ended": values["ended"],
            "per_turn": {str(t): float(np.mean(v)) for t, v in sorted(per_turn.items())},
        }
    return metrics, summary


def gar_trend_flat(rows: list[dict]) -> dict[str, float]:
    trend = gar_trend(rows)
    return {k: float(trend[k]) for k in TREND}


def evaluate(rows_by_task: dict[str, list[dict]], hidden: dict, settings: dict, seed: int = 0):
    """metrics.json (flat), the nested summary the figures read, and the per-unit evidence
    behind the claims (units.json; see units.py)."""
    from reprolab.evidence import Units
    from reprolab.papers.gar import units as evidence

    metrics, summary, units = {}, {"tasks": {}, "persona": {}}, Units()
    for task, rows in rows_by_task.items():
        if not rows:
            raise ValueError(f"task '{task}': no generation rows")
        if rows[0]["kind"] == "persona":
            # Persona and policy episodes alike, their metrics under the task's name.
            m, s = persona(rows, task)
            metrics.update(m)
            summary[task] = s
            evidence.persona_units(units, rows, task)
            continue
        if task == settings["probe_task"]:
            continue  # one window condition, no reference: read by probes() below
        m, s = fact_task(rows, settings)
        metrics.update({f"{task}.{k}": v for k, v in m.items()})
        summary["tasks"][task] = s
        evidence.fact_units(units, task, rows, settings)
    sweep_task = settings["sweep_task"]
    if sweep_task not in summary["tasks"]:
        raise ValueError(f"evaluate.sweep_task '{sweep_task}' has no generations")
    reasked = reasked_facts(rows_by_task[sweep_task])
    if reasked:
        raise ValueError(
            f"evaluate.sweep_task '{sweep_task}' probes a fact twice in {len(reasked)} episodes "
            f"(e.g. {reasked[0]}): an earlier answer inside the window can be copied after the "
            "crossover; give the task n_facts >= its probes"
        )
    m, s = crossover_sweep(summary["tasks"][sweep_task], settings["sweep"])
    metrics.update(m)
    summary["crossover"] = s
    evidence.crossover_units(units, rows_by_task[sweep_task], settings)
    if settings["probe_task"] not in rows_by_task:
        raise ValueError(f"evaluate.probe_task '{settings['probe_task']}' has no generations")
    m, s, null = probes(rows_by_task[settings["probe_task"]], hidden, settings, seed)
    metrics.update(m)
    summary["probe"] = s
    if null is not None:
        units.add_null("probe.auc_peak", **null)
    return {k: float(v) for k, v in metrics.items()}, summary, units

"""The per-unit evidence behind gar's claims (units.json), from the same traces as the metrics.

The sampled unit is the episode: every condition of a task decodes the same seeded episodes
(same facts, filler and probe schedule, or the same persona questions), so the conditions of a
task are paired on episode ids. Recall is kept as each episode's (answered, asked) counts, so the
pooled statistics of statistics.py give exactly the pooled recall of metrics.json; GAR as each
episode's curve over the turns.

    <task>.<reference>.gar, .gar_norm          per-episode GAR curves (raw, length-normalised)
    <task>.<reference>.recall_early, _late     (answered, asked) in the first / second half
    <task>.<closure>.recall_after              (answered, asked) at and after the episode's own
    <task>.<closure>.reference_recall_after      crossover (the goal's under a window, the
                                                 random span's under that control), and full
                                                 attention on those probes
    <task>.<condition>.recall_after_main       (answered, asked) at and after the main window's
                                                 crossover (the controls and their reference)
    crossover.<window>.probes                  per episode rows (turn, answered, W, predicted
                                                 crossover)
    crossover.reference.probes                 per episode rows (turn, answered, fraction, 0)
    <persona task>.<condition>.violations_late per-episode share of broken (turn, rule) checks
                                                 over the ended replies of the late half
    probe.auc_peak (null)                      the peak probe AUC against its permutation null
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict

from reprolab.evidence import Units
from reprolab.papers.gar.evaluate import episode_crossover, probe_table, violations

log = logging.getLogger(__name__)


def _by_condition(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["condition"]].append(row)
    return grouped


def _counts(table: dict, keys: list[tuple[str, int]]) -> tuple[list[str], list[list[float]]]:
    """Per episode among `keys`: (answered, asked) of table on that episode's keys."""
    per_episode: dict[str, list[float]] = {}
    for episode, turn in keys:
        answered, asked = per_episode.get(episode, [0.0, 0.0])
        per_episode[episode] = [answered + float(table[(episode, turn)]), asked + 1.0]
    ids = sorted(per_episode)
    return ids, [per_episode[i] for i in ids]


def _curves(units: Units, name: str, rows: list[dict], field: str) -> None:
    """Per-episode curves of a turn field; episodes with an undefined turn are left out."""
    ids, curves = [], []
    for row in sorted(rows, key=lambda r: r["episode"]):
        curve = [t[field] for t in row["turns"]]
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in curve):
            continue
        ids.append(row["episode"])
        curves.append(curve)
    if len(ids) < len(rows):
        log.info(
            "units %s: %d of %d episodes have an undefined turn",
            name,
            len(rows) - len(ids),
            len(rows),
        )
    if ids:
        units.add(name, "episode", ids, curves)


def fact_units(units: Units, task: str, rows: list[dict], settings: dict) -> None:
    """Recall counts and GAR curves of one fact task, per episode."""
    by_condition = _by_condition(rows)
    reference = settings["reference"]
    tables = {c: probe_table(r) for c, r in by_condition.items()}
    full = tables[reference]
    ref_rows = by_condition[reference]
    _curves(units, f"{task}.{reference}.gar", ref_rows, "gar")
    _curves(units, f"{task}.{reference}.gar_norm", ref_rows, "gar_norm")
    half = len(ref_rows[0]["turns"]) / 2
    for part, keep in (("early", lambda t: t <= half), ("late", lambda t: t > half)):
        ids, counts = _counts(full, [k for k in full if keep(k[1])])
        units.add(f"{task}.{reference}.recall_{part}", "episode", ids, counts)
    main = by_condition.get(settings["main_closure"], [])
    main_cross = {r["episode"]: episode_crossover(r) for r in main}
    main_after = sorted(
        k for k in full if main_cross.get(k[0]) is not None and k[1] >= main_cross[k[0]]
    )
    for condition, cond_rows in sorted(by_condition.items()):
        table = tables[condition]
        if main_after:
            ids, counts = _counts(table, main_after)
            units.add(f"{task}.{condition}.recall_after_main", "episode", ids, counts)
        crosses = {r["episode"]: episode_crossover(r) for r in cond_rows}
        if all(c is None for c in crosses.values()):
            continue  # nothing closes (full attention)
        after = sorted(k for k in table if crosses.get(k[0]) is not None and k[1] >= crosses[k[0]])
        if after:
            ids, counts = _counts(table, after)
            units.add(f"{task}.{condition}.recall_after", "episode", ids, counts)
            ids, counts = _counts(full, after)
            units.add(f"{task}.{condition}.reference_recall_after", "episode", ids, counts)


def _probe_rows(rows: list[dict], column: float) -> tuple[list[str], list[list[list[float]]]]:
    """Per episode, rows (turn, answered, column, predicted crossover or 0) over its probe turns,
    in turn order."""
    table = probe_table(rows)
    crosses = {r["episode"]: episode_crossover(r) or 0 for r in rows}
    per_episode: dict[str, list[list[float]]] = defaultdict(list)
    for (episode, turn), ok in sorted(table.items()):
        per_episode[episode].append(
            [float(turn), float(ok), float(column), float(crosses[episode])]
        )
    ids = sorted(per_episode)
    schedules = {tuple(r[0] for r in per_episode[i]) for i in ids}
    if len(schedules) > 1:
        raise ValueError("units: the episodes of a condition probe different turns")
    return ids, [per_episode[i] for i in ids]


def crossover_units(units: Units, rows: list[dict], settings: dict) -> None:
    """Probe outcomes of the window sweep per episode, with each episode's predicted crossover
    (the signed error and the slope are recomputed from them on every resample)."""
    by_condition = _by_condition(rows)
    ids, values = _probe_rows(by_condition[settings["reference"]], settings["collapse_fraction"])
    units.add("crossover.reference.probes", "episode", ids, values)
    for condition in settings["sweep"]:
        window = by_condition[condition][0]["window"]
        ids, values = _probe_rows(by_condition[condition], window)
        units.add(f"crossover.{condition}.probes", "episode", ids, values)


def persona_units(units: Units, rows: list[dict], task: str = "persona") -> None:
    """Per episode and condition: the share of broken (turn, rule) checks over the replies of
    the late half that ended on their own (a reply cut at the token cap is not scored);
    episodes without such a reply are left out."""
    for condition, cond_rows in sorted(_by_condition(rows).items()):
        n_turns = len(cond_rows[0]["turns"])
        ids, rates = [], []
        for row in sorted(cond_rows, key=lambda r: r["episode"]):
            broken = [
                bad
                for turn in row["turns"]
                if turn["turn"] > n_turns / 2 and turn["ended"]
                for bad in violations(turn["response"], row["rules"]).values()
            ]
            if broken:
                ids.append(row["episode"])
                rates.append(sum(broken) / len(broken))
        if ids:
            units.add(f"{task}.{condition}.violations_late", "episode", ids, rates)

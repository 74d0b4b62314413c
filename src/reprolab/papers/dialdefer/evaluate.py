"""The paper's measurements on judged records: DDS, accuracy, McNemar, CIs, Cohen's h, flips.

A record is one (item, framing, truth) verdict: `yes` True/False, or None when a generated reply
could not be parsed (then it is wrong whatever the truth), and `p_yes` in [0, 1] (None if
unparseable). Per item, with correct = (yes == truth):
  Delta_Correct   = Acc(C2, true answer)  - Acc(C1, true statement)
  Delta_Incorrect = Acc(C2, false answer) - Acc(C1, false statement)
  DDS = 100 (Delta_Correct - Delta_Incorrect);  accuracy change = 100 (Delta_C + Delta_I) / 2.
With no unparseable replies DDS is also the sum of the P(yes) shifts on true and false items; the
continuous DDS uses p_yes instead of the binary verdict.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from reprolab.stats import bootstrap_ci, cohens_h, discordant_pairs, mcnemar_exact


def item_table(records: list[dict]) -> dict[str, dict]:
    """item id -> its domain and, per cell ('c1_true', ...), yes and p_yes."""
    table: dict[str, dict] = {}
    for r in records:
        row = table.setdefault(r["id"], {"domain": r["domain"]})
        cell = f"{r['framing']}_{'true' if r['truth'] else 'false'}"
        row[cell] = {"yes": r["yes"], "p_yes": r["p_yes"]}
    for item_id, row in table.items():
        missing = {"c1_true", "c1_false", "c2_true", "c2_false"} - set(row)
        if missing:
            raise ValueError(f"item {item_id}: no verdict for {sorted(missing)}")
    return table


def _correct(cell: dict, truth: bool) -> bool:
    return cell["yes"] is not None and cell["yes"] == truth


def _p_yes(cell: dict, truth: bool) -> float:
    """Continuous P(yes); an unparseable reply counts as wrong, i.e. P(yes) = 1 - truth."""
    return (0.0 if truth else 1.0) if cell["p_yes"] is None else cell["p_yes"]


CELLS = ("c1_true", "c1_false", "c2_true", "c2_false")


def item_values(row: dict) -> dict:
    """One item's values behind the DDS (pp), from its four cells: the continuous P(yes) and
    the binary correctness (an unparseable reply is wrong, P(yes) = 1 - truth)."""
    p = {cell: _p_yes(row[cell], cell.endswith("true")) for cell in CELLS}
    c = {cell: float(_correct(row[cell], cell.endswith("true"))) for cell in CELLS}
    shift_true, shift_false = p["c2_true"] - p["c1_true"], p["c2_false"] - p["c1_false"]
    delta_c, delta_i = c["c2_true"] - c["c1_true"], c["c2_false"] - c["c1_false"]
    return {
        "p_yes": [p[cell] for cell in CELLS],
        "correct": [c[cell] for cell in CELLS],
        "dds_continuous": 100.0 * (shift_true + shift_false),
        "dds": 100.0 * (delta_c - delta_i),
        # Continuous accuracy is P(yes) on true items and 1 - P(yes) on false ones.
        "acc_change_continuous": 100.0 * (shift_true - shift_false) / 2.0,
        "acc_change": 100.0 * (delta_c + delta_i) / 2.0,
        "acc_c1": (c["c1_true"] + c["c1_false"]) / 2.0,
    }


def group_metrics(rows: list[dict], resamples: int, level: float, seed: int) -> dict:
    """DDS and everything around it for one group of items (a domain, or all items)."""
    c1t = np.array([_correct(r["c1_true"], True) for r in rows])
    c1f = np.array([_correct(r["c1_false"], False) for r in rows])
    c2t = np.array([_correct(r["c2_true"], True) for r in rows])
    c2f = np.array([_correct(r["c2_false"], False) for r in rows])
    per_item = (c2t.astype(float) - c1t) - (c2f.astype(float) - c1f)
    delta_c = c2t.mean() - c1t.mean()
    delta_i = c2f.mean() - c1f.mean()
    low, high = bootstrap_ci(100.0 * per_item, resamples, level, seed)
    out = {
        "n_items": len(rows),
        "dds": 100.0 * (delta_c - delta_i),
        "dds_ci_low": low,
        "dds_ci_high": high,
        "delta_correct": 100.0 * delta_c,
        "delta_incorrect": 100.0 * delta_i,
        "acc_change": 100.0 * (delta_c + delta_i) / 2.0,
        "acc_c1": float((c1t.mean() + c1f.mean()) / 2.0),
        "acc_c2": float((c2t.mean() + c2f.mean()) / 2.0),
        "acc_c1_true": float(c1t.mean()),
        "acc_c1_false": float(c1f.mean()),
        "acc_c2_true": float(c2t.mean()),
        "acc_c2_false": float(c2f.mean()),
    }
    out["abs_dds"] = abs(out["dds"])
    out["abs_acc_change"] = abs(out["acc_change"])
    for name, before, after in (("true", c1t, c2t), ("false", c1f, c2f)):
        b, c = discordant_pairs(before, after)
        out[f"mcnemar_{name}_b"], out[f"mcnemar_{name}_c"] = b, c
        out[f"mcnemar_{name}_p"] = mcnemar_exact(b, c)
        out[f"cohens_h_{name}"] = cohens_h(float(after.mean()), float(before.mean()))
    out["cohens_h_accuracy"] = cohens_h(out["acc_c2"], out["acc_c1"])
    # Base rates: how often the judge says yes in each framing (a yes-bias makes DDS trivial).
    for cell in ("c1_true", "c1_false", "c2_true", "c2_false"):
        verdicts = [r[cell]["yes"] for r in rows]
        out[f"yes_rate_{cell}"] = float(np.mean([v is True for v in verdicts]))
        out[f"unparseable_{cell}"] = float(np.mean([v is None for v in verdicts]))
    out["unparseable_c1"] = (out["unparseable_c1_true"] + out["unparseable_c1_false"]) / 2.0
    out["unparseable_c2"] = (out["unparseable_c2_true"] + out["unparseable_c2_false"]) / 2.0
    # Item flip rates: the verdict changes between C1 and C2 on the same item and answer.
    flips = {
        truth: np.array([r[f"c1_{truth}"]["yes"] != r[f"c2_{truth}"]["yes"] for r in rows])
        for truth in ("true", "false")
    }
    out["flip_rate_true"] = float(flips["true"].mean())
    out["flip_rate_false"] = float(flips["false"].mean())
    out["flip_rate"] = (out["flip_rate_true"] + out["flip_rate_false"]) / 2.0
    # Continuous DDS: shifts of P(yes) (true items) plus shifts of P(yes) (false items).
    p = {
        cell: np.array([_p_yes(r[cell], cell.endswith("true")) for r in rows])
        for cell in ("c1_true", "c1_false", "c2_true", "c2_false")
    }
    shift_true = p["c2_true"].mean() - p["c1_true"].mean()
    shift_false = p["c2_false"].mean() - p["c1_false"].mean()
    out["dds_continuous"] = float(100.0 * (shift_true + shift_false))
    return out


def condition_metrics(records: list[dict], cfg: dict, seed: int) -> dict:
    """Per-domain metrics, the macro average over domains, and the pooled extremes."""
    table = item_table(records)
    by_domain: dict[str, list[dict]] = defaultdict(list)
    for row in table.values():
        by_domain[row["domain"]].append(row)
    resamples, level = cfg["bootstrap_resamples"], cfg["ci_level"]
    boot_seed = cfg.get("bootstrap_seed", seed)
    domains = {
        d: group_metrics(rows, resamples, level, boot_seed) for d, rows in sorted(by_domain.items())
    }
    macro = {
        key: float(np.mean([m[key] for m in domains.values()]))
        for key in next(iter(domains.values()))
        if not key.startswith("mcnemar") and not key.endswith(("_low", "_high"))
    }
    macro["n_items"] = float(len(table))
    macro["abs_dds"] = abs(macro["dds"])
    macro["abs_acc_change"] = abs(macro["acc_change"])
    # CI of the macro DDS: each item's DDS weighted so the mean over items is the macro mean.
    weighted = []
    for rows in by_domain.values():
        for r in rows:
            c = {cell: _correct(r[cell], cell.endswith("true")) for cell in r if cell != "domain"}
            value = (c["c2_true"] - c["c1_true"]) - (c["c2_false"] - c["c1_false"])
            weighted.append(100.0 * value * len(table) / (len(by_domain) * len(rows)))
    macro["dds_ci_low"], macro["dds_ci_high"] = bootstrap_ci(weighted, resamples, level, boot_seed)
    # The same weighted bootstrap for the statement-framing (C1) accuracy, the precondition of
    # every deference claim (a judge at chance cannot defer), and for the continuous DDS.
    scale = {d: len(table) / (len(by_domain) * len(rows)) for d, rows in by_domain.items()}
    per_item = [(item_values(r), scale[r["domain"]]) for r in table.values()]
    for key, name in (("acc_c1", "acc_c1"), ("dds_continuous", "dds_continuous")):
        low, high = bootstrap_ci([v[name] * w for v, w in per_item], resamples, level, boot_seed)
        macro[f"{key}_ci_low"], macro[f"{key}_ci_high"] = low, high
    # The smallest |continuous DDS| the interval allows (0 when it spans 0).
    low, high = macro["dds_continuous_ci_low"], macro["dds_continuous_ci_high"]
    macro["abs_dds_continuous_ci_low"] = 0.0 if low <= 0.0 <= high else min(abs(low), abs(high))
    pooled = group_metrics(list(table.values()), resamples, level, boot_seed)
    for key in ("mcnemar_true_b", "mcnemar_true_c", "mcnemar_false_b", "mcnemar_false_c"):
        macro[key] = pooled[key]
    macro["mcnemar_true_p"] = pooled["mcnemar_true_p"]
    macro["mcnemar_false_p"] = pooled["mcnemar_false_p"]
    dds_values = [m["dds"] for m in domains.values()]
    summary = {
        "max_abs_dds": float(max(abs(v) for v in dds_values)),
        "dds_range": float(max(dds_values) - min(dds_values)),
        "opposite_signs": float(max(dds_values) > 0 > min(dds_values)),
    }
    return {"domains": domains, "macro": macro, **summary}


PLANTED_SHIFT = "planted_shift"


def plant_shift(records: list[dict], delta: float) -> list[dict]:
    """The pipeline's positive control, planted in the scores and not in the judge: the paper
    prompt's (base) records again as condition `planted_shift`, with `delta` added to every C2
    P(yes) (clipped to [0, 1]) and the binary verdict redrawn from it as forced choice draws it
    (P(yes) > 0.5); C1 untouched. Away from the clip its continuous DDS is the base's + 200 delta
    pp on every item. An unparseable reply (no P(yes)) stays unparseable."""
    planted = []
    for r in records:
        if r["condition"] != "base":
            continue
        row = {**r, "condition": PLANTED_SHIFT}
        if r["framing"] == "c2" and r["p_yes"] is not None:
            row["p_yes"] = min(1.0, max(0.0, r["p_yes"] + delta))
            row["yes"] = row["p_yes"] > 0.5
        planted.append(row)
    return planted


def with_planted_shift(records: list[dict], cfg: dict) -> list[dict]:
    """The records and, when `planted_shift` (a P(yes) shift) is configured, the planted
    condition built from their base condition: every metric and claim sees it as a condition."""
    delta = cfg.get("planted_shift")
    if delta is None or any(r["condition"] == PLANTED_SHIFT for r in records):
        return records
    return records + plant_shift(records, delta)


def null_shift(a: list[dict], b: list[dict], framing: str) -> float:
    """A 'DDS' between two paraphrases of the same framing: what format alone moves."""
    ta, tb = item_table(a), item_table(b)
    shifts = []
    for truth in ("true", "false"):
        cell = f"{framing}_{truth}"
        yes_a = np.mean([ta[i][cell]["yes"] is True for i in ta])
        yes_b = np.mean([tb[i][cell]["yes"] is True for i in ta])
        shifts.append(yes_b - yes_a)
    return float(100.0 * sum(shifts))


def _flat(prefix: str, data: dict, out: dict) -> None:
    for key, value in data.items():
        if key == "domains":  # '<condition>.<domain>.<quantity>', beside '<condition>.macro.'
            _flat(prefix, value, out)
        elif isinstance(value, dict):
            _flat(f"{prefix}.{key}", value, out)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[f"{prefix}.{key}"] = float(value)


def _macro_dds(records: list[dict], ids: set[str], cfg: dict, seed: int) -> dict:
    return condition_metrics([r for r in records if r["id"] in ids], cfg, seed)["macro"]


def summarize_mode(records: list[dict], cfg: dict, seed: int) -> dict:
    """Nested metrics of one scoring mode: every condition, the ablation, mitigations, noise."""
    by_condition: dict[str, list[dict]] = defaultdict(list)
    for r in with_planted_shift(records, cfg):
        by_condition[r["condition"]].append(r)
    if "base" not in by_condition:
        raise ValueError("judged records hold no 'base' condition")
    base = by_condition["base"]
    result: dict = {"base": condition_metrics(base, cfg, seed)}
    macro = result["base"]["macro"]
    # DDS is also the summed shift of the yes rates; an independent path to the same number.
    identity = 100.0 * (
        macro["yes_rate_c2_true"]
        - macro["yes_rate_c1_true"]
        + macro["yes_rate_c2_false"]
        - macro["yes_rate_c1_false"]
    )
    parsed_all = macro["unparseable_c1"] == 0 and macro["unparseable_c2"] == 0
    if parsed_all:
        macro["dds_identity_error"] = abs(identity - macro["dds"])
    for name, rows in by_condition.items():
        if name == "base":
            continue
        ids = {r["id"] for r in rows}
        metrics = condition_metrics(rows, cfg, seed)
        reference = _macro_dds(base, ids, cfg, seed)
        result[name] = {
            "macro": {
                **{
                    k: metrics["macro"][k]
                    for k in ("dds", "dds_continuous", "acc_change", "acc_c1", "acc_c2")
                },
                # A paraphrase's statement-framing accuracy is the knowledge check that the
                # calibration (selected on the paper prompt's C1) did not choose.
                "acc_c1_ci_low": metrics["macro"]["acc_c1_ci_low"],
                "ddds": metrics["macro"]["dds"] - reference["dds"],
                "abs_dds_change": abs(metrics["macro"]["dds"]) - abs(reference["dds"]),
                "accuracy_change_vs_base": (metrics["macro"]["acc_c1"] + metrics["macro"]["acc_c2"])
                / 2.0
                - (reference["acc_c1"] + reference["acc_c2"]) / 2.0,
                "base_dds_same_items": reference["dds"],
            },
            **{d: {"dds": m["dds"]} for d, m in metrics["domains"].items()},
        }
    ablation = cfg.get("ablation", {})
    user_llm, llm_user = "user_asks_llm_answers", "llm_asks_user_answers"
    if user_llm in result and llm_user in result and user_llm in ablation:
        result["ablation_swing"] = (
            result[llm_user]["macro"]["dds"] - result[user_llm]["macro"]["dds"]
        )
    shifts = []
    for name in cfg.get("paraphrases", []):
        if name not in by_condition:
            continue
        ids = {r["id"] for r in by_condition[name]}
        base_same = [r for r in base if r["id"] in ids]
        for framing in ("c1", "c2"):
            shift = null_shift(base_same, by_condition[name], framing)
            result[name]["macro"][f"null_shift_{framing}"] = shift
            shifts.append(abs(shift))
    if shifts:
        dds_values = [result[n]["macro"]["dds"] for n in cfg["paraphrases"] if n in result]
        result["noise_floor"] = {
            "mean_abs": float(np.mean(shifts)),
            "max_abs": float(np.max(shifts)),
            "paraphrase_dds_sd": float(np.std(dds_values, ddof=1)) if len(dds_values) > 1 else 0.0,
        }
    return result


def flatten_metrics(by_mode: dict[str, dict]) -> dict[str, float]:
    """metrics.json: '<mode>.<condition>.<domain or macro>.<quantity>', flat and numeric."""
    out: dict[str, float] = {}
    for mode, result in by_mode.items():
        _flat(mode, result, out)
    return out


# --- per-item evidence for the claims engine (units.json) -----------------------------------

ITEM_SAMPLES = ("p_yes", "correct", "dds_continuous", "dds", "acc_change_continuous", "acc_change")


def _domain_codes(table: dict[str, dict], ids: list[str], domains: list[str]) -> list[int]:
    return [domains.index(table[i]["domain"]) for i in ids]


def _item_samples(units, prefix: str, table: dict, ids: list[str], domains: list[str]) -> None:
    """Every per-item value of one condition, with the item's domain (an index into the
    mode's sorted domains) so that a statistic can average within domains first."""
    values = {i: item_values(table[i]) for i in ids}
    for name in ITEM_SAMPLES:
        units.add(f"{prefix}.{name}", "item", ids, [values[i][name] for i in ids])
    units.add(f"{prefix}.domain", "item", ids, _domain_codes(table, ids, domains))


def domain_means(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Means of values within each domain code (rows: draws or one row; last axis: items)."""
    present = np.unique(codes)
    return np.stack([values[..., codes == c].mean(axis=-1) for c in present], axis=-1)


def framing_null(dds: np.ndarray, codes: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Per-domain DDS under the null of no framing effect: each item's C1 and C2 labels swapped
    at random (which flips the sign of its DDS), `draws` times. Shape (draws, domains)."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(draws, dds.size))
    return domain_means(signs * dds, codes)


def record_units(units, mode: str, records: list[dict], cfg: dict, seed: int) -> None:
    """What the claims engine resamples for one scoring mode, every value per item:

    - `<mode>.<condition>.{p_yes, correct}`: the four cells (c1_true, c1_false, c2_true,
      c2_false); `.dds_continuous`, `.dds` (binary), `.acc_change_continuous`, `.acc_change`
      (pp) and `.domain`;
    - `<mode>.<condition>.{base_dds_continuous, paraphrase_dds_continuous}`: on a condition's
      own items, the paper prompt's DDS and each paraphrase's (one column each, in the order of
      `paraphrases`): the reference a prompt or model change is compared with;
    - `<mode>.noise_floor.{base_dds_continuous, format_shift_continuous, domain}`: on the
      paraphrased items, the format-only shift of each paraphrase within each framing (columns
      para1.c1, para1.c2, para2.c1, ...), the same summed P(yes) shift as the DDS;
    - nulls `<mode>.base.max_abs_domain_dds_continuous` (the largest |per-domain DDS|) and
      `<mode>.base.opposite_sign_domain_dds_continuous` (min of the most positive and of minus the
      most negative domain DDS), both against the largest |per-domain DDS| with C1 and C2
      swapped at random within items (`permutations` draws, seeded by the suite seed).

    With `planted_shift` configured, `<mode>.planted_shift.*` (the base's C2 P(yes) raised by
    it, with_planted_shift) is one more condition, with its references like any other.
    """
    by_condition: dict[str, list[dict]] = defaultdict(list)
    for r in with_planted_shift(records, cfg):
        by_condition[r["condition"]].append(r)
    tables = {name: item_table(rows) for name, rows in by_condition.items()}
    base = tables["base"]
    domains = sorted({row["domain"] for row in base.values()})
    for name, table in tables.items():
        _item_samples(units, f"{mode}.{name}", table, sorted(table), domains)
    paraphrases = [n for n in cfg.get("paraphrases", []) if n in tables]
    # Conditions compared with the paper prompt and the paraphrase null on their own items.
    for name, table in tables.items():
        if name == "base" or name in paraphrases or not paraphrases:
            continue
        ids = sorted(table)
        if not all(i in base and all(i in tables[p] for p in paraphrases) for i in ids):
            continue  # not every item has its references: the claims on it read 'missing'
        units.add(
            f"{mode}.{name}.base_dds_continuous",
            "item",
            ids,
            [item_values(base[i])["dds_continuous"] for i in ids],
        )
        units.add(
            f"{mode}.{name}.paraphrase_dds_continuous",
            "item",
            ids,
            [[item_values(tables[p][i])["dds_continuous"] for p in paraphrases] for i in ids],
        )
    if paraphrases:
        ids = sorted(set.intersection(*(set(tables[p]) for p in paraphrases)) & set(base))
        shifts = []
        for i in ids:
            row = []
            for p in paraphrases:
                for framing in ("c1", "c2"):
                    row.append(
                        100.0
                        * sum(
                            _p_yes(tables[p][i][f"{framing}_{t}"], t == "true")
                            - _p_yes(base[i][f"{framing}_{t}"], t == "true")
                            for t in ("true", "false")
                        )
                    )
            shifts.append(row)
        prefix = f"{mode}.noise_floor"
        dds = [item_values(base[i])["dds_continuous"] for i in ids]
        units.add(f"{prefix}.base_dds_continuous", "item", ids, dds)
        units.add(f"{prefix}.format_shift_continuous", "item", ids, shifts)
        units.add(f"{prefix}.domain", "item", ids, _domain_codes(base, ids, domains))
    ids = sorted(base)
    dds = np.array([item_values(base[i])["dds_continuous"] for i in ids])
    codes = np.array(_domain_codes(base, ids, domains))
    observed = domain_means(dds, codes)
    draws = cfg["permutations"]
    null = np.abs(framing_null(dds, codes, draws, seed)).max(axis=-1)
    how = f"{draws} draws of C1/C2 swapped within items, largest |per-domain DDS|"
    units.add_null(
        f"{mode}.base.max_abs_domain_dds_continuous", float(np.abs(observed).max()), null, how
    )
    units.add_null(
        f"{mode}.base.opposite_sign_domain_dds_continuous",
        float(min(observed.max(), -observed.min())),
        null,
        how,
    )

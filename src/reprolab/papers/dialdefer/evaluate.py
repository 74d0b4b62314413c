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
    for r in records:
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
                **{k: metrics["macro"][k] for k in ("dds", "acc_change", "acc_c1", "acc_c2")},
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

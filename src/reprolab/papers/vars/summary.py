"""metrics.json and units.json of vars: per setting and method, the session outcomes (success,
timeout, user tokens, enforced rules, enforcing turns) as means over sessions and as per-profile
means (the unit the claims resample, paired across methods); early and late enforcement and
its change over sessions; vector diagnostics (z norms, z_S at session start, and the Mantel
alignment of z_L with the profiles' rule overlap)."""

from __future__ import annotations

import numpy as np

from reprolab.evidence import Units
from reprolab.steps import Published

QUANTITIES = (
    "success",
    "timeout",
    "gave_up",
    "user_tokens",
    "enforced_rules",
    "enforcing_turns",
    "turns",
)
# Counters only the full-scale judges and note rewrite write (absent at smoke and tiny): per
# session, preferences judged, judge failures, and failed note rewrites.
JUDGE_COUNTS = (
    "compliance_judged",
    "compliance_failures",
    "success_judge_failures",
    "reflection_failures",
)


def jaccard(a: list[str], b: list[str]) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def alignment(zs: list[np.ndarray], rules: list[list[str]]) -> float:
    """Pearson correlation, over profile pairs, of cos(z_L^u, z_L^v) with the Jaccard overlap
    of their rules (nan when a z_L is zero or fewer than three profiles)."""
    n = len(zs)
    norms = [np.linalg.norm(z) for z in zs]
    if n < 3 or min(norms) == 0:
        return float("nan")
    cos, jac = [], []
    for i in range(n):
        for j in range(i + 1, n):
            cos.append(float(zs[i] @ zs[j] / (norms[i] * norms[j])))
            jac.append(jaccard(rules[i], rules[j]))
    if np.std(cos) == 0 or np.std(jac) == 0:
        return float("nan")
    return float(np.corrcoef(cos, jac)[0, 1])


def mantel_null(zs, rules, n: int, seed: int) -> list[float]:
    """The alignment with the profiles' rule sets permuted across users (Mantel test)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        perm = rng.permutation(len(rules))
        out.append(alignment(zs, [rules[k] for k in perm]))
    return [x for x in out if np.isfinite(x)]


def summarize(cfg: dict, rows: list[dict]) -> Published:
    mcfg = cfg["metrics"]
    metrics: dict[str, float] = {}
    units = Units()
    for setting, scfg in cfg["settings"].items():
        for method in scfg["methods"]:
            mine = [r for r in rows if r["setting"] == setting and r["method"] == method]
            if not mine:
                continue
            name = f"{setting}.{method}"
            by: dict[str, list[dict]] = {}
            for r in mine:
                by.setdefault(r["profile"], []).append(r)
            ids = sorted(by)
            for q in QUANTITIES:
                metrics[f"{name}.{q}"] = float(np.mean([r[q] for r in mine]))
                units.add(
                    f"{name}.{q}",
                    "profile",
                    ids,
                    [float(np.mean([r[q] for r in by[p]])) for p in ids],
                )
            for q in JUDGE_COUNTS:
                if any(q in r for r in mine):
                    metrics[f"{name}.{q}"] = float(np.mean([r.get(q, 0) for r in mine]))
            # the first and last sessions, each at most half of them (the windows never overlap)
            half = max(1, len({r["session"] for r in mine}) // 2)
            early, late = min(mcfg["early_sessions"], half), min(mcfg["late_sessions"], half)
            e_vals, l_vals = [], []
            for p in ids:
                seq = [r["enforced_rules"] for r in sorted(by[p], key=lambda r: r["session"])]
                e_vals.append(float(np.mean(seq[:early])))
                l_vals.append(float(np.mean(seq[-late:])))
            units.add(f"{name}.enforced_early", "profile", ids, e_vals)
            units.add(f"{name}.enforced_late", "profile", ids, l_vals)
            metrics[f"{name}.enforced_early"] = float(np.mean(e_vals))
            metrics[f"{name}.enforced_late"] = float(np.mean(l_vals))
            metrics[f"{name}.enforced_change"] = float(np.mean(l_vals) - np.mean(e_vals))
            metrics[f"{name}.z_long_norm_final"] = float(
                np.mean([r["z_long_norm"] for r in mine if r["z_long"] is not None])
            )
            metrics[f"{name}.z_short_norm_mean"] = float(np.mean([r["z_short_norm"] for r in mine]))
            metrics[f"{name}.z_short_norm_start_max"] = float(
                max(r["z_short_norm_start"] for r in mine)
            )
            rewards = [x for r in mine for x in r["rewards"]]
            metrics[f"{name}.reward_mean"] = float(np.mean(rewards)) if rewards else 0.0
            metrics[f"{name}.profiles"] = float(len(ids))
            finals = {r["profile"]: r for r in mine if r["z_long"] is not None}
            zs = [np.asarray(finals[p]["z_long"]) for p in ids if p in finals]
            if len(zs) == len(ids) and any(np.linalg.norm(z) > 0 for z in zs):
                rules = [finals[p]["rules"] for p in ids]
                observed = alignment(zs, rules)
                if np.isfinite(observed):
                    metrics[f"{name}.z_long_alignment"] = observed
                    null = mantel_null(zs, rules, mcfg["permutations"], cfg["suite"]["seed"])
                    units.add_null(
                        f"{name}.z_long_alignment",
                        observed,
                        null,
                        "profiles' rule sets permuted across users (Mantel)",
                    )
    return Published(metrics, units)

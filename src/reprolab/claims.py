"""The claims engine: a paper's card (seeds/<paper>.yaml) checked against its run.

Two kinds of entries, kept apart everywhere:

* `science` claims are the paper's findings. Each names an estimate over sampled units
  (units.json), how its uncertainty is computed, and a test:

      - id: sgd_matches_adamw_in_rl
        kind: science
        text: "In RLVR, SGD matches or beats AdamW in held-out accuracy"
        estimate: {stat: diff, of: [grpo_sgd.correct, grpo_adamw.correct]}  # paired on items
        # (a permutation test reads a workflow-made null instead: estimate: {"null": <name>})
        test: noninferiority           # direction | equivalence | noninferiority | permutation
        margin: {value: 0.05, source: paper, reason: "within ~1-2 pp on MATH500 ..."}
        scales: [tiny, full]
        requires: [{metric: grpo_sgd.n_test, op: ">=", value: 32, why: "enough test items"}]

  Verdicts: reproduced, contradicted, inconclusive (with the smallest effect the design could
  detect), not testable: <precondition>, not checked at this scale, missing.

* `sanity` checks are identities, implementation facts and what a construction guarantees:
  `metric op value` on metrics.json, verdict pass or fail, never counted as a reproduction.

Every threshold and margin carries its provenance: `source: paper` (the paper's number),
`source: engine` (the engine's default: the null of no effect), or `source: card` with a
written `reason`.
"""

from __future__ import annotations

import importlib
import math
import operator
import zlib
from dataclasses import dataclass

import numpy as np

from reprolab.evidence import Sample, Units
from reprolab.stats import (
    bootstrap_replicates,
    detectable_effect,
    percentile_interval,
    permutation_p,
)

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
TESTS = ("direction", "equivalence", "noninferiority", "permutation")
SOURCES = ("paper", "engine", "card")
# The only thresholds the engine sets itself: no difference (0) and no ratio (1).
ENGINE_NULLS = (0.0, 1.0)

REPRODUCED = "reproduced"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable"
NOT_CHECKED = "not checked at this scale"
MISSING = "missing"
PASS, FAIL = "pass", "fail"
SCIENCE_VERDICTS = (REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, NOT_CHECKED, MISSING)
SANITY_VERDICTS = (PASS, FAIL, NOT_CHECKED, MISSING)

# Statistics the engine knows; a paper adds its own in reprolab.papers.<paper>.statistics.
BUILTIN_STATS = {"mean": 1, "diff": 2, "ratio": 2}


class CardError(ValueError):
    """A card entry the engine cannot read; names the card, the claim and the key."""


@dataclass(frozen=True)
class Settings:
    """How intervals are computed: from the suite config's `claims` block."""

    level: float = 0.95
    resamples: int = 2000
    power: float = 0.8
    seed: int = 0
    # Fewer sampled units than this give no interval worth reading (one seed, two episodes).
    min_units: int = 5


# --- reading a card -------------------------------------------------------------------------


def _threshold(claim: dict, key: str, scale: str, where: str) -> dict | None:
    """The claim's threshold or margin at this scale, with its provenance checked."""
    spec = claim.get(key)
    if spec is None:
        return None
    if isinstance(spec, dict) and scale in spec and isinstance(spec[scale], dict):
        spec = spec[scale]
    elif isinstance(spec, dict) and any(s in spec for s in ("smoke", "tiny", "full")):
        return None
    if not isinstance(spec, dict) or "value" not in spec:
        raise CardError(f"{where}: '{key}' must be {{value, source[, reason]}}, got {spec!r}")
    source = spec.get("source")
    if source not in SOURCES:
        raise CardError(f"{where}: '{key}.source' is {source!r}; expected one of {SOURCES}")
    if source == "card" and not spec.get("reason"):
        raise CardError(f"{where}: '{key}' set by the card needs a written 'reason'")
    if source == "engine" and float(spec["value"]) not in ENGINE_NULLS:
        raise CardError(
            f"{where}: '{key}' {spec['value']} is not an engine null {ENGINE_NULLS}; "
            "give source paper, or card with a written reason"
        )
    return {"value": float(spec["value"]), "source": source, "reason": spec.get("reason", "")}


def validate_card(card: dict, where: str = "card", paper_stats: dict | None = None) -> None:
    """Every claim readable before any evidence is looked at (errors name card, claim, key)."""
    seen = set()
    stats = {**BUILTIN_STATS, **(paper_stats or {})}
    for i, claim in enumerate(card.get("claims", [])):
        cid = claim.get("id", f"#{i}")
        here = f"{where}: claim '{cid}'"
        if cid in seen:
            raise CardError(f"{here}: id used twice")
        seen.add(cid)
        for key in ("id", "kind", "text", "scales"):
            if key not in claim:
                raise CardError(f"{here}: missing key '{key}'")
        bad = set(claim["scales"]) - {"smoke", "tiny", "full"}
        if bad:
            raise CardError(f"{here}: 'scales' has {sorted(bad)}; expected smoke, tiny, full")
        for req in claim.get("requires", []):
            if set(req) < {"metric", "op", "value", "why"} or req["op"] not in OPS:
                raise CardError(f"{here}: each 'requires' needs metric, op {list(OPS)}, value, why")
        if claim["kind"] == "sanity":
            if claim.get("op") not in OPS or "metric" not in claim or "value" not in claim:
                raise CardError(f"{here}: a sanity check needs metric, op {list(OPS)} and value")
            continue
        if claim["kind"] != "science":
            raise CardError(f"{here}: kind {claim['kind']!r}; expected science or sanity")
        test = claim.get("test")
        if test not in TESTS:
            raise CardError(f"{here}: test {test!r}; expected one of {TESTS}")
        estimate = claim.get("estimate", {})
        if test == "permutation":
            if _null_name(estimate) is None:
                raise CardError(
                    f"{here}: a permutation test needs 'estimate: {{\"null\": <name>}}'"
                )
        else:
            stat = estimate.get("stat")
            if stat not in stats:
                raise CardError(f"{here}: estimate.stat {stat!r}; expected one of {sorted(stats)}")
            if not isinstance(estimate.get("of"), list) or not estimate["of"]:
                raise CardError(f"{here}: estimate.of must list the samples it reads")
        if test in ("direction", "permutation") and claim.get("op") not in OPS:
            raise CardError(f"{here}: test {test} needs 'op' in {list(OPS)}")
        if test in ("equivalence", "noninferiority"):
            for scale in claim["scales"]:
                if _threshold(claim, "margin", scale, here) is None:
                    raise CardError(f"{here}: test {test} needs a 'margin' at scale {scale}")
        for scale in claim["scales"]:
            _threshold(claim, "threshold", scale, here)
            magnitude = claim.get("magnitude")
            if magnitude and not (
                isinstance(magnitude.get("range"), list) and len(magnitude["range"]) == 2
            ):
                raise CardError(f"{here}: magnitude needs range: [low, high] and scales")


def paper_statistics(paper: str) -> dict:
    """The paper's own statistics (reprolab.papers.<paper>.statistics.STATISTICS), if any."""
    try:
        module = importlib.import_module(f"reprolab.papers.{paper}.statistics")
    except ModuleNotFoundError:
        return {}
    return dict(module.STATISTICS)


def validate_paper_card(paper: str, path: str) -> None:
    """The workflow's early check of seeds/<paper>.yaml (Snakefile, before any job)."""
    from reprolab.config import load_yaml

    validate_card(load_yaml(path), path, paper_statistics(paper))


# --- estimates --------------------------------------------------------------------------------


# Built-ins reduce the last axis, so one call computes every bootstrap replicate.
def _mean(a: np.ndarray) -> np.ndarray:
    return np.mean(a, axis=-1)


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.mean(a, axis=-1) - np.mean(b, axis=-1)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mean(a, axis=-1) / np.mean(b, axis=-1)


BUILTIN_FUNCS = {"mean": _mean, "diff": _diff, "ratio": _ratio}


def _groups(samples: list[Sample]) -> tuple[list[list[np.ndarray]], list[int], str, int, bool]:
    """Arrays grouped by shared units: samples on the same unit with the same ids are paired
    (drawn together), each such group resampled independently of the others (two samples of
    different sizes, each with its own paired quantities). Returns the groups, the position in
    the flattened groups of each sample in claim order, the units' description, the smallest
    group's size and whether one group holds them all."""
    keys: dict[tuple, list[int]] = {}
    for i, s in enumerate(samples):
        keys.setdefault((s.unit, frozenset(s.ids)), []).append(i)
    groups, order = [], []
    for members in keys.values():
        ids = list(samples[members[0]].ids)
        groups.append([samples[i].aligned(ids) for i in members])
        order += members
    position = [order.index(i) for i in range(len(samples))]
    sizes = [(len(g[0]), samples[m[0]].unit) for g, m in zip(groups, keys.values(), strict=True)]
    paired = len(samples) > 1 and len(groups) == 1
    if len(groups) == 1 or len({unit for _, unit in sizes}) == 1 and len(set(sizes)) == 1:
        unit = samples[0].unit
    else:
        unit = " and ".join(f"{n} {u}s" for n, u in sizes)
    return groups, position, unit, min(n for n, _ in sizes), paired


def estimate(claim: dict, units: Units, stats: dict, settings: Settings) -> dict:
    """Point estimate, bootstrap interval and standard error of the claim's statistic."""
    spec = claim["estimate"]
    missing = [name for name in spec["of"] if name not in units.samples]
    if missing:
        return {"missing": missing}
    samples = [units.samples[name] for name in spec["of"]]
    builtin = spec["stat"] in BUILTIN_FUNCS
    func = BUILTIN_FUNCS[spec["stat"]] if builtin else stats[spec["stat"]]
    groups, position, unit, n, paired = _groups(samples)
    flat = [a for g in groups for a in g]
    if builtin and any(a.ndim != 1 for a in flat):
        raise CardError(f"claim '{claim['id']}': stat {spec['stat']} needs one number per unit")

    def in_claim_order(*arrays):
        return func(*[arrays[p] for p in position])

    point = float(in_claim_order(*flat))
    rng = np.random.default_rng([settings.seed, zlib.crc32(claim["id"].encode())])
    replicates = bootstrap_replicates(
        in_claim_order, groups, settings.resamples, rng, vectorized=builtin
    )
    low, high = percentile_interval(replicates, settings.level)
    finite = replicates[np.isfinite(replicates)]
    se = float(finite.std(ddof=1)) if finite.size > 1 else float("nan")
    if len(groups) > 1 and len(groups) < len(samples):
        over = f"bootstrap over {unit}, paired within each, drawn independently"
    else:
        design = "paired" if paired else ("independent" if len(samples) > 1 else "")
        counted = unit if " and " in unit else f"{n} {unit}s"
        over = f"{design} bootstrap over {counted}".strip()
    method = f"{over} ({settings.resamples} resamples)"
    return {
        "estimate": point,
        "ci": [low, high],
        "se": se,
        "n": n,
        "unit": unit,
        "method": method,
    }


# --- verdicts ---------------------------------------------------------------------------------


def _precondition(claim: dict, metrics: dict) -> str | None:
    """The first failed precondition's `why`, or None when all hold."""
    for req in claim.get("requires", []):
        value = metrics.get(req["metric"])
        if value is None or not OPS[req["op"]](value, req["value"]):
            return req["why"]
    return None


def _interval_verdict(claim: dict, result: dict, scale: str, settings: Settings) -> dict:
    low, high = result["ci"]
    if result["n"] < settings.min_units:
        why = f"{result['n']} {result['unit']}(s): an interval needs at least {settings.min_units}"
        where = f"claim '{claim['id']}'"
        shown = {}  # the threshold or margin still prints, with its source
        if claim["test"] == "direction":
            shown["threshold"] = _threshold(claim, "threshold", scale, where) or {
                "value": 0.0,
                "source": "engine",
                "reason": "the null of no effect",
            }
        else:
            shown["margin"] = _threshold(claim, "margin", scale, where)
        return {**shown, "verdict": INCONCLUSIVE, "why": why}
    if not (math.isfinite(low) and math.isfinite(high)):
        return {"verdict": INCONCLUSIVE, "why": "the interval is undefined"}
    test = claim["test"]
    where = f"claim '{claim['id']}'"
    if test == "direction":
        threshold = _threshold(claim, "threshold", scale, where) or {
            "value": 0.0,
            "source": "engine",
            "reason": "the null of no effect",
        }
        t = threshold["value"]
        above = claim["op"] in (">", ">=")
        supports, opposes = (low > t, high < t) if above else (high < t, low > t)
        out = {"threshold": threshold}
        magnitude = claim.get("magnitude")
        if magnitude and scale in magnitude.get("scales", []):
            lo, hi = magnitude["range"]
            out["magnitude"] = {"range": [lo, hi], "source": magnitude.get("source", "paper")}
            if high < lo or low > hi:
                return {
                    **out,
                    "verdict": CONTRADICTED,
                    "why": "the interval excludes the paper's range",
                }
        if supports:
            return {**out, "verdict": REPRODUCED}
        if opposes:
            return {**out, "verdict": CONTRADICTED, "why": "the interval supports the opposite"}
        detectable = detectable_effect(result["se"], settings.level, settings.power)
        return {**out, "verdict": INCONCLUSIVE, "detectable": detectable}
    margin = _threshold(claim, "margin", scale, where)
    m = margin["value"]
    out = {"margin": margin}
    if test == "equivalence":
        if -m <= low and high <= m:
            return {**out, "verdict": REPRODUCED}
        if high < -m or low > m:
            return {**out, "verdict": CONTRADICTED, "why": "the interval lies outside the margin"}
    else:  # noninferiority: the first arm is no worse than the second by more than the margin
        if low > -m:
            return {**out, "verdict": REPRODUCED}
        if high < -m:
            return {**out, "verdict": CONTRADICTED, "why": "worse by more than the margin"}
    detectable = detectable_effect(result["se"], settings.level, settings.power)
    return {**out, "verdict": INCONCLUSIVE, "detectable": detectable}


def _null_name(estimate: dict) -> str | None:
    """The null distribution a permutation claim reads; an unquoted YAML `null:` key is None."""
    return estimate.get("null", estimate.get(None))


def _permutation_verdict(claim: dict, units: Units, settings: Settings) -> dict:
    name = _null_name(claim["estimate"])
    if name not in units.nulls:
        return {"verdict": MISSING, "why": f"no null distribution '{name}' in units.json"}
    null = units.nulls[name]
    greater = claim["op"] in (">", ">=")
    p = permutation_p(null.observed, null.null, greater)
    alpha = 1.0 - settings.level
    q = np.quantile(null.null, 1 - alpha if greater else alpha)
    out = {
        "estimate": null.observed,
        "p": p,
        "n_null": len(null.null),
        "null_quantile": float(q),
        "method": f"permutation test against {len(null.null)} null draws ({null.how})",
        "threshold": {"value": alpha, "source": "engine", "reason": "p below 1 - level"},
    }
    if len(null.null) < 1 / alpha:
        return {**out, "verdict": INCONCLUSIVE, "why": "too few null draws for the level"}
    return {**out, "verdict": REPRODUCED if p < alpha else INCONCLUSIVE}


def check_claim(
    claim: dict,
    metrics: dict[str, float],
    units: Units,
    scale: str,
    settings: Settings,
    stats: dict | None = None,
) -> dict:
    """One card entry checked at this scale: its evidence and verdict."""
    result = {
        "id": claim["id"],
        "kind": claim["kind"],
        "text": claim["text"],
        "paper_value": claim.get("paper_value"),
    }
    if scale not in claim["scales"]:
        return {**result, "verdict": NOT_CHECKED}
    failed = _precondition(claim, metrics)
    if failed is not None:
        return {**result, "verdict": NOT_TESTABLE, "why": failed}
    if claim["kind"] == "sanity":
        value = metrics.get(claim["metric"])
        result.update(metric=claim["metric"], op=claim["op"], value=claim["value"], measured=value)
        if value is None:
            return {**result, "verdict": MISSING}
        return {**result, "verdict": PASS if OPS[claim["op"]](value, claim["value"]) else FAIL}
    result.update(test=claim["test"], op=claim.get("op"))
    if claim["test"] == "permutation":
        return {**result, **_permutation_verdict(claim, units, settings)}
    evidence = estimate(claim, units, stats or {}, settings)
    if "missing" in evidence:
        return {**result, "verdict": MISSING, "why": f"no sample {evidence['missing']}"}
    result.update(evidence, level=settings.level)
    return {**result, **_interval_verdict(claim, evidence, scale, settings)}


def check_claims(
    card: dict,
    metrics: dict[str, float],
    units: Units,
    scale: str,
    settings: Settings = Settings(),
    stats: dict | None = None,
    provenance: dict | None = None,
) -> dict:
    """claims.json: every entry of the card with its evidence and verdict, science and sanity
    counted apart, and what the run was made with (commit, package versions, seeds)."""
    validate_card(card, f"seeds/{card.get('paper')}.yaml", stats)
    claims = [
        check_claim(c, metrics, units, scale, settings, stats) for c in card.get("claims", [])
    ]
    summary: dict[str, dict[str, int]] = {"science": {}, "sanity": {}}
    for c in claims:
        verdict = c["verdict"]
        summary[c["kind"]][verdict] = summary[c["kind"]].get(verdict, 0) + 1
    return {
        "paper": card.get("paper"),
        "scale": scale,
        "settings": {
            "level": settings.level,
            "resamples": settings.resamples,
            "power": settings.power,
            "seed": settings.seed,
        },
        "provenance": provenance or {},
        "summary": summary,
        "claims": claims,
    }


def near_threshold_without_reason(claims_json: dict) -> list[str]:
    """Science claims whose card-set threshold lies within the interval's half-width of the
    measured estimate and carries no written reason: a threshold moved next to a number."""
    flagged = []
    for c in claims_json["claims"]:
        threshold = c.get("threshold")
        if c["kind"] != "science" or not threshold or "ci" not in c:
            continue
        low, high = c["ci"]
        half = (high - low) / 2
        close = abs(threshold["value"] - c["estimate"]) < half
        if close and threshold["source"] == "card" and not threshold.get("reason"):
            flagged.append(c["id"])
    return flagged

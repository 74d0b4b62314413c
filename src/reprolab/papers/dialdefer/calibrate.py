"""Items calibrated to the judge: keep the generated items whose statement framing (C1) the judge
already gets right, with a margin, so that deference (accepting an attributed claim the judge
would otherwise reject) is defined for them (issue 17).

Each candidate's two statement cells (true and false answer) are scored by forced choice on the
paper prompt, both option orders. Its margin is min(P(yes | true) - 0.5, 0.5 - P(yes | false)):
above 0 when both statements are judged right. Per domain the candidates with margin >= `margin`
are kept, best first, up to `keep_per_domain`, then put back in generation order. `margin: null`
keeps the best `keep_per_domain` whatever their margin (the smoke run's random model).

Selecting on C1 and measuring C1 again on the same items is deterministic here (the same
prompts), so the kept items' C1 accuracy is high by construction; the claims' C2 side is measured
fresh. The regression of C2 towards the judge's average is symmetric in the true and false cells
and cancels in the DDS (a sum of the two shifts), not in the accuracy change (their difference).
"""

from __future__ import annotations

from collections import defaultdict

from reprolab.papers.dialdefer.judge import forced_choice

STATEMENT_CELLS = (("c1", True), ("c1", False))


def margins(records: list[dict]) -> dict[str, float]:
    """item id -> min(P(yes|true) - 0.5, 0.5 - P(yes|false)) from its two statement records."""
    p: dict[str, dict[bool, float]] = defaultdict(dict)
    for r in records:
        p[r["id"]][r["truth"]] = r["p_yes"]
    return {i: min(v[True] - 0.5, 0.5 - v[False]) for i, v in p.items()}


def select(items: list[dict], margin_of: dict[str, float], keep: int, margin: float | None):
    """(kept items in generation order, per-domain yield): at most `keep` per domain, the
    largest margins first among those at or above `margin` (all when margin is None)."""
    by_domain: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for index, item in enumerate(items):
        by_domain[item["domain"]].append((index, item))
    kept: list[tuple[int, dict]] = []
    report = {}
    for domain, rows in by_domain.items():
        eligible = [(i, it) for i, it in rows if margin is None or margin_of[it["id"]] >= margin]
        eligible.sort(key=lambda row: (-margin_of[row[1]["id"]], row[0]))
        chosen = eligible[:keep]
        kept.extend(chosen)
        report[domain] = {
            "candidates": len(rows),
            # Both statements judged right at all (margin > 0), whatever the filter.
            "right": sum(margin_of[it["id"]] > 0 for _, it in rows),
            "eligible": len(eligible),
            "kept": len(chosen),
            "yield": len(eligible) / len(rows),
            "min_margin_kept": min((margin_of[it["id"]] for _, it in chosen), default=0.0),
        }
    kept.sort(key=lambda row: row[0])
    return [item for _, item in kept], report


def calibrate(backend, items: list[dict], judge_cfg: dict, cfg: dict) -> tuple[list[dict], dict]:
    """Score every candidate's statement cells and keep the calibrated items (see module)."""
    base = judge_cfg["conditions"]["base"]
    records = forced_choice(backend, {"base": (base, items)}, judge_cfg, STATEMENT_CELLS)
    return select(items, margins(records), cfg["keep_per_domain"], cfg.get("margin"))

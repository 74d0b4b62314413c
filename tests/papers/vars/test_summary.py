"""vars's metrics: per-profile units, early/late enforcement, the z_L alignment and its null."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.papers.vars import summary as sm


def test_jaccard():
    assert sm.jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)


def test_alignment_is_the_pair_correlation():
    # profiles 0 and 1 share rules and point the same way; 2 shares nothing and points away
    zs = [np.array([1.0, 0.0]), np.array([1.0, 0.1]), np.array([-1.0, 0.0])]
    rules = [["a", "b"], ["a", "b"], ["c"]]
    cos = [zs[0] @ zs[1] / np.linalg.norm(zs[1]), -1.0, -1.0 / np.linalg.norm(zs[1])]
    expected = np.corrcoef(cos, [1.0, 0.0, 0.0])[0, 1]
    assert sm.alignment(zs, rules) == pytest.approx(expected)
    assert np.isnan(sm.alignment([np.zeros(2)] * 3, rules))
    null = sm.mantel_null(zs, rules, 50, 0)
    assert len(null) > 0 and all(-1 <= x <= 1 for x in null)


def _row(method, profile, session, enforced, success=1):
    return {"setting": "s", "method": method, "profile": profile, "session": session,
            "success": success, "timeout": 1 - success, "gave_up": 0, "user_tokens": 10,
            "enforced_rules": enforced, "enforcing_turns": int(enforced > 0), "turns": 2,
            "rewards": [-1.0, 1.0], "z_long_norm": 0.0, "z_short_norm": 0.0,
            "z_short_norm_start": 0.0, "z_long": None, "rules": ["a"]}  # fmt: skip


def test_summary_units_are_per_profile_and_paired():
    rows = [_row(m, p, s, e) for m in ("a", "b") for p in ("u1", "u2")
            for s, e in enumerate([4, 2, 0] if m == "a" else [1, 1, 1])]  # fmt: skip
    cfg = {"settings": {"s": {"methods": ["a", "b"]}},
           "metrics": {"early_sessions": 1, "late_sessions": 1, "permutations": 10},
           "suite": {"seed": 0}}  # fmt: skip
    out = sm.summarize(cfg, rows)
    m, units = out.metrics, out.units
    assert m["s.a.enforced_rules"] == pytest.approx(2.0)
    assert m["s.a.enforced_change"] == pytest.approx(-4.0)
    assert m["s.b.enforced_change"] == pytest.approx(0.0)
    assert units.samples["s.a.success"].ids == units.samples["s.b.success"].ids == ("u1", "u2")
    assert units.samples["s.a.enforced_early"].values == (4.0, 4.0)

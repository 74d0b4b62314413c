"""The scorecard: science claims with their evidence, sanity checks apart, margins printed."""

from __future__ import annotations

import json

import yaml

from reprolab.plotting import forest_plot
from reprolab.report import write_scorecard

SCIENCE = {
    "id": "c1",
    "kind": "science",
    "text": "SGD is as good",
    "paper_value": 0.0,
    "test": "noninferiority",
    "estimate": -0.01,
    "ci": [-0.04, 0.02],
    "method": "paired bootstrap over 64 items (2000 resamples)",
    "margin": {"value": 0.05, "source": "paper", "reason": ""},
    "verdict": "reproduced",
}
INCONCLUSIVE = {
    "id": "c2",
    "kind": "science",
    "text": "probes beat chance",
    "test": "direction",
    "op": ">",
    "estimate": 0.6,
    "ci": [0.4, 0.8],
    "method": "bootstrap over 32 episodes (2000 resamples)",
    "threshold": {"value": 0.5, "source": "card", "reason": "chance AUC"},
    "verdict": "inconclusive",
    "detectable": 0.28,
}
SANITY = {
    "id": "s1",
    "kind": "sanity",
    "text": "SGD keeps no state",
    "metric": "sgd.state",
    "op": "<=",
    "value": 0,
    "measured": 0.0,
    "verdict": "pass",
}


def test_scorecard_shows_evidence_margins_and_sanity_apart(tmp_path):
    results, seeds = tmp_path / "results" / "tiny", tmp_path / "seeds"
    paper = results / "demo"
    (paper / "figures").mkdir(parents=True)
    (paper / "figures" / "curve.png").write_bytes(b"png")
    summary = {"science": {"reproduced": 1, "inconclusive": 1}, "sanity": {"pass": 1}}
    claims = {
        "paper": "demo",
        "scale": "tiny",
        "settings": {"level": 0.95},
        "provenance": {"commit": "abc123", "packages": {"torch": "2.13.0"}, "seeds": [0, 1]},
        "summary": summary,
        "claims": [SCIENCE, INCONCLUSIVE, SANITY],
    }
    (paper / "claims.json").write_text(json.dumps(claims))
    (paper / "metrics.json").write_text(json.dumps({"sgd.accuracy": 0.625, "other": 1.0}))
    seeds.mkdir()
    card = {"title": "A demo paper", "key_metrics": ["sgd.accuracy", "not.measured"]}
    (seeds / "demo.yaml").write_text(yaml.safe_dump(card))

    text = write_scorecard(results, "tiny", ["demo"], results / "scorecard.md", seeds).read_text()
    assert "| [demo](#demo) | 0, 1 | 1 | 0 | 1 | 0 | 0 | 0 | 1 | 0 |" in text  # seeds pooled
    assert "-0.01 [-0.04, 0.02] (paired bootstrap over 64 items (2000 resamples))" in text
    assert "noninferiority, margin ±0.05 (paper)" in text
    assert "direction > 0.5 (card: chance AUC)" in text
    assert "inconclusive (detectable effect ≈ 0.28)" in text
    sanity_part = text.split("Sanity checks (not counted")[1]
    assert "| SGD keeps no state | `sgd.state` <= 0 | 0 | pass |" in sanity_part
    assert "SGD keeps no state" not in text.split("Sanity checks (not counted")[0]
    assert "Commit `abc123`" in text and "torch 2.13.0" in text
    assert "| `not.measured` | — |" in text and "`other`" not in text
    assert "[curve](demo/figures/curve.png)" in text


def test_forest_plot_writes_png_and_csv(tmp_path):
    claims = {"paper": "demo", "scale": "tiny", "claims": [SCIENCE, INCONCLUSIVE, SANITY]}
    path = forest_plot(claims, tmp_path / "forest.png")
    assert path.stat().st_size > 1000
    rows = path.with_suffix(".csv").read_text().splitlines()
    assert len(rows) == 3 and rows[2].startswith("c2,inconclusive,0.6,0.4,0.8,0.5")

"""The scorecard: per paper its claims with verdicts, the card's key metrics, links to figures."""

from __future__ import annotations

import json

import yaml

from reprolab.report import write_scorecard


def test_scorecard_lists_claims_key_metrics_and_figures(tmp_path):
    results, seeds = tmp_path / "results" / "tiny", tmp_path / "seeds"
    paper = results / "demo"
    (paper / "figures").mkdir(parents=True)
    (paper / "figures" / "curve.png").write_bytes(b"png")
    claim = {
        "id": "c1",
        "text": "SGD is as good",
        "metric": "sgd.accuracy",
        "op": ">=",
        "expected": 0.5,
        "measured": 0.625,
        "verdict": "reproduced",
    }
    (paper / "claims.json").write_text(
        json.dumps({"summary": {"reproduced": 1}, "claims": [claim]})
    )
    (paper / "metrics.json").write_text(json.dumps({"sgd.accuracy": 0.625, "other": 1.0}))
    seeds.mkdir()
    card = {"title": "A demo paper", "key_metrics": ["sgd.accuracy", "not.measured"]}
    (seeds / "demo.yaml").write_text(yaml.safe_dump(card))

    out = write_scorecard(results, "tiny", ["demo"], results / "scorecard.md", seeds)
    text = out.read_text()
    assert "| [demo](#demo) | 1 | 0 | 0 | 0 |" in text
    assert "| SGD is as good | `sgd.accuracy` >= | 0.5 | 0.625 | reproduced |" in text
    assert "| `sgd.accuracy` | 0.625 |" in text
    assert "| `not.measured` | — |" in text
    assert "`other`" not in text  # only the card's key metrics
    assert "[curve](demo/figures/curve.png)" in text
    assert "*A demo paper*" in text

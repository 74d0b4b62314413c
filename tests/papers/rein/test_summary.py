"""metrics.json and units.json on hand-made results: Pass@1 per split, paired units, the
probe's follow rates, the prompt-identity check."""

from __future__ import annotations

from reprolab.papers.rein.summary import summarize

DB = {"orders": {"W1": {"status": "pending"}}}
DONE = {"orders": {"W1": {"status": "cancelled"}}}


def row(setting, iid, error, seen, calls, final, sha="s"):
    expected = "cancel_pending_order" if error is None else "internal_error_report"
    return {
        "id": iid,
        "setting": setting,
        "error": error,
        "category": None if error is None else "ambiguous",
        "seen": seen,
        "expected": expected,
        "calls": [{"name": c, "arguments": {}} for c in calls],
        "database": DB,
        "final": final,
        "goal": DONE if error is None else DB,
        "turns": [{"plan": None}] * max(1, len(calls)),
        "system_sha": sha,
    }


def results():
    rows = []
    for setting, report in (("none", False), ("rein_oracle", True)):
        rows += [
            row(setting, "t.clean", None, None, ["cancel_pending_order"], DONE),
            row(setting, "t.polysemy", "polysemy", True,
                ["internal_error_report"] if report else ["cancel_pending_order"],
                DB if report else DONE),
            row(setting, "t.vague_reference", "vague_reference", True, ["respond"], DB),
            row(setting, "t.contradiction", "contradiction", False,
                ["internal_error_report"] if report else ["respond"], DB),
        ]  # fmt: skip
    rows.append(row("probe_report", "t.clean", None, None, ["internal_error_report"], DB))
    rows.append(row("probe_proceed", "t.clean", None, None, ["cancel_pending_order"], DONE))
    return rows


def test_pass_rates_units_and_probe():
    out = summarize(results(), {"probe_report": "internal_error_report", "probe_proceed": None})
    m, units = out.metrics, out.units.samples
    assert m["none.pass.seen"] == 0.0 and m["rein_oracle.pass.seen"] == 0.5
    assert m["none.pass.unseen"] == 0.0 and m["rein_oracle.pass.unseen"] == 1.0
    assert m["none.pass.clean"] == 1.0 and m["none.pass.all"] == 0.25
    assert m["rein_oracle.pass.all"] == 0.75
    assert m["none.mutation_error_rate"] == 0.25 and m["rein_oracle.mutation_error_rate"] == 0.0
    assert m["rein_oracle.recovery_rate"] == 0.5
    assert units["none.pass.seen"].ids == units["rein_oracle.pass.seen"].ids  # paired
    assert units["none.pass.seen"].unit == "instance"
    assert m["probe_report.followed"] == 1.0
    assert m["probe_proceed.took.internal_error_report"] == 0.0
    assert units["probe_report.took.internal_error_report"].unit == "state"
    assert m["prompt_identical"] == 1.0 and m["n_instances"] == 4


def test_prompt_identity_fails_when_a_rein_prompt_differs():
    rows = results()
    rows[5]["system_sha"] = "other"  # one rein_oracle episode saw another system prompt
    assert summarize(rows, {}).metrics["prompt_identical"] == 0.0

"""The paper contract, checked over every paper of the manifest: its five files, its declared
steps, and what its smoke run must leave (flat numeric metrics without wall-clock keys, per-unit
evidence, a verdict for every card entry, every declared figure with the CSV of its data)."""

from __future__ import annotations

import json

import pytest
import yaml

from reprolab.evidence import Units
from reprolab.papers import manifest
from reprolab.steps import VOCABULARY, WALL_CLOCK_SUFFIX, load_paper
from tests.conftest import REPO

PAPERS = manifest()


def test_the_suite_config_enables_exactly_the_manifest():
    enabled = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["papers"]
    assert sorted(enabled) == PAPERS
    assert len(PAPERS) >= 5


@pytest.mark.parametrize("paper", PAPERS)
def test_a_paper_is_its_package_rules_config_schema_card_and_tests(paper):
    for path in (
        f"src/reprolab/papers/{paper}/steps.py",
        f"rules/{paper}.smk",
        f"config/papers/{paper}.yaml",
        f"config/schemas/{paper}.schema.yaml",
        f"seeds/{paper}.yaml",
        f"tests/papers/{paper}/__init__.py",
    ):
        assert (REPO / path).is_file(), path
    rules = (REPO / f"rules/{paper}.smk").read_text()
    assert f'PAPER_INPUTS["{paper}"]' in rules  # what its metrics and plot steps read
    assert "--config-json" not in rules and "reprolab " not in rules  # commands come from steps
    for figure in load_paper(paper).figures:  # each figure's caption for `snakemake --report`
        assert (REPO / f"docs/report/{paper}/{figure}.rst").is_file(), figure


@pytest.mark.parametrize("paper", PAPERS)
def test_steps_use_the_common_vocabulary(paper):
    declared = load_paper(paper)
    assert {"data", "metrics", "plot"} <= set(declared.steps)
    for name in declared.steps:
        assert name.split("_")[0] in VOCABULARY, name
    assert declared.steps["metrics"].outputs == ("metrics",)
    assert "figures" in declared.steps["plot"].params
    assert declared.figures, "a paper declares its figures"


@pytest.mark.slow
@pytest.mark.parametrize("paper", PAPERS)
def test_a_smoke_run_leaves_what_the_contract_promises(paper, smoke_run):
    workdir, _ = smoke_run
    out = workdir / "results" / "smoke" / paper
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics and all(type(v) is float for v in metrics.values())  # flat and numeric
    assert not [k for k in metrics if k.endswith(WALL_CLOCK_SUFFIX)]  # those are in timings
    timings = json.loads((out / "timings.json").read_text())
    assert all(k.endswith(WALL_CLOCK_SUFFIX) for k in timings)
    assert Units.read(out / "units.json").samples  # evidence for the claims engine
    card = yaml.safe_load((REPO / "seeds" / f"{paper}.yaml").read_text())
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims["claims"]] == [c["id"] for c in card["claims"]]
    # Smoke checks plumbing: no science verdict there, and every sanity check passes.
    for claim in claims["claims"]:
        expected = "not checked at this scale" if claim["kind"] == "science" else "pass"
        assert claim["verdict"] in (expected, "not checked at this scale"), claim["id"]
    for figure in [*load_paper(paper).figures, "claims_forest"]:
        assert (out / "figures" / f"{figure}.png").stat().st_size > 5000, figure
        assert (out / "figures" / f"{figure}.csv").is_file(), figure
    scorecard = (workdir / "results" / "smoke" / "scorecard.md").read_text()
    assert f"| [{paper}](#{paper}) |" in scorecard


@pytest.mark.slow
def test_a_papers_further_seeds_run_apart_and_pool_into_its_claims(smoke_run):
    """psibench lists seeds [0, 1] at smoke: the seed wildcard's second run of every step."""
    from reprolab.config import load_config

    workdir, _ = smoke_run
    seeds = load_config("psibench", "smoke", workdir / "config")["seeds"]
    assert seeds == [0, 1]
    out = workdir / "results" / "smoke" / "psibench"
    further = out / "seeds" / "1"
    for name in ("metrics.json", "units.json", "data/sessions.jsonl"):
        assert (further / name).is_file(), name
    assert (workdir / "results/smoke/logs/psibench/seeds/1/metrics.log").is_file()
    # Seed 1 sampled its own simulation; the claims name both seeds.
    first, second = (json.loads((d / "metrics.json").read_text()) for d in (out, further))
    assert first.keys() == second.keys() and first != second
    claims = json.loads((out / "claims.json").read_text())
    assert claims["provenance"]["seeds"] == seeds
    # Each seed ran its steps under its own seed, recorded in its job configs.
    configs = [
        json.loads(p.read_text())
        for p in (workdir / "results/smoke/configs/psibench").glob("*.json")
    ]
    assert {c["suite"]["seed"] for c in configs} == {0, 1}
    assert {c["suite"].get("seed_dir") for c in configs} == {None, "seeds/1"}

"""The smoke suite through `dvc repro` in a fresh git repository, as a user runs it: builds once,
does nothing the second time, shares its outputs through the default DVC remote with a second
clone byte for byte, and reruns only the paper whose parameter changed."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.system.pipeline import DVC_PAPERS, commit_all, run

pytestmark = pytest.mark.slow
if not (Path(sys.executable).parent / "dvc").exists():
    pytest.skip("dvc is not installed: pip install -e '.[dvc]'", allow_module_level=True)

# What DVC keeps in git (cache: false) for each paper: its metrics and its verdicts.
PAPER_GIT_FILES = ("metrics.json", "claims.json")
PAPER_OUTS = (
    "data", "models", "seeds", "eval", "figures", "units.json", "claims.json", "metrics.json"
)  # fmt: skip


def enabled_papers() -> list[str]:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())["papers"]


def digests(root: Path, names: list[str]) -> dict[str, str]:
    """sha256 of every file under the given paths of root, keyed by relative path."""
    found: dict[str, str] = {}
    for name in names:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            found[str(f.relative_to(root))] = hashlib.sha256(f.read_bytes()).hexdigest()
    return found


def shared_outputs(repo: Path) -> list[str]:
    paper = [f"results/smoke/{p}/{out}" for p in DVC_PAPERS for out in PAPER_OUTS]
    return paper + ["results/smoke/scorecard.md", "results/smoke/report.html"]


def test_dvc_yaml_covers_every_enabled_paper():
    """The report stage and the plots are listed per paper: a paper left out fails here."""
    text = (REPO / "dvc.yaml").read_text()
    spec = yaml.safe_load(text)
    report_deps = spec["stages"]["report"]["deps"]
    assert spec["stages"]["paper"]["foreach"] == "${papers}"
    for paper in enabled_papers():
        for name in ("claims.json", "metrics.json", "figures"):
            assert f"${{results_dir}}/${{scale}}/{paper}/{name}" in report_deps, (paper, name)
        plotted = [next(iter(p)) if isinstance(p, dict) else p for p in spec["plots"]]
        assert any(f"/{paper}/figures/" in p and p.endswith(".csv") for p in plotted), paper


def test_paper_stage_depends_on_the_whole_core():
    """A core module missing from the paper stage's deps would leave results stale unseen."""
    deps = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["paper"]["do"]["deps"]
    core = REPO / "src" / "reprolab"
    for module in sorted(core.glob("*.py")) + sorted(p for p in core.iterdir() if p.is_dir()):
        if module.name in ("report.py", "papers", "__pycache__"):
            continue  # report.py feeds the report stage; papers are listed one by one
        assert str(module.relative_to(REPO)) in deps, module.name


def test_repro_builds_every_stage_then_nothing(dvc_suite):
    assert "Running stage 'paper@sgd_rlvr'" in dvc_suite.first
    assert "Running stage 'report'" in dvc_suite.first
    assert "Running stage" not in dvc_suite.second
    assert "didn't change, skipping" in dvc_suite.second
    lock = yaml.safe_load((dvc_suite.repo / "dvc.lock").read_text())
    assert set(lock["stages"]) == {f"paper@{p}" for p in DVC_PAPERS} | {"report"}
    print(f"dvc repro of the smoke suite: {dvc_suite.seconds:.0f} s")


def test_git_holds_metrics_claims_and_scorecard_and_the_cache_the_rest(dvc_suite):
    repo, env = dvc_suite.repo, dvc_suite.env
    tracked = run(["git", "ls-files", "results"], repo, env).split()
    expected = [f"results/smoke/{p}/{f}" for p in DVC_PAPERS for f in PAPER_GIT_FILES]
    assert sorted(tracked) == sorted(expected + ["results/smoke/scorecard.md"])
    assert run(["git", "status", "--porcelain"], repo, env).strip() == ""
    pushed = dvc_suite.pushed
    assert re.search(r"\d+ files? pushed", pushed), pushed
    remote = dvc_suite.base / "reprolab-dvc-remote"  # beside the clone: .dvc/config's default
    assert any(remote.rglob("*")), f"nothing in the default remote {remote}"


def test_report_and_scorecard_show_each_papers_claims_and_figures(dvc_suite):
    results = dvc_suite.repo / "results" / "smoke"
    html = (results / "report.html").read_text()
    scorecard = (results / "scorecard.md").read_text()
    for paper in DVC_PAPERS:
        claims = json.loads((results / paper / "claims.json").read_text())
        card = yaml.safe_load((REPO / "seeds" / f"{paper}.yaml").read_text())
        assert f"## {paper}" in scorecard
        for claim in claims["claims"]:
            assert f"| {claim['text']} |" in scorecard
        for metric in card["key_metrics"]:
            assert f"| `{metric}` |" in scorecard
        for figure in (results / paper / "figures").glob("*.png"):
            assert f"]({paper}/figures/{figure.name})" in scorecard
            assert figure.name in html
        assert "claims.json" in html
    assert "scorecard.md" in html


def test_a_second_clone_pulls_byte_identical_outputs(dvc_suite):
    repo, env = dvc_suite.repo, dvc_suite.env
    clone = dvc_suite.base / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], dvc_suite.base, env)
    run(["dvc", "pull"], clone, env)
    names = shared_outputs(repo)
    original, pulled = digests(repo, names), digests(clone, names)
    assert len(original) > 20
    assert pulled == original
    assert "up to date" in run(["dvc", "status"], clone, env)


def test_changing_one_papers_parameter_reruns_that_paper(dvc_suite):
    repo, env = dvc_suite.repo, dvc_suite.env
    paper_config = repo / "config" / "papers" / "sgd_rlvr.yaml"
    text = paper_config.read_text()
    old = "  data:\n    n_train: 16\n    n_test: 8\n"
    assert text.count(old) == 1, "the smoke data block of sgd_rlvr changed; update this test"
    paper_config.write_text(text.replace(old, "  data:\n    n_train: 16\n    n_test: 6\n"))

    status = run(["dvc", "status"], repo, env)
    assert "paper@sgd_rlvr" in status and "config/papers/sgd_rlvr.yaml" in status
    assert "report" not in status  # its inputs change only once the paper has rerun
    params = json.loads(run(["dvc", "params", "diff", "--json"], repo, env))
    assert params == {
        "config/papers/sgd_rlvr.yaml": {"smoke.data.n_test": {"old": 8, "new": 6, "diff": -2}}
    }
    rerun = run(["dvc", "repro"], repo, env)
    assert "Running stage 'paper@sgd_rlvr'" in rerun and "Running stage 'report'" in rerun
    # DVC deleted the paper's outs, not the shared base model: Snakemake reuses it.
    assert "rule prepare_model" not in rerun

    diff = json.loads(run(["dvc", "metrics", "diff", "--json"], repo, env))
    changed = diff["results/smoke/sgd_rlvr/metrics.json"]
    assert changed["base.n_test"] == {"old": 8.0, "new": 6.0, "diff": -2.0}

    plots = json.loads(run(["dvc", "plots", "diff", "--json"], repo, env))
    curve = plots["data"]["results/smoke/sgd_rlvr/figures/final_accuracy.csv"][0]
    assert set(curve["revisions"]) == {"HEAD", "workspace"}
    html = dvc_suite.base / "plots"
    run(["dvc", "plots", "diff", "-o", str(html)], repo, env)
    assert "final_accuracy" in (html / "index.html").read_text()
    commit_all(repo, "sgd_rlvr: smoke n_test 6")

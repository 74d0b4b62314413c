"""Runs of the smoke suite, tracked by a real `mlflow server`, as a user compares them: nested
under one parent per workflow execution, the same metric names in every arm, and visible in the
MLflow UI's runs page and compare view in headless Chromium (screenshots kept with the output)."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("REPROLAB_CHROMIUM", "/usr/bin/chromium"))
# Flags that keep Debian's chromium quiet and offline in a container (shared/notes/infra.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXPERIMENT = "reprolab/sgd_rlvr"


def suite_runs(server_url: str):
    import mlflow

    client = mlflow.MlflowClient(server_url)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("rule") == "workflow"]
    children = [r for r in runs if r.data.tags.get("rule") != "workflow"]
    return experiment, parents, children


def test_each_job_is_a_child_of_its_workflow_execution(dvc_suite, mlflow_server):
    _, parents, children = suite_runs(mlflow_server.url)
    assert parents, "no parent run: the Snakefile's onstart did not open one"
    parent_ids = {p.info.run_id for p in parents}
    assert all(p.info.status == "FINISHED" for p in parents)
    assert all(c.data.tags.get("mlflow.parentRunId") in parent_ids for c in children)
    first = min(parents, key=lambda p: p.info.start_time)
    mine = [c for c in children if c.data.tags["mlflow.parentRunId"] == first.info.run_id]
    assert {"train:grpo_sgd", "score:base", "metrics", "plot"} <= {
        c.data.tags["rule"] for c in mine
    }
    # The parent carries the paper's settings as flat params and its metrics.json.
    configured = yaml.safe_load((REPO / "config" / "papers" / "sgd_rlvr.yaml").read_text())
    sgd_lr = configured["common"]["grpo"]["arms"]["sgd"]["lr"]
    assert first.data.params["grpo.arms.sgd.lr"] == str(sgd_lr)
    assert "grpo_sgd.accuracy" in first.data.metrics


def test_every_arm_reports_the_same_metric_names(dvc_suite, mlflow_server):
    _, _, children = suite_runs(mlflow_server.url)
    scored = [c for c in children if c.data.tags["rule"].startswith("score:")]
    trained = [c for c in scored if c.data.tags["rule"] != "score:base"]
    assert len(trained) >= 6
    for run in scored:
        assert {"accuracy", "accuracy_ci_low", "accuracy_ci_high"} <= set(run.data.metrics)
    names = {frozenset(run.data.metrics) for run in trained}
    assert len(names) == 1, "trained arms log different metric names"
    assert {"updated_fraction_bf16", "optimizer_state_bytes"} <= set(next(iter(names)))
    for run in children:
        assert all(not v.startswith("{") for v in run.data.params.values()), "params not flat"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[browser]'"
    )
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or REPROLAB_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(page, tmp_path_factory, name: str) -> Path:
    """Saved with the test's output; also copied to $REPROLAB_SCREENSHOT_DIR when that is set."""
    path = tmp_path_factory.mktemp("screenshots") / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    if os.environ.get("REPROLAB_SCREENSHOT_DIR"):
        keep = Path(os.environ["REPROLAB_SCREENSHOT_DIR"])
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, keep / name)
    print(f"screenshot: {path}")
    return path


def open_page(browser, url: str, height: int = 1000):
    page = browser.new_page(viewport={"width": 1600, "height": height})
    page.goto(url)
    return page


def hide_assistant(page) -> None:
    """MLflow 3.17 opens an assistant panel beside every page; it only takes room here."""
    close = page.get_by_role("button", name="Close")
    if close.count():
        close.first.click()


def test_the_runs_page_lists_the_suites_runs(dvc_suite, mlflow_server, browser, tmp_path_factory):
    experiment, parents, children = suite_runs(mlflow_server.url)
    page = open_page(browser, f"{mlflow_server.url}/#/experiments/{experiment.experiment_id}/runs")
    # The UI keeps polling, so "network idle" never comes: wait for what must be shown.
    for parent in parents:
        page.get_by_text(parent.info.run_name).first.wait_for(timeout=60_000)
    hide_assistant(page)
    first = min(parents, key=lambda p: p.info.start_time)
    name_cell = page.get_by_text(first.info.run_name).first.locator(
        "xpath=ancestor::div[@role='gridcell']"
    )
    name_cell.locator("button").first.click()  # expand: the jobs' runs nest under it
    page.get_by_text("sgd_rlvr/train:grpo_sgd", exact=True).first.wait_for(timeout=30_000)
    page.get_by_text("sgd_rlvr/score:base", exact=True).first.wait_for(timeout=30_000)
    screenshot(page, tmp_path_factory, "mlflow-runs.png")
    page.close()


def test_the_compare_view_shows_every_arm_and_its_accuracy(
    dvc_suite, mlflow_server, browser, tmp_path_factory
):
    experiment, parents, children = suite_runs(mlflow_server.url)
    first = min(parents, key=lambda p: p.info.start_time)
    scored = [
        c
        for c in children
        if c.data.tags["rule"].startswith("score:")
        and c.data.tags["mlflow.parentRunId"] == first.info.run_id
    ]
    query = urllib.parse.urlencode(
        {
            "runs": json.dumps([c.info.run_id for c in scored]),
            "experiments": json.dumps([experiment.experiment_id]),
        }
    )
    page = open_page(browser, f"{mlflow_server.url}/#/compare-runs?{query}", height=1200)
    page.get_by_text("updated_fraction_bf16").first.wait_for(timeout=60_000)
    hide_assistant(page)
    for run in scored:
        page.get_by_text(run.info.run_name).first.wait_for(timeout=30_000)
    assert page.get_by_text("accuracy", exact=True).count() >= 1
    screenshot(page, tmp_path_factory, "mlflow-compare.png")
    page.close()

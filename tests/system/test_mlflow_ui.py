"""Runs of the smoke suite, tracked by a real `mlflow server`, as a user compares them: nested
under one parent per workflow execution, the same metric names in every arm, and visible in the
MLflow UI's runs page and compare view in headless Chromium (screenshots kept with the output)."""

from __future__ import annotations

import json
import os
import re
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
    # ... and its verdicts: claims.json, their counts, its scorecard section and figures.
    import mlflow

    client = mlflow.MlflowClient(mlflow_server.url)
    assert "claims.science.reproduced" in first.data.metrics
    artifacts = {a.path for a in client.list_artifacts(first.info.run_id)}
    assert {"claims.json", "scorecard.md", "figures"} <= artifacts
    # Every run: the commit where MLflow's UI looks for it, the versions, its input files.
    for run in [*parents, *children]:
        assert run.data.tags["mlflow.source.git.commit"] == run.data.tags["git_commit"]
        assert run.data.tags["package.torch"] and run.data.tags["package.reprolab"]
    scored = next(c for c in mine if c.info.run_name == "score:grpo_sgd")
    assert [d.dataset.name for d in scored.inputs.dataset_inputs] == ["data/test.jsonl"]


def test_every_arm_reports_the_same_metric_names(dvc_suite, mlflow_server):
    _, _, children = suite_runs(mlflow_server.url)
    scored = [c for c in children if c.data.tags["rule"].startswith("score:")]
    trained = [c for c in scored if c.data.tags["rule"] != "score:base"]
    assert len(trained) >= 2  # smoke trains the two RL arms (SGD, AdamW); tiny trains them all
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
    page.get_by_text("train:grpo_sgd", exact=True).first.wait_for(timeout=30_000)
    page.get_by_text("score:base", exact=True).first.wait_for(timeout=30_000)
    screenshot(page, tmp_path_factory, "mlflow-runs.png")
    page.close()


def run_columns(page) -> list[str]:
    """The run names in the compare view's column order (its Run Name row)."""
    row = page.get_by_role("row").filter(has_text="Run Name:").first
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def param_row(page, key: str) -> list[str]:
    """A param's values left to right on its row of the compare view's params table."""
    label = page.locator("th", has_text=re.compile(rf"^{re.escape(key)}$"))
    row = page.locator("tr", has=label).first
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def metric_row(page, key: str) -> list[float]:
    """A metric's values left to right on its row of the metrics grid: the UI draws the names
    and the values as two virtualised grids, so a value is on the row when it is level with
    the name."""
    label = page.locator("a[title='Plot chart']", has_text=re.compile(rf"^{re.escape(key)}$"))
    box = label.first.bounding_box()
    level = box["y"] + box["height"] / 2
    cells = []
    for span in page.locator("div[role='grid'] span").all():
        cell = span.bounding_box()
        if cell and abs(cell["y"] + cell["height"] / 2 - level) < 4 and cell["x"] > box["x"]:
            cells.append((cell["x"], float(span.inner_text())))
    return [value for _, value in sorted(cells)]


def plot_only(page, param: str, metric: str) -> None:
    """The parallel-coordinates plot reduced to one param against one metric."""
    page.get_by_role("button", name="Clear All").click()
    for box, name in ((0, param), (1, metric)):
        select = page.get_by_role("combobox").nth(box)
        select.click()
        select.fill(name)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")


COMPARED = ("score:grpo_sgd", "score:grpo_adamw")  # two arms that differ in their lr


def test_the_compare_view_shows_two_arms_lr_and_accuracy_side_by_side(
    dvc_suite, mlflow_server, browser, tmp_path_factory
):
    experiment, parents, children = suite_runs(mlflow_server.url)
    first = min(parents, key=lambda p: p.info.start_time)
    mine = [c for c in children if c.data.tags["mlflow.parentRunId"] == first.info.run_id]
    by_name = {c.info.run_name: c for c in mine if c.info.run_name in COMPARED}
    assert set(by_name) == set(COMPARED)
    # The evaluation carries its arm's training settings (Step.describes), as its train run.
    for name, run in by_name.items():
        trained = next(c for c in mine if c.info.run_name == name.replace("score:", "train:"))
        for key in ("optimizer.lr", "optimizer.name", "trainer.max_steps"):
            assert run.data.params[key] == trained.data.params[key], (name, key)
    query = urllib.parse.urlencode(
        {
            "runs": json.dumps([r.info.run_id for r in by_name.values()]),
            "experiments": json.dumps([experiment.experiment_id]),
        }
    )
    page = open_page(browser, f"{mlflow_server.url}/#/compare-runs?{query}", height=3400)
    page.get_by_text("optimizer.lr").first.wait_for(timeout=60_000)
    hide_assistant(page)
    page.get_by_text("accuracy_ci_low").first.wait_for(timeout=30_000)
    columns = run_columns(page)
    assert sorted(columns) == sorted(COMPARED)
    lrs = param_row(page, "optimizer.lr")
    assert lrs == [by_name[n].data.params["optimizer.lr"] for n in columns]
    assert lrs[0] != lrs[1]
    accuracy = metric_row(page, "accuracy")
    assert accuracy == pytest.approx([by_name[n].data.metrics["accuracy"] for n in columns])
    # For the picture: lr against accuracy on the plot, and only the params that differ (the
    # arm's optimizer settings) above the metrics.
    plot_only(page, "optimizer.lr", "accuracy")
    page.get_by_role("switch").first.click()
    page.set_viewport_size({"width": 1600, "height": 1900})
    screenshot(page, tmp_path_factory, "mlflow-compare.png")
    page.close()

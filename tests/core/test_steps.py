"""The step registry: a declared step becomes a CLI whose job config, MLflow run, timing,
metrics files and output checks come from the core (reprolab.steps, reprolab.wiring)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mlflow
import pytest

from reprolab.cli import main
from reprolab.config import ConfigError
from reprolab.evidence import Units
from reprolab.steps import Paper, Published, Step, add_to_parser, command, job_config
from reprolab.tracking import Tracker


def _cfg(mlflow_uri: str) -> dict:
    tracking = {"uri": mlflow_uri, "experiment_prefix": "test"}
    suite = {"paper": "toy", "scale": "smoke", "seed": 3, "tracking": tracking}
    return {"suite": suite, "model": "m", "data": {"n": 4}, "arms": {"a": 1, "b": 2}}


def make(cfg: dict, tracker: Tracker, *, arm: str, rows: list[Path], out: Path, n: int) -> dict:
    out.write_text(f"{arm}:{len(rows)}:{n}:{cfg['arms']}")
    return {"written": 1.0, "label": "not a number"}


def forget(cfg: dict, tracker: Tracker, *, out: Path) -> None:
    """Declares an output it never writes."""


def metrics(cfg: dict, tracker: Tracker, *, metrics: Path) -> Published:
    units = Units()
    units.add("acc", "item", ids=["a", "b"], values=[1.0, 0.0])
    values = {"acc": 0.5, "auc": float("nan"), "train_seconds": 2.5, "n": 3}
    return Published(values, units)


def one_arm(cfg: dict, wildcards: dict[str, str]) -> dict:
    return {"arms": {wildcards["arm"]: cfg["arms"][wildcards["arm"]]}}


MAKE = Step(
    "data", make, "make", wildcards=("arm",), inputs=("rows",), outputs=("out",),
    params=("n",), reads=("arms",), sections=one_arm,
)  # fmt: skip
PAPER = Paper(
    "toy",
    {
        "data": MAKE,
        "generate": Step("generate", forget, "forget", outputs=("out",)),
        "metrics": Step("metrics", metrics, "join", outputs=("metrics",)),
    },
    (),
)


def run(paper: Paper, argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    steps = parser.add_subparsers(dest="step", required=True)
    for step in paper.steps.values():
        add_to_parser(steps, paper, step)
    args = parser.parse_args(argv)
    args.func(args)


def runs_of(uri: str):
    client = mlflow.MlflowClient(uri)
    (exp,) = [e for e in client.search_experiments() if e.name.endswith("toy")]
    return client.search_runs([exp.experiment_id])


def test_a_declaration_must_match_its_function():
    with pytest.raises(ValueError, match="takes .*'n'.* but the declaration names"):
        Step("data", make, "make", wildcards=("arm",), inputs=("rows",), outputs=("out",))
    with pytest.raises(ValueError, match="expected a name from"):
        Step("evaluate", forget, "x", outputs=("out",))
    with pytest.raises(ValueError, match="kind 'gpu'"):
        Step("generate", forget, "x", outputs=("out",), kind="gpu")


def test_the_command_line_names_every_declared_flag_once():
    line = command("toy", MAKE)
    assert line == (
        "reprolab toy data --config {params.cfg:q} --arm {wildcards.arm:q}"
        " --rows {input.rows:q} --out {output.out:q} --n {params.n:q} 2> {log}"
    )


def test_a_job_sees_only_the_sections_it_reads_narrowed_to_its_wildcards(mlflow_uri):
    cfg = _cfg(mlflow_uri)
    assert job_config(cfg, MAKE, {"arm": "b"}) == {
        "suite": cfg["suite"],
        "model": "m",
        "arms": {"b": 2},
    }
    # A further seed of the paper: its own seed, and the folder its run lives in.
    seeded = job_config(cfg, MAKE, {"arm": "b"}, seed=5)["suite"]
    assert seeded == {**cfg["suite"], "seed": 5, "seed_dir": "seeds/5"}
    assert job_config(cfg, MAKE, {"arm": "b"}, seed=cfg["suite"]["seed"])["suite"] == cfg["suite"]
    del cfg["arms"]
    with pytest.raises(ConfigError, match=r"config/papers/toy.yaml: step 'data' reads .*arms"):
        job_config(cfg, MAKE, {"arm": "b"})


def test_a_step_runs_from_its_declaration_with_run_timing_and_metrics(mlflow_uri, tmp_path):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(job_config(_cfg(mlflow_uri), MAKE, {"arm": "a"})))
    rows = [tmp_path / "r1", tmp_path / "r2"]
    for row in rows:
        row.write_text("x")
    out = tmp_path / "out.txt"
    argv = ["data", "--config", f"@{config}", "--arm", "a", "--rows", *map(str, rows)]
    run(PAPER, [*argv, "--out", str(out), "--n", "7"])
    assert out.read_text() == "a:2:7:{'a': 1}"  # typed arguments; the arm's own section
    (record,) = runs_of(mlflow_uri)
    assert record.info.run_name == "data:a"
    assert record.data.metrics["written"] == 1.0
    assert "label" not in record.data.metrics
    assert record.data.metrics["data_seconds"] >= 0
    assert record.data.params["arm"] == "a" and record.data.params["arms.a"] == "1"


def test_missing_inputs_and_unwritten_outputs_fail_naming_them(mlflow_uri, tmp_path):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(job_config(_cfg(mlflow_uri), MAKE, {"arm": "a"})))
    argv = ["data", "--config", f"@{config}", "--arm", "a", "--rows", str(tmp_path / "no")]
    with pytest.raises(FileNotFoundError, match="input --rows .*no not found"):
        run(PAPER, [*argv, "--out", str(tmp_path / "o"), "--n", "1"])
    config.write_text(json.dumps({"suite": _cfg(mlflow_uri)["suite"], "model": "m"}))
    with pytest.raises(FileNotFoundError, match="finished without writing.*--out"):
        run(PAPER, ["generate", "--config", f"@{config}", "--out", str(tmp_path / "never")])
    config.write_text(json.dumps({"suite": {**_cfg(mlflow_uri)["suite"], "paper": "other"}}))
    with pytest.raises(ConfigError, match="a config of paper 'toy' was expected"):
        run(PAPER, ["generate", "--config", f"@{config}", "--out", str(tmp_path / "never")])


def test_metrics_keep_wall_clock_and_undefined_values_out_of_metrics_json(mlflow_uri, tmp_path):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"suite": _cfg(mlflow_uri)["suite"], "model": "m"}))
    out = tmp_path / "metrics.json"
    run(PAPER, ["metrics", "--config", f"@{config}", "--metrics", str(out)])
    # Strict JSON: a NaN would make the file unreadable to strict parsers and to DVC's diff.
    kept = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(c))
    assert kept == {"acc": 0.5, "n": 3.0}
    assert json.loads((tmp_path / "timings.json").read_text()) == {"train_seconds": 2.5}
    assert Units.read(tmp_path / "units.json").samples["acc"].values == (1.0, 0.0)
    (record,) = runs_of(mlflow_uri)
    assert record.info.run_name == "metrics"
    assert record.data.metrics["acc"] == 0.5 and record.data.metrics["train_seconds"] == 2.5


def test_every_paper_of_the_manifest_has_a_command_per_step(capsys):
    from reprolab.papers import manifest
    from reprolab.steps import load_paper

    for name in manifest():
        for step in load_paper(name).steps.values():
            with pytest.raises(SystemExit) as done:
                main([name, step.name.replace("_", "-"), "--help"])
            assert done.value.code == 0
            text = capsys.readouterr().out
            assert all(f"--{n.replace('_', '-')}" in text for n in step.flag_names)


def test_a_step_that_used_a_sandbox_records_its_isolation(mlflow_uri, tmp_path, monkeypatch):
    import reprolab.sandbox as sandbox

    weak = {"mode": "weak", "why": "no user namespaces"}
    monkeypatch.setattr(sandbox, "ISOLATIONS_USED", [{"mode": "bubblewrap"}, weak])
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"suite": _cfg(mlflow_uri)["suite"], "model": "m"}))
    run(PAPER, ["metrics", "--config", f"@{config}", "--metrics", str(tmp_path / "m.json")])
    (record,) = runs_of(mlflow_uri)
    assert record.data.params["sandbox.isolation"] == "bubblewrap,weak"
    assert record.data.params["sandbox.weak_because"] == "no user namespaces"


def arm_lr(cfg: dict, wildcards: dict[str, str]) -> dict:
    return {"optimizer": {"lr": cfg["arms"][wildcards["arm"]] / 10}}


def test_a_run_carries_what_it_describes_and_its_input_files(mlflow_uri, tmp_path, monkeypatch):
    from reprolab.io import write_jsonl

    monkeypatch.chdir(tmp_path)
    step = Step(
        "data", make, "make", wildcards=("arm",), inputs=("rows",), outputs=("out",),
        params=("n",), reads=("arms",), sections=one_arm, describes=arm_lr,
    )  # fmt: skip
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(job_config(_cfg(mlflow_uri), step, {"arm": "b"})))
    rows = Path("results/smoke/toy/data/rows.jsonl")
    write_jsonl(rows, [{"x": 1}, {"x": 2}, {"x": 3}])
    folder = Path("results/smoke/toy/models/m")  # a folder: no dataset
    folder.mkdir(parents=True)
    argv = ["data", "--config", f"@{config}", "--arm", "b", "--rows", str(rows), str(folder)]
    run(Paper("toy", {"data": step}, ()), [*argv, "--out", "out.txt", "--n", "1"])
    (record,) = runs_of(mlflow_uri)
    assert record.data.params["optimizer.lr"] == "0.2"  # from the job's narrowed section
    assert record.data.params["arms.b"] == "2" and record.data.params["arm"] == "b"
    (found,) = record.inputs.dataset_inputs
    meta = json.loads(Path(f"{rows}.meta.json").read_text())
    assert found.dataset.name == "data/rows.jsonl"
    assert found.dataset.digest == meta["sha256"][:32]
    assert json.loads(found.dataset.source) == {"uri": str(rows.resolve())}
    assert json.loads(found.dataset.profile)["num_rows"] == 3
    assert [(t.key, t.value) for t in found.tags] == [("mlflow.data.context", "rows")]


def test_a_description_that_reads_an_unread_section_fails_before_any_job(mlflow_uri):
    def reads_data(cfg: dict, wildcards: dict[str, str]) -> dict:
        return {"n": cfg["data"]["n"]}

    step = Step(
        "data", make, "make", wildcards=("arm",), inputs=("rows",), outputs=("out",),
        params=("n",), reads=("arms",), sections=one_arm, describes=reads_data,
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"step 'data' describes .*'data'.*add the section"):
        job_config(_cfg(mlflow_uri), step, {"arm": "a"})


def test_a_job_carries_the_registry_entries_its_sections_name_and_no_others():
    """vars' run step names its embedding model in `embedding.model`: the job config carries
    that registry entry (so a change to it reruns the job); its data step names none."""
    from reprolab.config import load_config
    from reprolab.steps import load_paper, named_models

    cfg = load_config("vars", "smoke")
    steps = load_paper("vars").steps
    registry = cfg["suite"]["registry"]
    run_job = job_config(cfg, steps["run"], {"setting": "collab"})
    assert run_job["models"] == {"all-minilm-l6-v2": registry["all-minilm-l6-v2"]}
    assert "models" not in job_config(cfg, steps["data"], {})
    assert "registry" not in run_job["suite"]  # the whole registry stays out of every job
    # Names are found at any depth, in lists too, and only as whole values.
    nested = {"a": [{"b": "tiny-random-llama"}], "c": "tiny-random-llama-2", "d": 3}
    assert set(named_models(nested, registry)) == {"tiny-random-llama"}

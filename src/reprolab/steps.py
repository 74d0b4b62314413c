"""Paper steps declared once: the CLI, the job's config, its MLflow run, its timing and the
check of its outputs all come from one declaration (as TRL turns a config dataclass into a CLI).

A paper's `steps.py` declares its steps and figures:

    STEPS = [
        Step("train", train, "train one arm", wildcards=("arm",), inputs=("data", "model"),
             outputs=("out",), params=("checkpoints",), reads=("grpo", "sft"), kind="train"),
        ...
    ]
    FIGURES = ["training_curves", "final_accuracy"]

and each step is a plain function of its config, its MLflow run and the declared names:

    def train(cfg: dict, tracker: Tracker, *, arm: str, data: Path, model: Path,
              out: Path, checkpoints: Path) -> dict[str, float]: ...

The function's type hints say how each argument is read from the command line (`Path`,
`list[Path]` for several files, `int`, `str`). What it returns is logged: a dict of numbers as
the run's metrics, `Published` (the metrics step) as metrics.json, units.json and timings.json,
a list of figure paths (the plot step) as artifacts. The workflow builds each job's command
line from the same declaration (`command`), so rules never restate a flag.

Step vocabulary (docs/ARCHITECTURE.md): data, train, generate (or run, for episodes), score,
metrics, plot; claims is the core's.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import math
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reprolab.config import ConfigError

log = logging.getLogger(__name__)

KINDS = ("light", "generate", "train")
VOCABULARY = ("data", "train", "generate", "run", "score", "metrics", "plot")
FIXED = ("cfg", "tracker")  # what every step function receives before the declared names
WALL_CLOCK_SUFFIX = "_seconds"


@dataclass(frozen=True)
class Published:
    """What a metrics step returns: flat numbers and the per-unit evidence behind them."""

    metrics: dict[str, float]
    units: Any = None  # an evidence.Units


@dataclass(frozen=True)
class Step:
    """One step of a paper: its function and every name the workflow and the CLI need."""

    name: str
    run: Callable[..., Any]
    help: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    wildcards: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    kind: str = "light"
    # Narrows the sections read to what one job needs (one arm's settings), so that a setting
    # of another arm does not rerun it: (paper config, wildcards) -> sections.
    sections: Callable[[dict, dict[str, str]], dict] | None = None
    # What the job is about (the arm it trains or evaluates): (job config, wildcards) -> a nested
    # dict logged as flat params beside the sections read, under the same names for every arm
    # (`optimizer.lr`), so that an evaluation compares by the settings of what it evaluates. It
    # reads only the job config: the sections it needs must be among those the step reads.
    describes: Callable[[dict, dict[str, str]], dict] | None = None
    types: dict[str, Any] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        base = self.name.split("_")[0]
        if base not in VOCABULARY:
            raise ValueError(f"step '{self.name}': expected a name from {VOCABULARY} (or _<x>)")
        if self.kind not in KINDS:
            raise ValueError(f"step '{self.name}': kind '{self.kind}' not one of {KINDS}")
        hints = typing.get_type_hints(self.run)
        signature = inspect.signature(self.run)
        declared = [*self.wildcards, *self.inputs, *self.outputs, *self.params]
        if len(set(declared)) != len(declared):
            raise ValueError(f"step '{self.name}': a name is declared twice in {declared}")
        takes = [p for p in signature.parameters if p not in FIXED]
        if sorted(takes) != sorted(declared):
            raise ValueError(
                f"step '{self.name}': {self.run.__qualname__} takes {sorted(takes)} but the "
                f"declaration names {sorted(declared)}"
            )
        for name in declared:
            self.types[name] = hints.get(name, str)

    @property
    def flag_names(self) -> list[str]:
        return [*self.wildcards, *self.inputs, *self.outputs, *self.params]

    def many(self, name: str) -> bool:
        return typing.get_origin(self.types[name]) is list

    def config_sections(self, cfg: dict, wildcards: dict[str, str] | None = None) -> dict:
        """The sections this step reads, each checked present in the paper's config."""
        missing = [s for s in self.reads if s not in cfg]
        if missing:
            raise ConfigError(
                f"config/papers/{cfg['suite']['paper']}.yaml: step '{self.name}' reads "
                f"section(s) {missing}, not in the config"
            )
        if self.sections is not None:
            return self.sections(cfg, dict(wildcards or {}))
        return {section: cfg[section] for section in self.reads}


@dataclass(frozen=True)
class Paper:
    """A paper's declared steps and figures (its `steps` module)."""

    name: str
    steps: dict[str, Step]
    figures: tuple[str, ...]

    def step(self, name: str) -> Step:
        if name not in self.steps:
            raise KeyError(f"paper '{self.name}' has no step '{name}'; it has {list(self.steps)}")
        return self.steps[name]


def load_paper(name: str) -> Paper:
    """The declaration in reprolab.papers.<name>.steps."""
    module = importlib.import_module(f"reprolab.papers.{name}.steps")
    steps = {step.name: step for step in module.STEPS}
    return Paper(name, steps, tuple(getattr(module, "FIGURES", ())))


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


def command(paper: str, step: Step) -> str:
    """The job's command line as a Snakemake shell template: the rule names its inputs,
    outputs and params exactly as the step declares them (and `cfg` for the config file)."""
    parts = [f"reprolab {paper} {step.name.replace('_', '-')} --config {{params.cfg:q}}"]
    sources = (
        [(n, "wildcards") for n in step.wildcards]
        + [(n, "input") for n in step.inputs]
        + [(n, "output") for n in step.outputs]
        + [(n, "params") for n in step.params]
    )
    for name, source in sources:
        parts.append(f"{flag_of(name)} {{{source}.{name}:q}}")
    return " ".join(parts) + " 2> {log}"


def add_to_parser(steps: argparse._SubParsersAction, paper: Paper, step: Step) -> None:
    """The step's subcommand: --config (or --scale) and one flag per declared name."""
    parser = steps.add_parser(step.name.replace("_", "-"), help=step.help)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", help="@file.json the workflow wrote, or inline JSON")
    group.add_argument("--scale", choices=["smoke", "tiny", "full"], help="resolve from config/")
    parser.add_argument("--config-dir", default="config", type=Path)
    parser.add_argument(
        "--seed", type=int, help="with --scale: one of the paper's further seeds (its `seeds:`)"
    )
    roles = {
        **{n: "which job of the step (a wildcard)" for n in step.wildcards},
        **{n: "input" for n in step.inputs},
        **{n: "output (checked to exist afterwards)" for n in step.outputs},
        **{n: "setting" for n in step.params},
    }
    for name in step.flag_names:
        kind = step.types[name]
        if step.many(name):
            parser.add_argument(
                flag_of(name), dest=name, nargs="+", type=Path, required=True,
                help=f"{roles[name]}: one or more paths",
            )  # fmt: skip
        else:
            convert = kind if kind in (int, float, Path) else str
            parser.add_argument(
                flag_of(name), dest=name, type=convert, required=True, help=roles[name]
            )
    parser.set_defaults(func=lambda args: run_step(paper, step, args))


def job_config(cfg: dict, step: Step, wildcards: dict[str, str], seed: int | None = None) -> dict:
    """What a job of the step sees: the suite keys, the model and the sections it reads.

    `seed`: one of the paper's further seeds (config key `seeds`), whose run lives in
    seeds/<seed>/ and whose MLflow runs say so; None for the paper's first seed.
    """
    suite = {k: v for k, v in cfg["suite"].items() if k != "registry"}
    if seed is not None and seed != suite["seed"]:
        suite = {**suite, "seed": seed, "seed_dir": f"seeds/{seed}"}
    sections = step.config_sections(cfg, wildcards)
    job = {"suite": suite, "model": cfg.get("model"), **sections}
    named = named_models(sections, cfg["suite"].get("registry", {}))
    if named:
        job["models"] = named
    description(step, job, wildcards)  # fails here, before any job runs, if it reads too little
    return job


def named_models(sections: Any, registry: dict) -> dict:
    """The registry entries of the models a job's sections name by value (an embedding model
    loaded by name at run time): the job carries them, so that changing one reruns exactly the
    jobs that load it, and no step reads config/config.yaml behind the workflow's back."""
    if isinstance(sections, str):
        return {sections: registry[sections]} if sections in registry else {}
    if isinstance(sections, dict):
        values = list(sections.values())
    elif isinstance(sections, list | tuple):
        values = sections
    else:
        return {}
    found: dict = {}
    for value in values:
        found |= named_models(value, registry)
    return found


def description(step: Step, job: dict, wildcards: dict[str, Any]) -> dict[str, Any]:
    """The step's `describes` of one job, flat; {} for a step that declares none."""
    from reprolab.tracking import flatten

    if step.describes is None:
        return {}
    try:
        return flatten(step.describes(job, {w: str(v) for w, v in wildcards.items()}))
    except KeyError as err:
        raise ConfigError(
            f"config/papers/{job['suite']['paper']}.yaml: step '{step.name}' describes its job "
            f"{dict(wildcards)} with key {err}, not in the sections it reads "
            f"{sorted(k for k in job if k not in ('suite', 'model'))}; add the section to its "
            "`reads` (and `sections`)"
        ) from None


def resolve_config(args: argparse.Namespace, paper: str, step: Step) -> dict:
    """The job's config: the workflow's @file (or inline JSON), else config/ at --scale narrowed
    to the same sections, so that a step run by hand sees what the workflow would give it."""
    import json
    import os

    from reprolab.config import load_config
    from reprolab.io import read_json

    seed = getattr(args, "seed", None)
    if seed is not None and args.config:
        raise ConfigError("--seed goes with --scale: a workflow's --config already holds its seed")
    if args.config and args.config.startswith("@"):
        cfg = read_json(Path(args.config[1:]))
    elif args.config:
        cfg = json.loads(args.config)
    else:
        wildcards = {w: str(getattr(args, w)) for w in step.wildcards}
        cfg = job_config(load_config(paper, args.scale, args.config_dir), step, wildcards, seed)
    if cfg.get("suite", {}).get("paper") != paper:
        raise ConfigError(f"--config {args.config}: a config of paper '{paper}' was expected")
    if cfg["suite"]["scale"] != "full":
        os.environ["HF_HUB_OFFLINE"] = "1"
    return cfg


def run_name(step: Step, values: dict[str, Any]) -> str:
    """train:grpo_sgd, train_generator:toolr0:2: the step and the values that pick its job (the
    run's experiment, reprolab/<paper>, names the paper)."""
    return ":".join([step.name, *(str(values[w]) for w in step.wildcards)])


def seeded_run_name(name: str, cfg: dict) -> str:
    """A further seed's runs end in @seeds/<seed>, so that they sit apart in MLflow."""
    seed_dir = cfg["suite"].get("seed_dir")
    return f"{name}@{seed_dir}" if seed_dir else name


def run_step(paper: Paper, step: Step, args: argparse.Namespace) -> Any:
    """Resolve and check the config, open the MLflow run, time the step, log what it returns
    and check that every declared output exists (for the plot step, every declared figure with
    the CSV of its data in the folder it was given as `figures`).

    The run's params are the wildcards, the sections read and what the step `describes`; its
    input files are logged as datasets."""
    from reprolab.distributed import is_main_process
    from reprolab.tracking import Tracker, flatten, input_datasets, tracked_run

    cfg = resolve_config(args, paper.name, step)
    values = {name: getattr(args, name) for name in step.flag_names}
    wildcards = {w: values[w] for w in step.wildcards}
    params = {
        **wildcards,
        **flatten({k: v for k, v in cfg.items() if k != "suite"}),
        **description(step, cfg, wildcards),
    }
    inputs = {n: list(values[n]) if step.many(n) else [values[n]] for n in step.inputs}
    for name, paths in inputs.items():
        for path in paths:
            if not Path(path).exists():
                raise FileNotFoundError(f"step '{step.name}': input --{name} {path} not found")
    if not is_main_process():
        # Another process of a multi-process training (reprolab.distributed): it trains its
        # share of every batch; the main process tracks the run and checks the outputs.
        return step.run(cfg, Tracker("none"), **values)
    name = seeded_run_name(run_name(step, values), cfg)
    source = f"reprolab {paper.name} {step.name.replace('_', '-')}"
    with tracked_run(cfg, name, params, source) as tracker:
        tracker.log_inputs(input_datasets(inputs, cfg["suite"]))
        start = time.perf_counter()
        result = step.run(cfg, tracker, **values)
        seconds = time.perf_counter() - start
        _record_sandboxes(tracker)
        _log_result(values, result, tracker)
        tracker.log_metrics({f"{step.name}{WALL_CLOCK_SUFFIX}": seconds})
    absent = [f"--{n} {values[n]}" for n in step.outputs if not _all_exist(values[n], step.many(n))]
    if step.name == "plot":
        absent += [f"figure {n}" for n in check_figures(paper, Path(values["figures"]))]
    if absent:
        raise FileNotFoundError(f"step '{step.name}' finished without writing {absent}")
    log.info("%s/%s done in %.1f s", paper.name, run_name(step, values), seconds)
    return result


def _record_sandboxes(tracker) -> None:
    """The isolation of every sandbox the step started, as run params (weak mode stands out)."""
    import sys

    sandbox = sys.modules.get("reprolab.sandbox")  # only a step that used one imported it
    if sandbox is not None and sandbox.ISOLATIONS_USED:
        modes = sorted({item.get("mode", "?") for item in sandbox.ISOLATIONS_USED})
        tracker.log_params({"sandbox.isolation": ",".join(modes)})
        weak = [item.get("why") for item in sandbox.ISOLATIONS_USED if item.get("mode") == "weak"]
        if weak:
            tracker.log_params({"sandbox.weak_because": weak[0]})


def _all_exist(value: Any, many: bool) -> bool:
    return all(Path(p).exists() for p in (value if many else [value]))


def _log_result(values: dict, result: Any, tracker) -> None:
    if isinstance(result, Published):
        publish(result, Path(values["metrics"]), tracker)
    elif isinstance(result, dict):
        tracker.log_metrics(result)  # which keeps only the numbers
    elif isinstance(result, list | tuple) and all(isinstance(p, Path) for p in result):
        for path in result:
            tracker.log_artifact(path, "figures")
            tracker.log_artifact(path.with_suffix(".csv"), "figures")


def publish(result: Published, out: Path, tracker=None) -> dict[str, float]:
    """metrics.json (flat, strict JSON, no wall-clock keys), timings.json (the `*_seconds` keys,
    so that `dvc metrics diff` stays quiet after a clean rerun) and units.json beside it.

    Undefined values (NaN: a probe with one class, a window that never closes) are left out, so
    the claims on them read "missing".
    """
    from reprolab.evidence import Units
    from reprolab.io import write_json

    (result.units or Units()).write(out.with_name("units.json"))
    defined = {k: float(v) for k, v in result.metrics.items() if not math.isnan(v)}
    if len(defined) < len(result.metrics):
        left_out = sorted(set(result.metrics) - set(defined))
        log.info("undefined at this scale, left out: %s", left_out)
    timings = {k: v for k, v in defined.items() if k.endswith(WALL_CLOCK_SUFFIX)}
    science = {k: v for k, v in defined.items() if k not in timings}
    write_json(out, science)
    write_json(out.with_name("timings.json"), timings)
    if tracker is not None:
        tracker.log_metrics(defined)
    return science


def check_figures(paper: Paper, folder: Path) -> list[str]:
    """Declared figures without a PNG and the CSV of its data in `folder`."""
    return [
        name
        for name in paper.figures
        if not (folder / f"{name}.png").is_file() or not (folder / f"{name}.csv").is_file()
    ]

"""`reprolab`: every workflow step as a command, so it runs and tests outside Snakemake too.

    reprolab prepare-model NAME --out models/NAME [--scale tiny]
    reprolab <paper> <step> (--scale tiny | --config @file.json) --<name> ... (reprolab.steps)
    reprolab claims PAPER --metrics results/<scale>/<paper>/metrics.json --out claims.json
    reprolab scorecard --scale tiny --out results/tiny/scorecard.md

Snakemake passes each step the sections of its paper's config it reads, as a small JSON file
(--config @file); by hand, --scale resolves the whole config from config/ the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import warnings
from pathlib import Path

from reprolab.config import ConfigError, load_yaml
from reprolab.papers import manifest
from reprolab.progress import quiet_progress_bars


def _prepare_model(args: argparse.Namespace) -> None:
    from reprolab.models import prepare_model

    suite = load_yaml(args.config_dir / "config.yaml")
    models = suite.get("models", {})
    if args.name not in models:
        raise ConfigError(
            f"{args.config_dir / 'config.yaml'}: key 'models': no model '{args.name}'; "
            f"expected one of {sorted(models)}"
        )
    if models[args.name].get("source") != "hub":
        os.environ["HF_HUB_OFFLINE"] = "1"  # a model made or read here never needs the network
    prepare_model(args.name, models[args.name], Path(args.out))


def run_provenance(seeds: list[int]) -> dict:
    """What claims.json records of the run: the commit, the versions that matter (the same
    list every MLflow run carries as tags), the seeds."""
    from reprolab.tracking import git_commit, package_versions

    return {"commit": git_commit(), "packages": package_versions(), "seeds": seeds}


def _claims(args: argparse.Namespace) -> None:
    from reprolab.claims import Settings, check_claims, paper_statistics
    from reprolab.evidence import Units, pool_seeds
    from reprolab.io import read_json, write_json
    from reprolab.plotting import forest_plot

    suite = load_yaml(args.config_dir / "config.yaml")
    block = {**suite.get("claims", {}), **json.loads(args.settings or "{}")}
    seeds = args.seeds or [suite.get("seed", 0)]
    settings = Settings(
        level=block.get("level", 0.95),
        resamples=block.get("resamples", 2000),
        power=block.get("power", 0.8),
        min_units=block.get("min_units", 5),
        seed=seeds[0],
    )
    if len(args.units) != len(seeds):
        raise ValueError(f"claims: {len(args.units)} units files for seeds {seeds}")
    units = pool_seeds(
        {seed: Units.read(Path(p)) for seed, p in zip(seeds, args.units, strict=True)}
    )
    result = check_claims(
        load_yaml(Path(args.card)),
        read_json(Path(args.metrics)),
        units,
        args.scale_name,
        settings,
        paper_statistics(args.paper),
        run_provenance(seeds),
    )
    write_json(Path(args.out), result)
    if args.forest:
        forest_plot(result, Path(args.forest))
    for claim in result["claims"]:
        logging.info("%-8s %-40s %s", claim["kind"], claim["id"], claim["verdict"])


def _tracking_sync(args: argparse.Namespace) -> None:
    from reprolab.tracking import sync_spool

    outcome = sync_spool(args.spool)
    print(f"replayed {outcome['replayed']} tracking calls; {outcome['left']} spool files left")


def _resume(args: argparse.Namespace) -> None:
    from reprolab.resume import resume

    raise SystemExit(resume(args.snakemake_args))


def _scorecard(args: argparse.Namespace) -> None:
    from reprolab.report import write_scorecard

    write_scorecard(args.results, args.scale_name, args.papers, Path(args.out), args.seeds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reprolab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    prep = commands.add_parser("prepare-model", help="convert a registry model to safetensors")
    prep.add_argument("name")
    prep.add_argument("--out", required=True)
    prep.add_argument("--config-dir", default="config", type=Path)
    prep.set_defaults(func=_prepare_model)

    claims = commands.add_parser("claims", help="check a paper's claims against its metrics")
    claims.add_argument("paper")
    claims.add_argument("--card", required=True, help="seeds/<paper>.yaml")
    claims.add_argument("--metrics", required=True)
    claims.add_argument("--units", nargs="+", required=True, help="units.json, one per seed")
    claims.add_argument("--seeds", nargs="+", type=int, help="the seeds of --units, in order")
    claims.add_argument("--scale", dest="scale_name", required=True)
    claims.add_argument("--settings", help="JSON over config.yaml's claims block")
    claims.add_argument("--config-dir", default="config", type=Path)
    claims.add_argument("--forest", help="where to draw the forest plot (PNG, CSV beside)")
    claims.add_argument("--out", required=True)
    claims.set_defaults(func=_claims)

    tracking = commands.add_parser("tracking", help="MLflow tracking maintenance")
    tracking_steps = tracking.add_subparsers(dest="action", required=True)
    sync = tracking_steps.add_parser("sync", help="replay runs spooled while MLflow was away")
    sync.add_argument("--spool", type=Path, help="spool folder (REPROLAB_TRACKING_SPOOL)")
    sync.set_defaults(func=_tracking_sync)

    again = commands.add_parser(
        "resume", help="after Snakemake was killed: keep what finished, unlock, run again"
    )
    again.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="passed to snakemake")
    again.set_defaults(func=_resume)

    score = commands.add_parser("scorecard", help="join every paper's claims and metrics")
    score.add_argument("--results", required=True, type=Path, help="results/<scale>")
    score.add_argument("--scale", dest="scale_name", required=True)
    score.add_argument("--papers", nargs="+", required=True)
    score.add_argument("--seeds", default=Path("seeds"), type=Path, help="the papers' cards")
    score.add_argument("--out", required=True)
    score.set_defaults(func=_scorecard)

    from reprolab.steps import add_to_parser, load_paper

    for name in manifest():
        paper = load_paper(name)
        paper_parser = commands.add_parser(name, help=f"steps of the paper {name}")
        steps = paper_parser.add_subparsers(dest="step", required=True)
        for step in paper.steps.values():
            add_to_parser(steps, paper, step)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Snakemake gives each job OMP_NUM_THREADS = its threads, which torch takes for its
    # intra-op pool; idle OpenMP threads must sleep, not spin, or two jobs on two cores slow
    # each other down several-fold (measured, issue 29). Set before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Library deprecation notices (transformers v6 renames) drown the progress lines in job logs.
    warnings.filterwarnings("ignore", category=FutureWarning)
    # A job's stderr is its log file: progress goes there as lines (reprolab.progress), and the
    # libraries' carriage-return bars are turned off before they are imported.
    quiet_progress_bars()
    args = build_parser().parse_args(argv)
    # The job's command opens its log: the console shows each job's rule, files and log path
    # (the profile does not print shell commands, to keep plans short), the log how to rerun it.
    logging.getLogger("reprolab").info("$ %s", shlex.join(["reprolab", *(argv or sys.argv[1:])]))
    try:
        args.func(args)
    except (ConfigError, FileNotFoundError, ValueError) as err:
        logging.getLogger("reprolab").error("%s", err)
        return 2
    if args.command not in ("resume", "tracking"):
        from reprolab.resume import record_finished

        record_finished(sys.argv if argv is None else ["reprolab", *argv])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""dialdefer's steps: data (candidate items), data_calibrate (the judged items: those the judge
gets right in the statement framing), data_train (the SFT split), train (one fine-tuning arm),
score (the base judge in one scoring mode), score_finetuned (a fine-tuned judge),
metrics_summary (the nested metrics the figures read), metrics, plot."""

from __future__ import annotations

import logging
from pathlib import Path

from reprolab.papers.dialdefer import METHODS
from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

# The two scoring modes; each fine-tuned judge (an arm, one per METHODS) is scored by forced choice.
MODES = ("forced_choice", "parsed")
FINETUNED_MODE = "forced_choice"
FIGURES = ["dds_per_domain", "accuracy_vs_dds", "ablation_mitigation"]


def data(cfg: dict, tracker: Tracker, *, candidates: Path) -> dict:
    from reprolab.io import write_counted
    from reprolab.papers.dialdefer.data import eval_items

    items = eval_items(cfg["data"], cfg["suite"]["seed"])
    return write_counted(candidates, items, "candidate_items")


def data_calibrate(
    cfg: dict, tracker: Tracker, *, model: Path, candidates: Path, eval: Path, report: Path
) -> dict:
    """The judged items: with a `calibrate` section, the candidates whose statement framing the
    base judge gets right with a margin; without one (full scale: the released items), all."""
    from reprolab.io import read_jsonl, write_counted, write_json

    items = read_jsonl(candidates)
    settings = cfg.get("calibrate")
    if not settings:
        write_json(report, {})
        return write_counted(eval, items, "eval_items")
    from reprolab.inference import get_backend
    from reprolab.papers.dialdefer.calibrate import calibrate as keep_known
    from reprolab.papers.dialdefer.upstream import resolve

    judge_cfg = resolve(cfg["judge"])
    backend = get_backend(judge_cfg["backend"], model, **judge_cfg.get("backend_options", {}))
    kept, by_domain = keep_known(backend, items, judge_cfg, settings)
    for domain, row in by_domain.items():
        log.info("calibrate %s: %d of %d candidates eligible, %d kept", domain,
                 row["eligible"], row["candidates"], row["kept"])  # fmt: skip
    write_json(report, by_domain)
    return write_counted(eval, kept, "eval_items")


def calibration_sections(cfg: dict, wildcards: dict[str, str]) -> dict:
    """What the calibration depends on: the candidates, its own settings and the paper prompt's
    scoring, not the other conditions (a new condition recalibrates nothing)."""
    from reprolab.papers.dialdefer.data import eval_settings

    judge = cfg["judge"]
    keys = ("speakers", "backend", "backend_options", "upstream")
    return {
        "data": eval_settings(cfg["data"]),
        "calibrate": cfg.get("calibrate"),
        "judge": {
            **{k: judge[k] for k in keys if k in judge},
            "templates": {"paper": judge["templates"]["paper"]},
            "conditions": {"base": judge["conditions"]["base"]},
            "forced_choice": {"prefix": judge["forced_choice"]["prefix"]},
        },
    }


def data_train(cfg: dict, tracker: Tracker, *, train: Path) -> dict:
    from reprolab.io import write_counted
    from reprolab.papers.dialdefer.data import train_items

    return write_counted(train, train_items(cfg["data"], cfg["suite"]["seed"]), "train_items")


def eval_data(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The data keys the judged items depend on, so that the SFT split's size rescores nothing."""
    from reprolab.papers.dialdefer.data import eval_settings

    return {"data": eval_settings(cfg["data"])}


def one_arm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """Only the fine-tuning arm's own section (and the judge's), so SFT and DPO rerun apart."""
    arm = wildcards["arm"]
    return {arm: cfg[arm], "judge": cfg["judge"]}


def finetuning(cfg: dict, wildcards: dict[str, str]) -> dict:
    """A fine-tuning arm under one name for both (`optimizer.lr`, `trainer.max_steps`), on its
    train and score_finetuned runs, so that the judges compare by their training settings."""
    section = cfg[wildcards["arm"]]
    return {
        "method": wildcards["arm"],
        "optimizer": section["optimizer"],
        "trainer": section["trainer"],
    }


def train(
    cfg: dict, tracker: Tracker, *, arm: str, data: Path, model: Path, out: Path, checkpoints: Path
) -> dict:
    from reprolab.io import read_jsonl
    from reprolab.papers.dialdefer.train import train_mitigation

    items = read_jsonl(data)
    tracker.log_params({"n_items": len(items)})
    summary = train_mitigation(arm, cfg, items, model, out, checkpoints, tracker)
    return {"steps": summary["steps"]}


def _judge(cfg: dict, tracker: Tracker, mode: str, arm: str, model: Path, data: Path, out: Path):
    """Judge every planned condition's C1 and C2 prompts in one scoring mode."""
    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.dialdefer import judge as judges

    if mode not in MODES:
        raise ValueError(f"score: unknown mode '{mode}'; expected one of {MODES}")
    from reprolab.papers.dialdefer.upstream import resolve

    settings = resolve(cfg["judge"])
    items = read_jsonl(data)
    if arm == "base":
        plans = judges.plans_for(items, settings, mode)
    else:  # a fine-tuned judge, on the paper's prompt only, named after its arm
        n = cfg[arm]["judge_items_per_domain"]
        plans = {arm: (settings["conditions"]["base"], judges.first_per_domain(items, n))}
    tracker.log_params({"conditions": sorted(plans)})
    backend = get_backend(settings["backend"], model, **settings.get("backend_options", {}))
    if mode == "forced_choice":
        records = judges.forced_choice(backend, plans, settings)
    else:
        records = judges.parsed(backend, plans, settings, cfg["suite"]["seed"])
    write_jsonl(out, records)
    log.info("%s (%s): %d verdicts", mode, arm, len(records))
    return {"records": len(records)}


def score(cfg: dict, tracker: Tracker, *, mode: str, model: Path, data: Path, out: Path) -> dict:
    """The base model as judge, every condition of the mode."""
    return _judge(cfg, tracker, mode, "base", model, data, out)


def score_finetuned(
    cfg: dict, tracker: Tracker, *, mode: str, arm: str, model: Path, data: Path, out: Path
) -> dict:
    """A fine-tuned judge (arm sft or dpo), on the paper's prompt only."""
    if arm not in METHODS:
        raise ValueError(f"score-finetuned: unknown arm '{arm}'; expected one of {METHODS}")
    return _judge(cfg, tracker, mode, arm, model, data, out)


def _records_by_mode(records: list[Path]) -> dict[str, list[dict]]:
    """<mode>.jsonl holds the base model's verdicts, <mode>.<arm>.jsonl a fine-tuned judge's."""
    from reprolab.io import read_jsonl

    by_mode: dict[str, list[dict]] = {}
    for path in records:
        by_mode.setdefault(path.name.split(".")[0], []).extend(read_jsonl(path))
    return by_mode


def metrics_summary(
    cfg: dict, tracker: Tracker, *, records: list[Path], calibration: Path, summary: Path
) -> dict:
    """DDS, accuracy, CIs, ablation, mitigations and noise floor per mode, nested (summary.json),
    with the calibration's per-domain yield beside the modes."""
    from reprolab.io import read_json, write_json
    from reprolab.papers.dialdefer.evaluate import summarize_mode

    by_mode = {
        mode: summarize_mode(rows, cfg["evaluate"], cfg["suite"]["seed"])
        for mode, rows in _records_by_mode(records).items()
    }
    yields = read_json(calibration)
    if yields:
        by_mode["calibration"] = yields
    write_json(summary, by_mode)
    return {"modes": len(by_mode)}


def metrics(
    cfg: dict, tracker: Tracker, *, records: list[Path], summary: Path, metrics: Path
) -> Published:
    """The summary flattened (metrics.json) and the per-item values and framing-permutation
    nulls behind the claims (units.json)."""
    from reprolab.evidence import Units
    from reprolab.io import read_json
    from reprolab.papers.dialdefer.evaluate import flatten_metrics, record_units

    units = Units()
    for mode, rows in _records_by_mode(records).items():
        record_units(units, mode, rows, cfg["evaluate"], cfg["suite"]["seed"])
    return Published(flatten_metrics(read_json(summary)), units)


def plot(cfg: dict, tracker: Tracker, *, summary: Path, figures: Path) -> list[Path]:
    from reprolab.io import read_json
    from reprolab.papers.dialdefer import plot as draw

    by_mode = read_json(summary)
    return [
        draw.dds_per_domain(by_mode, figures / "dds_per_domain.png"),
        draw.accuracy_vs_dds(by_mode, figures / "accuracy_vs_dds.png"),
        draw.conditions(by_mode, cfg["evaluate"], figures / "ablation_mitigation.png"),
    ]


STEPS = [
    Step("data", data, "generate the candidate items", outputs=("candidates",), reads=("data",),
         sections=eval_data),
    Step("data_calibrate", data_calibrate, "keep the items the judge knows as statements (eval)",
         inputs=("model", "candidates"), outputs=("eval", "report"),
         reads=("data", "judge", "calibrate"), sections=calibration_sections, kind="generate"),
    Step("data_train", data_train, "the fine-tuning split (train), disjoint from the judged items",
         outputs=("train",), reads=("data",)),
    Step("train", train, "a fine-tuning mitigation (arm sft or dpo) on the held-out train items",
         wildcards=("arm",), inputs=("data", "model"), outputs=("out",),
         params=("checkpoints",), reads=("sft", "dpo", "judge"), sections=one_arm,
         describes=finetuning, kind="train"),
    Step("score", score, "judge every condition's C1 and C2 prompts in one scoring mode",
         wildcards=("mode",), inputs=("model", "data"), outputs=("out",), reads=("judge",),
         kind="generate"),
    Step("score_finetuned", score_finetuned, "a fine-tuned judge on the paper's prompt",
         wildcards=("mode", "arm"), inputs=("model", "data"), outputs=("out",),
         reads=("sft", "dpo", "judge"), sections=one_arm, describes=finetuning,
         kind="generate"),
    Step("metrics_summary", metrics_summary, "DDS, accuracy, CIs per mode -> summary.json",
         inputs=("records", "calibration"), outputs=("summary",), reads=("evaluate",)),
    Step("metrics", metrics, "the summary flattened -> metrics.json; nulls -> units.json",
         inputs=("records", "summary"), outputs=("metrics",), reads=("evaluate",)),
    Step("plot", plot, "draw the figures", inputs=("summary",), params=("figures",),
         reads=("evaluate",)),
]  # fmt: skip

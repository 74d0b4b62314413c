# dialdefer: C1 (statement) vs C2 (speaker) framings judged by one model, DDS and claims.
from reprolab.papers.dialdefer import METHODS as DIALDEFER_METHODS
from reprolab.papers.dialdefer.steps import FINETUNED_MODE as DIALDEFER_FINETUNED_MODE
from reprolab.papers.dialdefer.steps import MODES as DIALDEFER_MODES

DIALDEFER_OUT = W.out("dialdefer")
DIALDEFER_BASE = W.model(PAPER_CONFIG["dialdefer"]["model"])
# The scoring modes a scale runs (judge.modes; both by default).
DIALDEFER_RUN_MODES = PAPER_CONFIG["dialdefer"]["judge"].get(
    "modes", list(DIALDEFER_MODES)
)
# Every judge's verdicts: the base model's per scoring mode, each fine-tuned arm's by forced choice.
DIALDEFER_RECORDS = expand(
    f"{DIALDEFER_OUT}/eval/judged/{{mode}}.jsonl",
    mode=DIALDEFER_RUN_MODES,
    allow_missing=True,
) + expand(
    f"{DIALDEFER_OUT}/eval/judged/{{mode}}.{{arm}}.jsonl",
    mode=DIALDEFER_FINETUNED_MODE,
    arm=DIALDEFER_METHODS,
    allow_missing=True,
)
DIALDEFER_SUMMARY = f"{DIALDEFER_OUT}/eval/summary.json"
DIALDEFER_CALIBRATION = f"{DIALDEFER_OUT}/data/calibration.json"


# The candidate items and the fine-tuning split are two jobs: a new split size
# (n_train_per_domain) retrains the mitigations only, and rescores no base-judge condition.
rule dialdefer_data:
    output:
        candidates=f"{DIALDEFER_OUT}/data/candidates.jsonl",
    log:
        W.log("dialdefer", "data"),
    benchmark:
        W.benchmark("dialdefer", "data")
    conda:
        CONDA_ENV
    threads: W.threads("dialdefer", "data")
    resources:
        **W.resources("dialdefer", "data"),
    params:
        cfg=W.cfg("dialdefer", "data"),
    shell:
        W.shell("dialdefer", "data")


# The judged items: the candidates the base judge gets right as statements (calibrate section).
rule dialdefer_data_calibrate:
    input:
        model=DIALDEFER_BASE,
        candidates=rules.dialdefer_data.output.candidates,
    output:
        eval=f"{DIALDEFER_OUT}/data/eval.jsonl",
        report=DIALDEFER_CALIBRATION,
    log:
        W.log("dialdefer", "data_calibrate"),
    benchmark:
        W.benchmark("dialdefer", "data_calibrate")
    conda:
        CONDA_ENV
    threads: W.threads("dialdefer", "data_calibrate")
    resources:
        **W.resources("dialdefer", "data_calibrate"),
    params:
        cfg=W.cfg("dialdefer", "data_calibrate"),
    shell:
        W.shell("dialdefer", "data_calibrate")


rule dialdefer_data_train:
    output:
        train=f"{DIALDEFER_OUT}/data/train.jsonl",
    log:
        W.log("dialdefer", "data_train"),
    benchmark:
        W.benchmark("dialdefer", "data_train")
    conda:
        CONDA_ENV
    threads: W.threads("dialdefer", "data_train")
    resources:
        **W.resources("dialdefer", "data_train"),
    params:
        cfg=W.cfg("dialdefer", "data_train"),
    shell:
        W.shell("dialdefer", "data_train")


rule dialdefer_score:
    input:
        model=DIALDEFER_BASE,
        data=rules.dialdefer_data_calibrate.output.eval,
    output:
        out=f"{DIALDEFER_OUT}/eval/judged/{{mode}}.jsonl",
    log:
        W.log("dialdefer", "score_{mode}"),
    benchmark:
        W.benchmark("dialdefer", "score_{mode}")
    wildcard_constraints:
        mode="|".join(DIALDEFER_MODES),
    conda:
        CONDA_ENV
    threads: W.threads("dialdefer", "score")
    resources:
        **W.resources("dialdefer", "score"),
    params:
        cfg=W.cfg("dialdefer", "score"),
    shell:
        W.shell("dialdefer", "score")


rule dialdefer_train:
    input:
        data=rules.dialdefer_data_train.output.train,
        model=DIALDEFER_BASE,
    output:
        out=directory(f"{DIALDEFER_OUT}/models/{{arm}}"),
    log:
        W.log("dialdefer", "train_{arm}"),
    benchmark:
        W.benchmark("dialdefer", "train_{arm}")
    wildcard_constraints:
        arm="|".join(DIALDEFER_METHODS),
    conda:
        CONDA_ENV
    threads: W.threads("dialdefer", "train")
    resources:
        **W.resources("dialdefer", "train"),
    params:
        cfg=W.cfg("dialdefer", "train"),
        # Not an output: Snakemake keeps it when a job fails, so a rerun resumes from it.
        checkpoints=f"{DIALDEFER_OUT}/checkpoints/{{arm}}",
    shell:
        W.shell("dialdefer", "train")


rule dialdefer_score_finetuned:
    input:
        model=rules.dialdefer_train.output.out,
        data=rules.dialdefer_data_calibrate.output.eval,
    output:
        out=f"{DIALDEFER_OUT}/eval/judged/{{mode}}.{{arm}}.jsonl",
    log:
        W.log("dialdefer", "score_finetuned_{mode}_{arm}"),
    benchmark:
        W.benchmark("dialdefer", "score_finetuned_{mode}_{arm}")
    wildcard_constraints:
        mode=DIALDEFER_FINETUNED_MODE,
        arm="|".join(DIALDEFER_METHODS),
    conda:
        CONDA_ENV
    threads: W.threads("dialdefer", "score_finetuned")
    resources:
        **W.resources("dialdefer", "score_finetuned"),
    params:
        cfg=W.cfg("dialdefer", "score_finetuned"),
    shell:
        W.shell("dialdefer", "score_finetuned")


rule dialdefer_metrics_summary:
    input:
        records=DIALDEFER_RECORDS,
        calibration=DIALDEFER_CALIBRATION,
    output:
        summary=DIALDEFER_SUMMARY,
    log:
        W.log("dialdefer", "metrics_summary"),
    benchmark:
        W.benchmark("dialdefer", "metrics_summary")
    conda:
        CONDA_ENV
    threads: W.threads("dialdefer", "metrics_summary")
    resources:
        **W.resources("dialdefer", "metrics_summary"),
    params:
        cfg=W.cfg("dialdefer", "metrics_summary"),
    shell:
        W.shell("dialdefer", "metrics_summary")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["dialdefer"] = {
    "metrics": {"records": DIALDEFER_RECORDS, "summary": DIALDEFER_SUMMARY},
    "plot": {"summary": DIALDEFER_SUMMARY},
}

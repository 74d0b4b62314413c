# dialdefer: C1 (statement) vs C2 (speaker) framings judged by one model, DDS and claims.

DIALDEFER = PAPER_CONFIG["dialdefer"]
DIALDEFER_OUT = f"{RESULTS}/dialdefer"
DIALDEFER_MODES = ["forced_choice", "parsed"]
# The fine-tuning mitigations; each is trained, then judged by forced choice as an arm.
DIALDEFER_METHODS = ["sft", "dpo"]
DIALDEFER_FIGURES = ["dds_per_domain", "accuracy_vs_dds", "ablation_mitigation"]


rule dialdefer_data:
    output:
        eval=f"{DIALDEFER_OUT}/data/eval.jsonl",
        train=f"{DIALDEFER_OUT}/data/train.jsonl",
    log:
        log_path("dialdefer", "data"),
    benchmark:
        benchmark_path("dialdefer", "data")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("dialdefer", data=DIALDEFER["data"]),
    shell:
        "reprolab dialdefer data --config-json {params.cfg:q}"
        " --eval {output.eval} --train {output.train} 2> {log}"


rule dialdefer_judge:
    input:
        data=rules.dialdefer_data.output.eval,
        model=model_dir(DIALDEFER["model"]),
    output:
        f"{DIALDEFER_OUT}/eval/judged/{{mode}}.jsonl",
    log:
        log_path("dialdefer", "judge_{mode}"),
    benchmark:
        benchmark_path("dialdefer", "judge_{mode}")
    wildcard_constraints:
        mode="forced_choice|parsed",
    threads: job("generate")["threads"]
    resources:
        **job_resources("generate"),
    params:
        cfg=step_config("dialdefer", judge=DIALDEFER["judge"]),
    shell:
        "reprolab dialdefer judge --config-json {params.cfg:q} --mode {wildcards.mode}"
        " --model {input.model} --data {input.data} --out {output} 2> {log}"


def dialdefer_finetune_config(wildcards):
    """The step config of one fine-tuning arm: its own section, so SFT and DPO rerun apart."""
    method = wildcards.method
    return step_config(
        "dialdefer", **{method: DIALDEFER[method]}, judge=DIALDEFER["judge"]
    )(wildcards)


rule dialdefer_train:
    input:
        data=rules.dialdefer_data.output.train,
        model=model_dir(DIALDEFER["model"]),
    output:
        directory(f"{DIALDEFER_OUT}/models/{{method}}"),
    log:
        log_path("dialdefer", "train_{method}"),
    benchmark:
        benchmark_path("dialdefer", "train_{method}")
    wildcard_constraints:
        method="|".join(DIALDEFER_METHODS),
    threads: job("train")["threads"]
    resources:
        **job_resources("train"),
    params:
        cfg=dialdefer_finetune_config,
        # Not an output: Snakemake keeps it when a job fails, so a rerun resumes from it.
        checkpoints=f"{DIALDEFER_OUT}/checkpoints/{{method}}",
    shell:
        "reprolab dialdefer train --config-json {params.cfg:q} --method {wildcards.method}"
        " --data {input.data} --model {input.model} --out {output}"
        " --checkpoints {params.checkpoints} 2> {log}"


rule dialdefer_judge_finetuned:
    input:
        data=rules.dialdefer_data.output.eval,
        model=rules.dialdefer_train.output,
    output:
        f"{DIALDEFER_OUT}/eval/judged/forced_choice.{{method}}.jsonl",
    log:
        log_path("dialdefer", "judge_forced_choice_{method}"),
    benchmark:
        benchmark_path("dialdefer", "judge_forced_choice_{method}")
    wildcard_constraints:
        method="|".join(DIALDEFER_METHODS),
    threads: job("generate")["threads"]
    resources:
        **job_resources("generate"),
    params:
        cfg=dialdefer_finetune_config,
    shell:
        "reprolab dialdefer judge --config-json {params.cfg:q} --mode forced_choice"
        " --arm {wildcards.method} --model {input.model} --data {input.data}"
        " --out {output} 2> {log}"


rule dialdefer_metrics:
    input:
        expand(f"{DIALDEFER_OUT}/eval/judged/{{mode}}.jsonl", mode=DIALDEFER_MODES),
        expand(
            f"{DIALDEFER_OUT}/eval/judged/forced_choice.{{method}}.jsonl",
            method=DIALDEFER_METHODS,
        ),
    output:
        metrics=f"{DIALDEFER_OUT}/metrics.json",
        units=f"{DIALDEFER_OUT}/units.json",
        summary=f"{DIALDEFER_OUT}/eval/summary.json",
    log:
        log_path("dialdefer", "metrics"),
    benchmark:
        benchmark_path("dialdefer", "metrics")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("dialdefer", evaluate=DIALDEFER["evaluate"]),
    shell:
        "reprolab dialdefer metrics --config-json {params.cfg:q} --records {input}"
        " --out {output.metrics} --summary {output.summary} 2> {log}"


rule dialdefer_plot:
    input:
        rules.dialdefer_metrics.output.summary,
    output:
        figures=[
            paper_figure("dialdefer", f"{DIALDEFER_OUT}/figures/{name}.png")
            for name in DIALDEFER_FIGURES
        ],
        data=expand(f"{DIALDEFER_OUT}/figures/{{name}}.csv", name=DIALDEFER_FIGURES),
    log:
        log_path("dialdefer", "plot"),
    benchmark:
        benchmark_path("dialdefer", "plot")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("dialdefer", evaluate=DIALDEFER["evaluate"]),
    shell:
        "reprolab dialdefer plot --config-json {params.cfg:q} --summary {input}"
        " --out-dir {DIALDEFER_OUT}/figures 2> {log}"

# sgd_rlvr: GRPO with SGD vs AdamW (and momentum / RMSprop), the SFT control, sparsity, claims.

SGD_RLVR = PAPER_CONFIG["sgd_rlvr"]
SGD_RLVR_OUT = f"{RESULTS}/sgd_rlvr"
SGD_RLVR_TRAINED = [f"grpo_{arm}" for arm in SGD_RLVR["grpo"]["arms"]] + [
    f"sft_{arm}" for arm in SGD_RLVR["sft"]["arms"]
]
SGD_RLVR_ARMS = ["base"] + SGD_RLVR_TRAINED
SGD_RLVR_FIGURES = [
    "training_curves",
    "final_accuracy",
    "updated_fraction",
    "per_layer_sparsity",
]


def sgd_rlvr_arm_config(wildcards):
    kind, arm = wildcards.arm.split("_", 1)
    section = SGD_RLVR[kind]
    chosen = {"trainer": section["trainer"], "arms": {arm: section["arms"][arm]}}
    return step_config("sgd_rlvr", **{kind: chosen, "reward": SGD_RLVR["reward"]})(
        wildcards
    )


def sgd_rlvr_model(wildcards):
    if wildcards.arm == "base":
        return model_dir(SGD_RLVR["model"])
    return f"{SGD_RLVR_OUT}/models/{wildcards.arm}"


rule sgd_rlvr_data:
    output:
        train=f"{SGD_RLVR_OUT}/data/train.jsonl",
        test=f"{SGD_RLVR_OUT}/data/test.jsonl",
    log:
        log_path("sgd_rlvr", "data"),
    benchmark:
        benchmark_path("sgd_rlvr", "data")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("sgd_rlvr", data=SGD_RLVR["data"]),
    shell:
        "reprolab sgd_rlvr data --config-json {params.cfg:q}"
        " --train {output.train} --test {output.test} 2> {log}"


rule sgd_rlvr_train:
    input:
        data=rules.sgd_rlvr_data.output.train,
        model=model_dir(SGD_RLVR["model"]),
    output:
        directory(f"{SGD_RLVR_OUT}/models/{{arm}}"),
    log:
        log_path("sgd_rlvr", "train_{arm}"),
    benchmark:
        benchmark_path("sgd_rlvr", "train_{arm}")
    wildcard_constraints:
        arm="(grpo|sft)_[a-z0-9_]+",
    threads: job("train")["threads"]
    resources:
        **job_resources("train"),
    params:
        cfg=sgd_rlvr_arm_config,
        # Not an output: Snakemake keeps it when a job fails, so a rerun resumes from it.
        checkpoints=f"{SGD_RLVR_OUT}/checkpoints/{{arm}}",
    shell:
        "reprolab sgd_rlvr train --config-json {params.cfg:q} --arm {wildcards.arm}"
        " --data {input.data} --model {input.model} --out {output}"
        " --checkpoints {params.checkpoints} 2> {log}"


rule sgd_rlvr_evaluate:
    input:
        model=sgd_rlvr_model,
        base=model_dir(SGD_RLVR["model"]),
        data=rules.sgd_rlvr_data.output.test,
    output:
        json=f"{SGD_RLVR_OUT}/eval/{{arm}}.json",
        predictions=f"{SGD_RLVR_OUT}/eval/{{arm}}.predictions.jsonl",
    log:
        log_path("sgd_rlvr", "evaluate_{arm}"),
    benchmark:
        benchmark_path("sgd_rlvr", "evaluate_{arm}")
    wildcard_constraints:
        arm="base|(grpo|sft)_[a-z0-9_]+",
    threads: job("generate")["threads"]
    resources:
        **job_resources("generate"),
    params:
        cfg=step_config("sgd_rlvr", evaluate=SGD_RLVR["evaluate"]),
    shell:
        "reprolab sgd_rlvr evaluate --config-json {params.cfg:q} --arm {wildcards.arm}"
        " --model {input.model} --base {input.base} --data {input.data}"
        " --out {output.json} --predictions {output.predictions} 2> {log}"


rule sgd_rlvr_metrics:
    input:
        evals=expand(f"{SGD_RLVR_OUT}/eval/{{arm}}.json", arm=SGD_RLVR_ARMS),
        predictions=expand(
            f"{SGD_RLVR_OUT}/eval/{{arm}}.predictions.jsonl", arm=SGD_RLVR_ARMS
        ),
    output:
        metrics=f"{SGD_RLVR_OUT}/metrics.json",
        units=f"{SGD_RLVR_OUT}/units.json",
    log:
        log_path("sgd_rlvr", "metrics"),
    benchmark:
        benchmark_path("sgd_rlvr", "metrics")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("sgd_rlvr"),
    shell:
        "reprolab sgd_rlvr metrics --config-json {params.cfg:q} --evals {input.evals}"
        " --predictions {input.predictions} --out {output.metrics} 2> {log}"


rule sgd_rlvr_plot:
    input:
        evals=expand(f"{SGD_RLVR_OUT}/eval/{{arm}}.json", arm=SGD_RLVR_ARMS),
        models=expand(f"{SGD_RLVR_OUT}/models/{{arm}}", arm=SGD_RLVR_TRAINED),
    output:
        figures=[
            paper_figure("sgd_rlvr", f"{SGD_RLVR_OUT}/figures/{name}.png")
            for name in SGD_RLVR_FIGURES
        ],
        data=expand(f"{SGD_RLVR_OUT}/figures/{{name}}.csv", name=SGD_RLVR_FIGURES),
    log:
        log_path("sgd_rlvr", "plot"),
    benchmark:
        benchmark_path("sgd_rlvr", "plot")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("sgd_rlvr"),
        logs=lambda w, input: " ".join(f"{m}/train_log.jsonl" for m in input.models),
    shell:
        "reprolab sgd_rlvr plot --config-json {params.cfg:q} --evals {input.evals}"
        " --logs {params.logs} --out-dir {SGD_RLVR_OUT}/figures 2> {log}"

# sgd_rlvr: GRPO with SGD vs AdamW (and momentum / RMSprop), the SFT control, sparsity, claims.
from reprolab.papers.sgd_rlvr.steps import arms as sgd_rlvr_arms

SGD_RLVR_OUT = W.out("sgd_rlvr")
SGD_RLVR_BASE = W.model(PAPER_CONFIG["sgd_rlvr"]["model"])
SGD_RLVR_TRAINED = sgd_rlvr_arms(PAPER_CONFIG["sgd_rlvr"])
SGD_RLVR_ARMS = ["base"] + SGD_RLVR_TRAINED


# Train and test sets are two jobs: a test-set setting (data.n_test) reruns only the test set
# and the scores after it, never a training (the train job's config lacks the test-only keys).
rule sgd_rlvr_data:
    output:
        train=f"{SGD_RLVR_OUT}/data/train.jsonl",
    log:
        W.log("sgd_rlvr", "data"),
    benchmark:
        W.benchmark("sgd_rlvr", "data")
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "data")
    resources:
        **W.resources("sgd_rlvr", "data"),
    params:
        cfg=W.cfg("sgd_rlvr", "data"),
    shell:
        W.shell("sgd_rlvr", "data")


rule sgd_rlvr_data_test:
    output:
        test=f"{SGD_RLVR_OUT}/data/test.jsonl",
    log:
        W.log("sgd_rlvr", "data_test"),
    benchmark:
        W.benchmark("sgd_rlvr", "data_test")
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "data_test")
    resources:
        **W.resources("sgd_rlvr", "data_test"),
    params:
        cfg=W.cfg("sgd_rlvr", "data_test"),
    shell:
        W.shell("sgd_rlvr", "data_test")


rule sgd_rlvr_train:
    input:
        data=rules.sgd_rlvr_data.output.train,
        model=SGD_RLVR_BASE,
    output:
        out=directory(f"{SGD_RLVR_OUT}/models/{{arm}}"),
    log:
        W.log("sgd_rlvr", "train_{arm}"),
    benchmark:
        W.benchmark("sgd_rlvr", "train_{arm}")
    wildcard_constraints:
        arm="(grpo|sft)_[a-z0-9_]+",
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "train")
    resources:
        **W.resources("sgd_rlvr", "train"),
    params:
        cfg=W.cfg("sgd_rlvr", "train"),
        # Not an output: Snakemake keeps it when a job fails, so a rerun resumes from it.
        checkpoints=f"{SGD_RLVR_OUT}/checkpoints/{{arm}}",
    shell:
        W.shell("sgd_rlvr", "train")


rule sgd_rlvr_score:
    input:
        model=lambda wc: (
            SGD_RLVR_BASE if wc.arm == "base" else f"{SGD_RLVR_OUT}/models/{wc.arm}"
        ),
        base=SGD_RLVR_BASE,
        data=rules.sgd_rlvr_data_test.output.test,
    output:
        result=f"{SGD_RLVR_OUT}/eval/{{arm}}.json",
        predictions=f"{SGD_RLVR_OUT}/eval/{{arm}}.predictions.jsonl",
    log:
        W.log("sgd_rlvr", "score_{arm}"),
    benchmark:
        W.benchmark("sgd_rlvr", "score_{arm}")
    wildcard_constraints:
        arm="base|(grpo|sft)_[a-z0-9_]+",
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "score")
    resources:
        **W.resources("sgd_rlvr", "score"),
    params:
        cfg=W.cfg("sgd_rlvr", "score"),
    shell:
        W.shell("sgd_rlvr", "score")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["sgd_rlvr"] = {
    "metrics": {
        "evals": expand(
            f"{SGD_RLVR_OUT}/eval/{{arm}}.json", arm=SGD_RLVR_ARMS, allow_missing=True
        ),
        "predictions": expand(
            f"{SGD_RLVR_OUT}/eval/{{arm}}.predictions.jsonl",
            arm=SGD_RLVR_ARMS,
            allow_missing=True,
        ),
    },
    "plot": {
        "evals": expand(
            f"{SGD_RLVR_OUT}/eval/{{arm}}.json", arm=SGD_RLVR_ARMS, allow_missing=True
        ),
        "models": expand(
            f"{SGD_RLVR_OUT}/models/{{arm}}", arm=SGD_RLVR_TRAINED, allow_missing=True
        ),
    },
}

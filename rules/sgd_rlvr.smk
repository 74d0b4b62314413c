# sgd_rlvr: GRPO with SGD vs AdamW (and momentum / RMSprop), the SFT control, sparsity, claims.
from reprolab.papers.sgd_rlvr.steps import grid_arms as sgd_rlvr_grid_arms
from reprolab.papers.sgd_rlvr.steps import seed_arms as sgd_rlvr_seed_arms
from reprolab.papers.sgd_rlvr.steps import task_file as sgd_rlvr_task_file

SGD_RLVR_OUT = W.out("sgd_rlvr")
SGD_RLVR_FIRST = W.paper_dir("sgd_rlvr")
SGD_RLVR_CONFIG = PAPER_CONFIG["sgd_rlvr"]
SGD_RLVR_BASE = W.model(SGD_RLVR_CONFIG["model"])


# Train and test sets are two jobs: a test-set setting (data.n_test) reruns only the test set
# and the scores after it, never a training (the train job's config lacks the test-only keys).
rule sgd_rlvr_data:
    output:
        train=f"{SGD_RLVR_OUT}/data/{{split}}.jsonl",
    log:
        W.log("sgd_rlvr", "data_{split}"),
    benchmark:
        W.benchmark("sgd_rlvr", "data_{split}")
    # Two tasks, each with its own files: data/train.jsonl the RL task's, data/sft_train.jsonl
    # the SFT task's.
    wildcard_constraints:
        split="(sft_)?train",
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
        test=f"{SGD_RLVR_OUT}/data/{{split}}.jsonl",
    log:
        W.log("sgd_rlvr", "data_{split}"),
    benchmark:
        W.benchmark("sgd_rlvr", "data_{split}")
    # Two tasks, each with its own files: data/test.jsonl the RL task's, data/sft_test.jsonl
    # the SFT task's.
    wildcard_constraints:
        split="(sft_)?test",
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "data_test")
    resources:
        **W.resources("sgd_rlvr", "data_test"),
    params:
        cfg=W.cfg("sgd_rlvr", "data_test"),
    shell:
        W.shell("sgd_rlvr", "data_test")


# Validation problems for the learning-rate grid (first seed only; never a train or test item).
rule sgd_rlvr_data_val:
    output:
        val=f"{SGD_RLVR_OUT}/data/{{split}}.jsonl",
    log:
        W.log("sgd_rlvr", "data_{split}"),
    benchmark:
        W.benchmark("sgd_rlvr", "data_{split}")
    # Two tasks, each with its own files: data/val.jsonl the RL task's, data/sft_val.jsonl
    # the SFT task's.
    wildcard_constraints:
        split="(sft_)?val",
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "data_val")
    resources:
        **W.resources("sgd_rlvr", "data_val"),
    params:
        cfg=W.cfg("sgd_rlvr", "data_val"),
    shell:
        W.shell("sgd_rlvr", "data_val")


rule sgd_rlvr_train:
    input:
        data=lambda wc: sgd_rlvr_task_file(SGD_RLVR_OUT, wc.seed, wc.arm, "train"),
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
            SGD_RLVR_BASE
            if wc.arm in ("base", "base_sft")
            else f"{SGD_RLVR_OUT.replace('{seed}', wc.seed)}/models/{wc.arm}"
        ),
        base=SGD_RLVR_BASE,
        data=lambda wc: sgd_rlvr_task_file(SGD_RLVR_OUT, wc.seed, wc.arm, "test"),
    output:
        result=f"{SGD_RLVR_OUT}/eval/{{arm}}.json",
        predictions=f"{SGD_RLVR_OUT}/eval/{{arm}}.predictions.jsonl",
    log:
        W.log("sgd_rlvr", "score_{arm}"),
    benchmark:
        W.benchmark("sgd_rlvr", "score_{arm}")
    wildcard_constraints:
        arm="base|base_sft|(grpo|sft)_[a-z0-9_]+",
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "score")
    resources:
        **W.resources("sgd_rlvr", "score"),
    params:
        cfg=W.cfg("sgd_rlvr", "score"),
    shell:
        W.shell("sgd_rlvr", "score")


# Validation accuracy of a tuned arm or a grid point (first seed: the grid is chosen once).
rule sgd_rlvr_score_val:
    input:
        model=f"{SGD_RLVR_FIRST}/models/{{arm}}",
        data=lambda wc: sgd_rlvr_task_file(SGD_RLVR_OUT, "", wc.arm, "val"),
    output:
        result=f"{SGD_RLVR_FIRST}/val/{{arm}}.json",
    log:
        W.first_seed(W.log("sgd_rlvr", "score_val_{arm}")),
    benchmark:
        W.first_seed(W.benchmark("sgd_rlvr", "score_val_{arm}"))
    wildcard_constraints:
        arm="(grpo|sft)_[a-z0-9_]+",
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "score_val")
    resources:
        **W.resources("sgd_rlvr", "score_val"),
    params:
        cfg=W.cfg("sgd_rlvr", "score_val"),
    shell:
        W.shell("sgd_rlvr", "score_val")


# The learning rate each tuned arm takes on validation; every seed's metrics records it.
rule sgd_rlvr_metrics_grid:
    input:
        vals=expand(
            f"{SGD_RLVR_FIRST}/val/{{arm}}.json",
            arm=SGD_RLVR_CONFIG["grid"]["arms"] + sgd_rlvr_grid_arms(SGD_RLVR_CONFIG),
        ),
    output:
        grid=f"{SGD_RLVR_FIRST}/grid.json",
    log:
        W.first_seed(W.log("sgd_rlvr", "metrics_grid")),
    benchmark:
        W.first_seed(W.benchmark("sgd_rlvr", "metrics_grid"))
    conda:
        CONDA_ENV
    threads: W.threads("sgd_rlvr", "metrics_grid")
    resources:
        **W.resources("sgd_rlvr", "metrics_grid"),
    params:
        cfg=W.cfg("sgd_rlvr", "metrics_grid"),
    shell:
        W.shell("sgd_rlvr", "metrics_grid")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["sgd_rlvr"] = {
    "metrics": {
        "evals": lambda wc: expand(
            f"{SGD_RLVR_OUT}/eval/{{arm}}.json",
            arm=sgd_rlvr_seed_arms(SGD_RLVR_CONFIG, wc.seed, scored=True),
            seed=wc.seed,
        ),
        "predictions": lambda wc: expand(
            f"{SGD_RLVR_OUT}/eval/{{arm}}.predictions.jsonl",
            arm=sgd_rlvr_seed_arms(SGD_RLVR_CONFIG, wc.seed, scored=True),
            seed=wc.seed,
        ),
        "grid": rules.sgd_rlvr_metrics_grid.output.grid,
    },
    "plot": {
        "evals": lambda wc: expand(
            f"{SGD_RLVR_OUT}/eval/{{arm}}.json",
            arm=sgd_rlvr_seed_arms(SGD_RLVR_CONFIG, wc.seed, scored=True),
            seed=wc.seed,
        ),
        "models": lambda wc: expand(
            f"{SGD_RLVR_OUT}/models/{{arm}}",
            arm=sgd_rlvr_seed_arms(SGD_RLVR_CONFIG, wc.seed),
            seed=wc.seed,
        ),
    },
}

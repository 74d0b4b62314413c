# toolr0: generator/solver self-play GRPO for tool calling, tools executed in the sandbox.
# One rule per role and iteration (wildcards: variant, iteration); the ablations are variants.
from reprolab.papers.toolr0 import steps as toolr0

TOOLR0_OUT = W.out("toolr0")
TOOLR0_BASE = W.model(PAPER_CONFIG["toolr0"]["model"])
TOOLR0_ARMS = toolr0.arms(PAPER_CONFIG["toolr0"])
# Every variant's curriculum stats, iteration by iteration.
TOOLR0_STATS = expand(
    f"{TOOLR0_OUT}/data/{{variant}}/stats_iter{{iteration}}.json",
    variant=toolr0.variants(PAPER_CONFIG["toolr0"]),
    iteration=toolr0.iterations(PAPER_CONFIG["toolr0"]),
    allow_missing=True,
)


wildcard_constraints:
    iteration=r"\d+",


rule toolr0_data:
    output:
        test=f"{TOOLR0_OUT}/data/test.jsonl",
        tools=f"{TOOLR0_OUT}/data/tools.json",
    log:
        W.log("toolr0", "data"),
    benchmark:
        W.benchmark("toolr0", "data")
    conda:
        CONDA_ENV
    threads: W.threads("toolr0", "data")
    resources:
        **W.resources("toolr0", "data"),
    params:
        cfg=W.cfg("toolr0", "data"),
    shell:
        W.shell("toolr0", "data")


rule toolr0_train_generator:
    input:
        model=lambda wc: toolr0.generator_init(
            TOOLR0_OUT, TOOLR0_BASE, wc.variant, int(wc.iteration)
        ),
        solver=lambda wc: toolr0.solver_path(
            TOOLR0_OUT, TOOLR0_BASE, wc.variant, int(wc.iteration) - 1
        ),
    output:
        out=directory(f"{TOOLR0_OUT}/models/{{variant}}/generator_{{iteration}}"),
    log:
        W.log("toolr0", "train_generator_{variant}_{iteration}"),
    benchmark:
        W.benchmark("toolr0", "train_generator_{variant}_{iteration}")
    wildcard_constraints:
        variant="toolr0|shared|no_rdiff",
    conda:
        CONDA_ENV
    threads: W.threads("toolr0", "train_generator")
    resources:
        **W.resources("toolr0", "train_generator"),
    params:
        cfg=W.cfg("toolr0", "train_generator"),
        # Not an output: Snakemake keeps it when a job fails, so a rerun resumes from it.
        checkpoints=f"{TOOLR0_OUT}/checkpoints/{{variant}}/generator_{{iteration}}",
    shell:
        W.shell("toolr0", "train_generator")


rule toolr0_generate:
    input:
        generator=lambda wc: toolr0.generator_path(
            TOOLR0_OUT, TOOLR0_BASE, wc.variant, int(wc.iteration)
        ),
        solver=lambda wc: toolr0.solver_path(
            TOOLR0_OUT, TOOLR0_BASE, wc.variant, int(wc.iteration) - 1
        ),
    output:
        tasks=f"{TOOLR0_OUT}/data/{{variant}}/tasks_iter{{iteration}}.jsonl",
        stats=f"{TOOLR0_OUT}/data/{{variant}}/stats_iter{{iteration}}.json",
    log:
        W.log("toolr0", "generate_{variant}_{iteration}"),
    benchmark:
        W.benchmark("toolr0", "generate_{variant}_{iteration}")
    conda:
        CONDA_ENV
    threads: W.threads("toolr0", "generate")
    resources:
        **W.resources("toolr0", "generate"),
    params:
        cfg=W.cfg("toolr0", "generate"),
    shell:
        W.shell("toolr0", "generate")


rule toolr0_train_solver:
    input:
        tasks=rules.toolr0_generate.output.tasks,
        model=lambda wc: toolr0.solver_init(
            TOOLR0_OUT, TOOLR0_BASE, wc.variant, int(wc.iteration)
        ),
    output:
        out=directory(f"{TOOLR0_OUT}/models/{{variant}}/solver_{{iteration}}"),
    log:
        W.log("toolr0", "train_solver_{variant}_{iteration}"),
    benchmark:
        W.benchmark("toolr0", "train_solver_{variant}_{iteration}")
    conda:
        CONDA_ENV
    threads: W.threads("toolr0", "train_solver")
    resources:
        **W.resources("toolr0", "train_solver"),
    params:
        cfg=W.cfg("toolr0", "train_solver"),
        checkpoints=f"{TOOLR0_OUT}/checkpoints/{{variant}}/solver_{{iteration}}",
    shell:
        W.shell("toolr0", "train_solver")


# One arm: base, or <variant>/iter<i> (the solver after that iteration).
rule toolr0_score:
    input:
        model=lambda wc: toolr0.scored_model(TOOLR0_OUT, TOOLR0_BASE, wc.arm),
        data=rules.toolr0_data.output.test,
    output:
        out=f"{TOOLR0_OUT}/eval/{{arm}}.json",
        predictions=f"{TOOLR0_OUT}/eval/{{arm}}.predictions.jsonl",
    log:
        W.log("toolr0", "score_{arm}"),
    benchmark:
        W.benchmark("toolr0", "score_{arm}")
    wildcard_constraints:
        arm=r"base|[a-z0-9_]+/iter\d+",
    conda:
        CONDA_ENV
    threads: W.threads("toolr0", "score")
    resources:
        **W.resources("toolr0", "score"),
    params:
        cfg=W.cfg("toolr0", "score"),
    shell:
        W.shell("toolr0", "score")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["toolr0"] = {
    "metrics": {
        "evals": expand(
            f"{TOOLR0_OUT}/eval/{{arm}}.json", arm=TOOLR0_ARMS, allow_missing=True
        ),
        "stats": TOOLR0_STATS,
        "predictions": expand(
            f"{TOOLR0_OUT}/eval/{{arm}}.predictions.jsonl",
            arm=TOOLR0_ARMS,
            allow_missing=True,
        ),
    },
    "plot": {
        "metrics": f"{TOOLR0_OUT}/metrics.json",
        "stats": TOOLR0_STATS,
    },
}

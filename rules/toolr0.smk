# toolr0: generator/solver self-play GRPO for tool calling, tools executed in the sandbox.
# One rule per role and iteration (wildcards: variant, iteration); the ablations are variants.

TOOLR0 = PAPER_CONFIG["toolr0"]
TOOLR0_OUT = f"{RESULTS}/toolr0"
TOOLR0_BASE = model_dir(TOOLR0["model"])
TOOLR0_VARIANTS = TOOLR0["selfplay"]["variants"]
TOOLR0_ITERS = list(range(1, TOOLR0["selfplay"]["iterations"] + 1))
TOOLR0_FIGURES = ["curriculum", "accuracy_per_iteration"]


def toolr0_solver(variant, i):
    """The solver after iteration i (the base model before the first)."""
    return TOOLR0_BASE if i == 0 else f"{TOOLR0_OUT}/models/{variant}/solver_{i}"


def toolr0_generator(variant, i):
    """The generator that writes iteration i's tasks; the frozen ablation keeps the base."""
    if variant == "frozen_gen":
        return TOOLR0_BASE
    return f"{TOOLR0_OUT}/models/{variant}/generator_{i}"


def toolr0_generator_init(variant, i):
    """Where generator training starts; with shared weights, from the one shared model."""
    if i == 1:
        return TOOLR0_BASE
    if variant == "shared":
        return toolr0_solver(variant, i - 1)
    return toolr0_generator(variant, i - 1)


def toolr0_solver_init(variant, i):
    """Where solver training starts; with shared weights, from the generator just trained."""
    if variant == "shared":
        return toolr0_generator(variant, i)
    return toolr0_solver(variant, i - 1)


wildcard_constraints:
    iteration=r"\d+",


rule toolr0_data:
    output:
        test=f"{TOOLR0_OUT}/data/test.jsonl",
        tools=f"{TOOLR0_OUT}/data/tools.json",
    log:
        log_path("toolr0", "data"),
    benchmark:
        benchmark_path("toolr0", "data")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config(
            "toolr0",
            tools=TOOLR0["tools"],
            test=TOOLR0["test"],
            sandbox=TOOLR0["sandbox"],
        ),
    shell:
        "reprolab toolr0 data --config-json {params.cfg:q} --test {output.test}"
        " --tools {output.tools} 2> {log}"


rule toolr0_train_generator:
    input:
        model=lambda wc: toolr0_generator_init(wc.variant, int(wc.iteration)),
        solver=lambda wc: toolr0_solver(wc.variant, int(wc.iteration) - 1),
    output:
        directory(f"{TOOLR0_OUT}/models/{{variant}}/generator_{{iteration}}"),
    log:
        log_path("toolr0", "train_generator_{variant}_{iteration}"),
    benchmark:
        benchmark_path("toolr0", "train_generator_{variant}_{iteration}")
    wildcard_constraints:
        variant="toolr0|shared|no_rdiff",
    threads: job("train")["threads"]
    resources:
        **job_resources("train"),
    params:
        cfg=step_config(
            "toolr0",
            tools=TOOLR0["tools"],
            spec=TOOLR0["spec"],
            prompts=TOOLR0["prompts"],
            selfplay=TOOLR0["selfplay"],
            generator=TOOLR0["generator"],
            evaluate=TOOLR0["evaluate"],
            sandbox=TOOLR0["sandbox"],
        ),
        checkpoints=f"{TOOLR0_OUT}/checkpoints/{{variant}}/generator_{{iteration}}",
    shell:
        "reprolab toolr0 train-generator --config-json {params.cfg:q}"
        " --variant {wildcards.variant} --iteration {wildcards.iteration}"
        " --model {input.model} --solver {input.solver} --out {output}"
        " --checkpoints {params.checkpoints} 2> {log}"


rule toolr0_generate:
    input:
        generator=lambda wc: toolr0_generator(wc.variant, int(wc.iteration)),
        solver=lambda wc: toolr0_solver(wc.variant, int(wc.iteration) - 1),
    output:
        tasks=f"{TOOLR0_OUT}/data/{{variant}}/tasks_iter{{iteration}}.jsonl",
        stats=f"{TOOLR0_OUT}/data/{{variant}}/stats_iter{{iteration}}.json",
    log:
        log_path("toolr0", "generate_{variant}_{iteration}"),
    benchmark:
        benchmark_path("toolr0", "generate_{variant}_{iteration}")
    threads: job("generate")["threads"]
    resources:
        **job_resources("generate"),
    params:
        cfg=step_config(
            "toolr0",
            tools=TOOLR0["tools"],
            spec=TOOLR0["spec"],
            prompts=TOOLR0["prompts"],
            selfplay=TOOLR0["selfplay"],
            generate=TOOLR0["generate"],
            evaluate=TOOLR0["evaluate"],
            sandbox=TOOLR0["sandbox"],
        ),
    shell:
        "reprolab toolr0 generate --config-json {params.cfg:q}"
        " --variant {wildcards.variant} --iteration {wildcards.iteration}"
        " --generator {input.generator} --solver {input.solver}"
        " --out {output.tasks} --stats {output.stats} 2> {log}"


rule toolr0_train_solver:
    input:
        tasks=rules.toolr0_generate.output.tasks,
        model=lambda wc: toolr0_solver_init(wc.variant, int(wc.iteration)),
    output:
        directory(f"{TOOLR0_OUT}/models/{{variant}}/solver_{{iteration}}"),
    log:
        log_path("toolr0", "train_solver_{variant}_{iteration}"),
    benchmark:
        benchmark_path("toolr0", "train_solver_{variant}_{iteration}")
    threads: job("train")["threads"]
    resources:
        **job_resources("train"),
    params:
        cfg=step_config("toolr0", prompts=TOOLR0["prompts"], solver=TOOLR0["solver"]),
        checkpoints=f"{TOOLR0_OUT}/checkpoints/{{variant}}/solver_{{iteration}}",
    shell:
        "reprolab toolr0 train-solver --config-json {params.cfg:q}"
        " --variant {wildcards.variant} --iteration {wildcards.iteration}"
        " --tasks {input.tasks} --model {input.model} --out {output}"
        " --checkpoints {params.checkpoints} 2> {log}"


rule toolr0_evaluate:
    input:
        data=rules.toolr0_data.output.test,
        model=lambda wc: toolr0_solver(wc.variant, int(wc.iteration)),
    output:
        summary=f"{TOOLR0_OUT}/eval/{{variant}}/iter{{iteration}}.json",
        predictions=f"{TOOLR0_OUT}/eval/{{variant}}/iter{{iteration}}.predictions.jsonl",
    log:
        log_path("toolr0", "evaluate_{variant}_{iteration}"),
    benchmark:
        benchmark_path("toolr0", "evaluate_{variant}_{iteration}")
    threads: job("generate")["threads"]
    resources:
        **job_resources("generate"),
    params:
        cfg=step_config(
            "toolr0",
            prompts=TOOLR0["prompts"],
            evaluate=TOOLR0["evaluate"],
            sandbox=TOOLR0["sandbox"],
        ),
    shell:
        "reprolab toolr0 evaluate --config-json {params.cfg:q}"
        " --arm {wildcards.variant}.iter{wildcards.iteration} --model {input.model}"
        " --data {input.data} --out {output.summary}"
        " --predictions {output.predictions} 2> {log}"


rule toolr0_evaluate_base:
    input:
        data=rules.toolr0_data.output.test,
        model=TOOLR0_BASE,
    output:
        summary=f"{TOOLR0_OUT}/eval/base.json",
        predictions=f"{TOOLR0_OUT}/eval/base.predictions.jsonl",
    log:
        log_path("toolr0", "evaluate_base"),
    benchmark:
        benchmark_path("toolr0", "evaluate_base")
    threads: job("generate")["threads"]
    resources:
        **job_resources("generate"),
    params:
        cfg=step_config(
            "toolr0",
            prompts=TOOLR0["prompts"],
            evaluate=TOOLR0["evaluate"],
            sandbox=TOOLR0["sandbox"],
        ),
    shell:
        "reprolab toolr0 evaluate --config-json {params.cfg:q} --arm base"
        " --model {input.model} --data {input.data} --out {output.summary}"
        " --predictions {output.predictions} 2> {log}"


rule toolr0_metrics:
    input:
        base=rules.toolr0_evaluate_base.output.summary,
        evals=expand(
            f"{TOOLR0_OUT}/eval/{{variant}}/iter{{iteration}}.json",
            variant=TOOLR0_VARIANTS,
            iteration=TOOLR0_ITERS,
        ),
        stats=expand(
            f"{TOOLR0_OUT}/data/{{variant}}/stats_iter{{iteration}}.json",
            variant=TOOLR0_VARIANTS,
            iteration=TOOLR0_ITERS,
        ),
        base_predictions=rules.toolr0_evaluate_base.output.predictions,
        predictions=expand(
            f"{TOOLR0_OUT}/eval/{{variant}}/iter{{iteration}}.predictions.jsonl",
            variant=TOOLR0_VARIANTS,
            iteration=TOOLR0_ITERS,
        ),
    output:
        metrics=f"{TOOLR0_OUT}/metrics.json",
        units=f"{TOOLR0_OUT}/units.json",
    log:
        log_path("toolr0", "metrics"),
    benchmark:
        benchmark_path("toolr0", "metrics")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("toolr0", selfplay=TOOLR0["selfplay"]),
    shell:
        "reprolab toolr0 metrics --config-json {params.cfg:q}"
        " --evals {input.base} {input.evals} --stats {input.stats}"
        " --predictions {input.base_predictions} {input.predictions}"
        " --out {output.metrics} 2> {log}"


rule toolr0_plot:
    input:
        metrics=rules.toolr0_metrics.output.metrics,
        stats=rules.toolr0_metrics.input.stats,
    output:
        figures=[
            paper_figure("toolr0", f"{TOOLR0_OUT}/figures/{name}.png")
            for name in TOOLR0_FIGURES
        ],
        data=expand(f"{TOOLR0_OUT}/figures/{{name}}.csv", name=TOOLR0_FIGURES),
    log:
        log_path("toolr0", "plot"),
    benchmark:
        benchmark_path("toolr0", "plot")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("toolr0", selfplay=TOOLR0["selfplay"]),
    shell:
        "reprolab toolr0 plot --config-json {params.cfg:q} --metrics {input.metrics}"
        " --stats {input.stats} --out-dir {TOOLR0_OUT}/figures 2> {log}"

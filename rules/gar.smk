# gar: attention to goal tokens over turns, sliding-window closure, crossover, residual probes.

GAR = PAPER_CONFIG["gar"]
GAR_OUT = f"{RESULTS}/gar"
GAR_TASKS = list(GAR["generate"]["tasks"])
# One decode job per (task, condition): small batches of like rows pad least, the jobs spread
# over the cores, and a rerun resumes per condition.
GAR_RUNS = [
    (task, condition)
    for task, conditions in GAR["generate"]["tasks"].items()
    for condition in conditions
]
GAR_TRACES = [
    f"{GAR_OUT}/eval/traces/{task}/{condition}" for task, condition in GAR_RUNS
]
GAR_FIGURES = [
    "gar_vs_turn",
    "recall_vs_turn",
    "crossover_vs_window",
    "probe_auc",
    "persona_violations",
]


wildcard_constraints:
    gar_task="|".join(GAR_TASKS),
    gar_condition="|".join(GAR["generate"]["conditions"]),


rule gar_data:
    output:
        expand(f"{GAR_OUT}/data/{{task}}.jsonl", task=GAR_TASKS),
    log:
        log_path("gar", "data"),
    benchmark:
        benchmark_path("gar", "data")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("gar", data=GAR["data"]),
    shell:
        "reprolab gar data --config-json {params.cfg:q} --out-dir {GAR_OUT}/data 2> {log}"


rule gar_generate:
    input:
        data=f"{GAR_OUT}/data/{{gar_task}}.jsonl",
        model=model_dir(GAR["model"]),
    output:
        traces=f"{GAR_OUT}/eval/traces/{{gar_task}}/{{gar_condition}}.jsonl",
        hidden=f"{GAR_OUT}/eval/traces/{{gar_task}}/{{gar_condition}}.hidden.npz",
    log:
        log_path("gar", "generate_{gar_task}_{gar_condition}"),
    benchmark:
        benchmark_path("gar", "generate_{gar_task}_{gar_condition}")
    # On a CPU the decode loop is many small ops: one thread per job, jobs side by side.
    threads: GAR["generate"].get("threads", job("generate")["threads"])
    resources:
        **job_resources("generate"),
    params:
        cfg=step_config("gar", generate=GAR["generate"]),
    shell:
        "reprolab gar generate --config-json {params.cfg:q} --task {wildcards.gar_task}"
        " --condition {wildcards.gar_condition}"
        " --model {input.model} --data {input.data} --out {output.traces}"
        " --hidden {output.hidden} --threads {threads} 2> {log}"


rule gar_metrics:
    input:
        traces=[f"{path}.jsonl" for path in GAR_TRACES],
        hidden=[f"{path}.hidden.npz" for path in GAR_TRACES],
    output:
        metrics=f"{GAR_OUT}/metrics.json",
        units=f"{GAR_OUT}/units.json",
        summary=f"{GAR_OUT}/eval/summary.json",
    log:
        log_path("gar", "metrics"),
    benchmark:
        benchmark_path("gar", "metrics")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("gar", evaluate=GAR["evaluate"]),
    shell:
        "reprolab gar metrics --config-json {params.cfg:q} --traces {input.traces}"
        " --hidden {input.hidden} --out {output.metrics} --summary {output.summary} 2> {log}"


rule gar_plot:
    input:
        rules.gar_metrics.output.summary,
    output:
        figures=[
            paper_figure("gar", f"{GAR_OUT}/figures/{name}.png")
            for name in GAR_FIGURES
        ],
        data=expand(f"{GAR_OUT}/figures/{{name}}.csv", name=GAR_FIGURES),
    log:
        log_path("gar", "plot"),
    benchmark:
        benchmark_path("gar", "plot")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("gar", evaluate=GAR["evaluate"]),
    shell:
        "reprolab gar plot --config-json {params.cfg:q} --summary {input}"
        " --out-dir {GAR_OUT}/figures 2> {log}"

# gar: attention to goal tokens over turns, sliding-window closure, crossover, residual probes.
from reprolab.papers.gar.steps import conditions as gar_conditions
from reprolab.papers.gar.steps import generate_threads as gar_generate_threads
from reprolab.papers.gar.steps import runs as gar_runs
from reprolab.papers.gar.steps import tasks as gar_tasks

GAR_OUT = W.out("gar")
GAR_TASKS = gar_tasks(PAPER_CONFIG["gar"])
GAR_TRACES = [
    f"{GAR_OUT}/eval/traces/{task}/{condition}"
    for task, condition in gar_runs(PAPER_CONFIG["gar"])
]
# One thread per decode job at smoke and tiny (generate.threads): jobs side by side.
GAR_THREADS = gar_generate_threads(PAPER_CONFIG["gar"], W.threads("gar", "generate"))


rule gar_data:
    output:
        episodes=expand(
            f"{GAR_OUT}/data/{{task}}.jsonl", task=GAR_TASKS, allow_missing=True
        ),
    log:
        W.log("gar", "data"),
    benchmark:
        W.benchmark("gar", "data")
    conda:
        CONDA_ENV
    threads: W.threads("gar", "data")
    resources:
        **W.resources("gar", "data"),
    params:
        cfg=W.cfg("gar", "data"),
    shell:
        W.shell("gar", "data")


rule gar_generate:
    input:
        data=f"{GAR_OUT}/data/{{task}}.jsonl",
        model=W.model(PAPER_CONFIG["gar"]["model"]),
    output:
        traces=f"{GAR_OUT}/eval/traces/{{task}}/{{condition}}.jsonl",
        hidden=f"{GAR_OUT}/eval/traces/{{task}}/{{condition}}.hidden.npz",
    log:
        W.log("gar", "generate_{task}_{condition}"),
    benchmark:
        W.benchmark("gar", "generate_{task}_{condition}")
    wildcard_constraints:
        task="|".join(GAR_TASKS),
        condition="|".join(gar_conditions(PAPER_CONFIG["gar"])),
    conda:
        CONDA_ENV
    threads: GAR_THREADS
    resources:
        **W.resources("gar", "generate"),
    params:
        cfg=W.cfg("gar", "generate"),
        threads=GAR_THREADS,
    shell:
        W.shell("gar", "generate")


rule gar_score:
    input:
        traces=[f"{path}.jsonl" for path in GAR_TRACES],
        hidden=[f"{path}.hidden.npz" for path in GAR_TRACES],
    output:
        summary=f"{GAR_OUT}/eval/summary.json",
        scores=f"{GAR_OUT}/eval/scores.json",
        evidence=f"{GAR_OUT}/eval/units.json",
    log:
        W.log("gar", "score"),
    benchmark:
        W.benchmark("gar", "score")
    conda:
        CONDA_ENV
    threads: W.threads("gar", "score")
    resources:
        **W.resources("gar", "score"),
    params:
        cfg=W.cfg("gar", "score"),
    shell:
        W.shell("gar", "score")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["gar"] = {
    "metrics": {
        "scores": rules.gar_score.output.scores,
        "evidence": rules.gar_score.output.evidence,
    },
    "plot": {"summary": rules.gar_score.output.summary},
}

# rein: ReIn, conversational error recovery with Reasoning Inception (arXiv 2602.17022).
from reprolab.papers.rein.steps import inception_models as rein_inception_models

REIN_OUT = W.out("rein")
REIN_CFG = PAPER_CONFIG["rein"]


rule rein_data:
    output:
        instances=f"{REIN_OUT}/data/instances.jsonl",
    log:
        W.log("rein", "data"),
    benchmark:
        W.benchmark("rein", "data")
    conda:
        CONDA_ENV
    threads: W.threads("rein", "data")
    resources:
        **W.resources("rein", "data"),
    params:
        cfg=W.cfg("rein", "data"),
    shell:
        W.shell("rein", "data")


# Every setting in one job: the runner batches all settings' episodes into one call a kind.
rule rein_run:
    input:
        data=rules.rein_data.output.instances,
        agent=W.model(REIN_CFG["model"]),
        modules=[W.model(m) for m in rein_inception_models(REIN_CFG)],
    output:
        results=f"{REIN_OUT}/eval/results.jsonl",
        episodes=f"{REIN_OUT}/eval/episodes.jsonl",
    log:
        W.log("rein", "run"),
    benchmark:
        W.benchmark("rein", "run")
    conda:
        CONDA_ENV
    threads: W.threads("rein", "run")
    resources:
        **W.resources("rein", "run"),
    params:
        cfg=W.cfg("rein", "run"),
    shell:
        W.shell("rein", "run")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["rein"] = {
    "metrics": {"results": rules.rein_run.output.results},
    "plot": {"metrics": f"{REIN_OUT}/metrics.json", "units": f"{REIN_OUT}/units.json"},
}

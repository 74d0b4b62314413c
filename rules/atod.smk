# atod: ATOD-Eval and the memory-based evaluator on generated agentic dialogues.
ATOD_OUT = W.out("atod")
ATOD_CFG = PAPER_CONFIG["atod"]


rule atod_data:
    output:
        dialogues=f"{ATOD_OUT}/data/dialogues.jsonl",
    log:
        W.log("atod", "data"),
    benchmark:
        W.benchmark("atod", "data")
    conda:
        CONDA_ENV
    threads: W.threads("atod", "data")
    resources:
        **W.resources("atod", "data"),
    params:
        cfg=W.cfg("atod", "data"),
    shell:
        W.shell("atod", "data")


# One job for every evaluator arm: the model, tokenizer and embedder load once, and each arm
# is timed on its own inside it (latency per utterance).
rule atod_run:
    input:
        data=rules.atod_data.output.dialogues,
        model=W.model(ATOD_CFG["model"]),
    output:
        results=f"{ATOD_OUT}/eval/results.jsonl",
        episodes=f"{ATOD_OUT}/eval/episodes.jsonl",
    log:
        W.log("atod", "run"),
    benchmark:
        W.benchmark("atod", "run")
    conda:
        CONDA_ENV
    threads: W.threads("atod", "run")
    resources:
        **W.resources("atod", "run"),
    params:
        cfg=W.cfg("atod", "run"),
    shell:
        W.shell("atod", "run")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["atod"] = {
    "metrics": {
        "data": rules.atod_data.output.dialogues,
        "results": rules.atod_run.output.results,
    },
    "plot": {
        "data": rules.atod_data.output.dialogues,
        "results": rules.atod_run.output.results,
        "metrics": f"{ATOD_OUT}/metrics.json",
    },
}

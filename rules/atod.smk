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


# The dialogues the evaluators read: the template grammar's, or (data.llm, full scale) the
# LLM generator's, written from the template dialogues' trajectories and then quality-rated.
ATOD_DIALOGUES = rules.atod_data.output.dialogues
if ATOD_CFG["data"].get("llm"):

    rule atod_generate:
        input:
            data=rules.atod_data.output.dialogues,
            model=W.model(ATOD_CFG["data"]["llm"]["model"]),
        output:
            dialogues=f"{ATOD_OUT}/data/llm_dialogues.jsonl",
            rejected=f"{ATOD_OUT}/data/llm_rejected.jsonl",
            episodes=f"{ATOD_OUT}/data/llm_episodes.jsonl",
        log:
            W.log("atod", "generate"),
        benchmark:
            W.benchmark("atod", "generate")
        conda:
            CONDA_ENV
        threads: W.threads("atod", "generate")
        resources:
            **W.resources("atod", "generate"),
        params:
            cfg=W.cfg("atod", "generate"),
        shell:
            W.shell("atod", "generate")

    rule atod_score:
        input:
            data=rules.atod_generate.output.dialogues,
            model=W.model(ATOD_CFG["data"]["llm"]["model"]),
        output:
            dialogues=f"{ATOD_OUT}/data/llm_dialogues_rated.jsonl",
        log:
            W.log("atod", "score"),
        benchmark:
            W.benchmark("atod", "score")
        conda:
            CONDA_ENV
        threads: W.threads("atod", "score")
        resources:
            **W.resources("atod", "score"),
        params:
            cfg=W.cfg("atod", "score"),
        shell:
            W.shell("atod", "score")

    ATOD_DIALOGUES = rules.atod_score.output.dialogues


# One job for every evaluator arm: the model, tokenizer and embedder load once, and each arm
# is timed on its own inside it (latency per utterance).
rule atod_run:
    input:
        data=ATOD_DIALOGUES,
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
        "data": ATOD_DIALOGUES,
        "results": rules.atod_run.output.results,
    },
    "plot": {
        "data": ATOD_DIALOGUES,
        "results": rules.atod_run.output.results,
        "metrics": f"{ATOD_OUT}/metrics.json",
    },
}

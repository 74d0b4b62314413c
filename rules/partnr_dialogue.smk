# partnr_dialogue: heuristic and LLM agents, silent vs dialogue, in a text PARTNR simulator.
from reprolab.papers.partnr_dialogue.steps import CONDITIONS as PARTNR_CONDITIONS
from reprolab.papers.partnr_dialogue.steps import arms as partnr_arms
from reprolab.papers.partnr_dialogue.steps import hybrid_arms as partnr_hybrid_arms
from reprolab.papers.partnr_dialogue.steps import llms as partnr_llms
from reprolab.papers.partnr_dialogue.steps import run_threads as partnr_run_threads

PARTNR = PAPER_CONFIG["partnr_dialogue"]
PARTNR_OUT = W.out("partnr_dialogue")
PARTNR_LLMS = partnr_llms(PARTNR, config["models"])
PARTNR_LOGS = expand(
    f"{PARTNR_OUT}/eval/logs/{{arm}}/{{condition}}.jsonl",
    arm=partnr_arms(PARTNR),
    condition=PARTNR_CONDITIONS,
    allow_missing=True,
) + expand(
    f"{PARTNR_OUT}/eval/logs/{{arm}}/dialogue.jsonl",
    arm=partnr_hybrid_arms(PARTNR),
    allow_missing=True,
)
PARTNR_PROBES = expand(
    f"{PARTNR_OUT}/eval/probe/{{llm}}.json", llm=PARTNR_LLMS, allow_missing=True
)


rule partnr_dialogue_data:
    output:
        out=f"{PARTNR_OUT}/data/episodes.jsonl",
    log:
        W.log("partnr_dialogue", "data"),
    benchmark:
        W.benchmark("partnr_dialogue", "data")
    conda:
        CONDA_ENV
    threads: W.threads("partnr_dialogue", "data")
    resources:
        **W.resources("partnr_dialogue", "data"),
    params:
        cfg=W.cfg("partnr_dialogue", "data"),
    shell:
        W.shell("partnr_dialogue", "data")


rule partnr_dialogue_run_heuristic:
    input:
        episodes=rules.partnr_dialogue_data.output.out,
    output:
        out=f"{PARTNR_OUT}/eval/logs/heuristic/{{condition}}.jsonl",
    log:
        W.log("partnr_dialogue", "run_heuristic_{condition}"),
    benchmark:
        W.benchmark("partnr_dialogue", "run_heuristic_{condition}")
    wildcard_constraints:
        condition="|".join(PARTNR_CONDITIONS),
    conda:
        CONDA_ENV
    threads: W.threads("partnr_dialogue", "run_heuristic")
    resources:
        **W.resources("partnr_dialogue", "run_heuristic"),
    params:
        cfg=W.cfg("partnr_dialogue", "run_heuristic"),
    shell:
        W.shell("partnr_dialogue", "run_heuristic")


rule partnr_dialogue_run_messengers:
    input:
        episodes=rules.partnr_dialogue_data.output.out,
    output:
        random=f"{PARTNR_OUT}/eval/logs/random_messenger/{{condition}}.jsonl",
        random_b=f"{PARTNR_OUT}/eval/logs/random_messenger_b/{{condition}}.jsonl",
        oracle=f"{PARTNR_OUT}/eval/logs/oracle_messenger/{{condition}}.jsonl",
    log:
        W.log("partnr_dialogue", "run_messengers_{condition}"),
    benchmark:
        W.benchmark("partnr_dialogue", "run_messengers_{condition}")
    wildcard_constraints:
        condition="|".join(PARTNR_CONDITIONS),
    conda:
        CONDA_ENV
    threads: W.threads("partnr_dialogue", "run_messengers")
    resources:
        **W.resources("partnr_dialogue", "run_messengers"),
    params:
        cfg=W.cfg("partnr_dialogue", "run_messengers"),
    shell:
        W.shell("partnr_dialogue", "run_messengers")


rule partnr_dialogue_run_llm:
    input:
        episodes=rules.partnr_dialogue_data.output.out,
        model=lambda wildcards: W.model(wildcards.llm),
    output:
        out=f"{PARTNR_OUT}/eval/logs/{{llm}}/{{condition}}.jsonl",
        # The core runner's standard episode log: every request to the model and its reply.
        episode_log=f"{PARTNR_OUT}/eval/episodes/{{llm}}/{{condition}}.jsonl",
    log:
        W.log("partnr_dialogue", "run_llm_{llm}_{condition}"),
    benchmark:
        W.benchmark("partnr_dialogue", "run_llm_{llm}_{condition}")
    wildcard_constraints:
        condition="|".join(PARTNR_CONDITIONS),
        llm="|".join(PARTNR_LLMS),
    conda:
        CONDA_ENV
    # torch threads of one run; on a CPU the two conditions run side by side with one each.
    threads: partnr_run_threads(PARTNR, W.threads("partnr_dialogue", "run_llm"))
    resources:
        **W.resources("partnr_dialogue", "run_llm"),
    params:
        cfg=W.cfg("partnr_dialogue", "run_llm"),
        threads=lambda wildcards, threads: threads,
    shell:
        W.shell("partnr_dialogue", "run_llm")


rule partnr_dialogue_run_hybrid:
    input:
        episodes=rules.partnr_dialogue_data.output.out,
        model=lambda wildcards: W.model(wildcards.llm),
    output:
        out=f"{PARTNR_OUT}/eval/logs/hybrid-{{llm}}/{{condition}}.jsonl",
        episode_log=f"{PARTNR_OUT}/eval/episodes/hybrid-{{llm}}/{{condition}}.jsonl",
    log:
        W.log("partnr_dialogue", "run_hybrid_{llm}_{condition}"),
    benchmark:
        W.benchmark("partnr_dialogue", "run_hybrid_{llm}_{condition}")
    wildcard_constraints:
        condition="|".join(PARTNR_CONDITIONS),
        llm="|".join(PARTNR_LLMS),
    conda:
        CONDA_ENV
    threads: partnr_run_threads(PARTNR, W.threads("partnr_dialogue", "run_hybrid"))
    resources:
        **W.resources("partnr_dialogue", "run_hybrid"),
    params:
        cfg=W.cfg("partnr_dialogue", "run_hybrid"),
        threads=lambda wildcards, threads: threads,
    shell:
        W.shell("partnr_dialogue", "run_hybrid")


rule partnr_dialogue_run_probe:
    input:
        episodes=rules.partnr_dialogue_data.output.out,
        model=lambda wildcards: W.model(wildcards.llm),
    output:
        out=f"{PARTNR_OUT}/eval/probe/{{llm}}.json",
    log:
        W.log("partnr_dialogue", "run_probe_{llm}"),
    benchmark:
        W.benchmark("partnr_dialogue", "run_probe_{llm}")
    wildcard_constraints:
        llm="|".join(PARTNR_LLMS),
    conda:
        CONDA_ENV
    threads: partnr_run_threads(PARTNR, W.threads("partnr_dialogue", "run_probe"))
    resources:
        **W.resources("partnr_dialogue", "run_probe"),
    params:
        cfg=W.cfg("partnr_dialogue", "run_probe"),
        threads=lambda wildcards, threads: threads,
    shell:
        W.shell("partnr_dialogue", "run_probe")


rule partnr_dialogue_score:
    input:
        logs=PARTNR_LOGS,
    output:
        summary=f"{PARTNR_OUT}/eval/summary.json",
    log:
        W.log("partnr_dialogue", "score"),
    benchmark:
        W.benchmark("partnr_dialogue", "score")
    conda:
        CONDA_ENV
    threads: W.threads("partnr_dialogue", "score")
    resources:
        **W.resources("partnr_dialogue", "score"),
    params:
        cfg=W.cfg("partnr_dialogue", "score"),
    shell:
        W.shell("partnr_dialogue", "score")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["partnr_dialogue"] = {
    "metrics": {"logs": PARTNR_LOGS, "probes": PARTNR_PROBES},
    "plot": {"summary": rules.partnr_dialogue_score.output.summary},
}

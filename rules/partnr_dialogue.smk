# partnr_dialogue: heuristic and LLM agents, silent vs dialogue, in a text PARTNR simulator.

PARTNR = PAPER_CONFIG["partnr_dialogue"]
PARTNR_OUT = f"{RESULTS}/partnr_dialogue"
PARTNR_CONDITIONS = ["silent", "dialogue"]
PARTNR_LLMS = PARTNR["llm"]["models"]
PARTNR_FIGURES = ["convergence", "conflicts_success", "novelty_bsm"]
for _name in PARTNR_LLMS:
    if _name not in config["models"]:
        raise ValueError(
            f"config/papers/partnr_dialogue.yaml: key 'llm.models': '{_name}' is not a model "
            f"of config/config.yaml; expected one of {sorted(config['models'])}"
        )


rule partnr_dialogue_episodes:
    output:
        f"{PARTNR_OUT}/data/episodes.jsonl",
    log:
        log_path("partnr_dialogue", "episodes"),
    benchmark:
        benchmark_path("partnr_dialogue", "episodes")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("partnr_dialogue", episodes=PARTNR["episodes"]),
    shell:
        "reprolab partnr_dialogue episodes --config-json {params.cfg:q} --out {output} 2> {log}"


rule partnr_dialogue_heuristic:
    input:
        rules.partnr_dialogue_episodes.output,
    output:
        f"{PARTNR_OUT}/eval/logs/heuristic/{{condition}}.jsonl",
    log:
        log_path("partnr_dialogue", "heuristic_{condition}"),
    benchmark:
        benchmark_path("partnr_dialogue", "heuristic_{condition}")
    wildcard_constraints:
        condition="silent|dialogue",
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("partnr_dialogue", sim=PARTNR["sim"]),
    shell:
        "reprolab partnr_dialogue run --config-json {params.cfg:q} --condition {wildcards.condition}"
        " --episodes {input} --out {output} 2> {log}"


rule partnr_dialogue_generate:
    input:
        episodes=rules.partnr_dialogue_episodes.output,
        model=lambda w: model_dir(w.llm),
    output:
        f"{PARTNR_OUT}/eval/logs/{{llm}}/{{condition}}.jsonl",
    log:
        log_path("partnr_dialogue", "generate_{llm}_{condition}"),
    benchmark:
        benchmark_path("partnr_dialogue", "generate_{llm}_{condition}")
    wildcard_constraints:
        condition="silent|dialogue",
        llm="|".join(PARTNR_LLMS),
    # torch threads of one run; on a CPU the two conditions run side by side with one each.
    threads: PARTNR["llm"].get("threads", job("generate")["threads"])
    resources:
        **job_resources("generate"),
    params:
        cfg=step_config("partnr_dialogue", sim=PARTNR["sim"], llm=PARTNR["llm"]),
    shell:
        "reprolab partnr_dialogue run --config-json {params.cfg:q} --condition {wildcards.condition}"
        " --model {input.model} --threads {threads} --episodes {input.episodes}"
        " --out {output} 2> {log}"


rule partnr_dialogue_metrics:
    input:
        expand(
            f"{PARTNR_OUT}/eval/logs/{{arm}}/{{condition}}.jsonl",
            arm=["heuristic", *PARTNR_LLMS],
            condition=PARTNR_CONDITIONS,
        ),
    output:
        metrics=f"{PARTNR_OUT}/metrics.json",
        units=f"{PARTNR_OUT}/units.json",
        summary=f"{PARTNR_OUT}/eval/summary.json",
    log:
        log_path("partnr_dialogue", "metrics"),
    benchmark:
        benchmark_path("partnr_dialogue", "metrics")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config(
            "partnr_dialogue", evaluate=PARTNR["evaluate"], llm=PARTNR["llm"]
        ),
    shell:
        "reprolab partnr_dialogue metrics --config-json {params.cfg:q} --logs {input}"
        " --out {output.metrics} --summary {output.summary} 2> {log}"


rule partnr_dialogue_plot:
    input:
        rules.partnr_dialogue_metrics.output.summary,
    output:
        figures=[
            paper_figure("partnr_dialogue", f"{PARTNR_OUT}/figures/{name}.png")
            for name in PARTNR_FIGURES
        ],
        data=expand(f"{PARTNR_OUT}/figures/{{name}}.csv", name=PARTNR_FIGURES),
    log:
        log_path("partnr_dialogue", "plot"),
    benchmark:
        benchmark_path("partnr_dialogue", "plot")
    threads: job("light")["threads"]
    resources:
        **job_resources("light"),
    params:
        cfg=step_config("partnr_dialogue"),
    shell:
        "reprolab partnr_dialogue plot --config-json {params.cfg:q} --summary {input}"
        " --out-dir {PARTNR_OUT}/figures 2> {log}"

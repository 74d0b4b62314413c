# psibench: depression patient simulators (Patient-Psi, Roleplay-doh) against reference sessions.
from reprolab.papers.psibench.steps import judge_models as psibench_judge_models
from reprolab.papers.psibench.steps import models as psibench_models

PSIBENCH_OUT = W.out("psibench")
PSIBENCH_CFG = PAPER_CONFIG["psibench"]
PSIBENCH_MODELS = psibench_models(PSIBENCH_CFG)
PSIBENCH_RUNS = expand(
    f"{PSIBENCH_OUT}/eval/run/{{m}}.jsonl", m=PSIBENCH_MODELS, allow_missing=True
)
PSIBENCH_SESSIONS = [
    f"{PSIBENCH_OUT}/data/sessions.jsonl",
    f"{PSIBENCH_OUT}/data/controls.jsonl",
    *PSIBENCH_RUNS,
]


# Reference sessions and controls are two jobs: held-out sessions or a control setting rerun
# no simulation (run reads the reference sessions only).
rule psibench_data:
    output:
        sessions=f"{PSIBENCH_OUT}/data/sessions.jsonl",
    log:
        W.log("psibench", "data"),
    benchmark:
        W.benchmark("psibench", "data")
    conda:
        CONDA_ENV
    threads: W.threads("psibench", "data")
    resources:
        **W.resources("psibench", "data"),
    params:
        cfg=W.cfg("psibench", "data"),
    shell:
        W.shell("psibench", "data")


rule psibench_data_controls:
    output:
        controls=f"{PSIBENCH_OUT}/data/controls.jsonl",
    log:
        W.log("psibench", "data_controls"),
    benchmark:
        W.benchmark("psibench", "data_controls")
    conda:
        CONDA_ENV
    threads: W.threads("psibench", "data_controls")
    resources:
        **W.resources("psibench", "data_controls"),
    params:
        cfg=W.cfg("psibench", "data_controls"),
    shell:
        W.shell("psibench", "data_controls")


rule psibench_run:
    input:
        data=rules.psibench_data.output.sessions,
        patient=lambda wc: W.model(wc.patient_model),
        therapist=W.model(PSIBENCH_CFG["simulation"]["therapist_model"]),
    output:
        sessions=f"{PSIBENCH_OUT}/eval/run/{{patient_model}}.jsonl",
        episodes=f"{PSIBENCH_OUT}/eval/run/{{patient_model}}.episodes.jsonl",
    log:
        W.log("psibench", "run_{patient_model}"),
    benchmark:
        W.benchmark("psibench", "run_{patient_model}")
    wildcard_constraints:
        patient_model="|".join(PSIBENCH_MODELS),
    conda:
        CONDA_ENV
    threads: W.threads("psibench", "run")
    resources:
        **W.resources("psibench", "run"),
    params:
        cfg=W.cfg("psibench", "run"),
    shell:
        W.shell("psibench", "run")


rule psibench_score:
    input:
        sessions=PSIBENCH_SESSIONS,
        judges=[W.model(m) for m in psibench_judge_models(PSIBENCH_CFG)],
    output:
        labels=f"{PSIBENCH_OUT}/eval/labels.jsonl",
        judge=f"{PSIBENCH_OUT}/eval/judge.json",
    log:
        W.log("psibench", "score"),
    benchmark:
        W.benchmark("psibench", "score")
    conda:
        CONDA_ENV
    threads: W.threads("psibench", "score")
    resources:
        **W.resources("psibench", "score"),
    params:
        cfg=W.cfg("psibench", "score"),
    shell:
        W.shell("psibench", "score")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["psibench"] = {
    "metrics": {
        "sessions": PSIBENCH_SESSIONS,
        "labels": rules.psibench_score.output.labels,
        "judge": rules.psibench_score.output.judge,
    },
    "plot": {
        "sessions": PSIBENCH_SESSIONS,
        "labels": rules.psibench_score.output.labels,
        "metrics": f"{PSIBENCH_OUT}/metrics.json",
    },
}

# vars: VARS user vectors biasing preference retrieval, on the MiniCollab harness.
from reprolab.papers.vars.steps import settings as vars_settings

VARS_OUT = W.out("vars")
VARS_CFG = PAPER_CONFIG["vars"]
VARS_SETTINGS = vars_settings(VARS_CFG)
VARS_SESSIONS = expand(
    f"{VARS_OUT}/eval/{{s}}.sessions.jsonl", s=VARS_SETTINGS, allow_missing=True
)


rule vars_data:
    output:
        profiles=f"{VARS_OUT}/data/profiles.jsonl",
        tasks=f"{VARS_OUT}/data/tasks.jsonl",
    log:
        W.log("vars", "data"),
    benchmark:
        W.benchmark("vars", "data")
    conda:
        CONDA_ENV
    threads: W.threads("vars", "data")
    resources:
        **W.resources("vars", "data"),
    params:
        cfg=W.cfg("vars", "data"),
    shell:
        W.shell("vars", "data")


rule vars_train:
    output:
        projection=f"{VARS_OUT}/models/projection.npz",
    log:
        W.log("vars", "train"),
    benchmark:
        W.benchmark("vars", "train")
    conda:
        CONDA_ENV
    threads: W.threads("vars", "train")
    resources:
        **W.resources("vars", "train"),
    params:
        cfg=W.cfg("vars", "train"),
    shell:
        W.shell("vars", "train")


rule vars_run:
    input:
        profiles=rules.vars_data.output.profiles,
        tasks=rules.vars_data.output.tasks,
        projection=rules.vars_train.output.projection,
        model=W.model(VARS_CFG["model"]),
    output:
        sessions=f"{VARS_OUT}/eval/{{setting}}.sessions.jsonl",
        episodes=f"{VARS_OUT}/eval/{{setting}}.episodes.jsonl",
    log:
        W.log("vars", "run_{setting}"),
    benchmark:
        W.benchmark("vars", "run_{setting}")
    wildcard_constraints:
        setting="|".join(VARS_SETTINGS),
    conda:
        CONDA_ENV
    threads: W.threads("vars", "run")
    resources:
        **W.resources("vars", "run"),
    params:
        cfg=W.cfg("vars", "run"),
    shell:
        W.shell("vars", "run")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["vars"] = {
    "metrics": {"sessions": VARS_SESSIONS},
    "plot": {"sessions": VARS_SESSIONS, "metrics": f"{VARS_OUT}/metrics.json"},
}

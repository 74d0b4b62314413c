# acqsynth: acquisition functions as GRPO rewards for a data generator; students SFT-trained on
# its data, against the untrained generator, random seeds and filtered output.
from reprolab.papers.acqsynth.sets import sources as acqsynth_sources
from reprolab.papers.acqsynth.steps import acquisitions as acqsynth_acquisitions
from reprolab.papers.acqsynth.steps import students as acqsynth_students

ACQSYNTH_OUT = W.out("acqsynth")
ACQSYNTH_CFG = PAPER_CONFIG["acqsynth"]
ACQSYNTH_ACQ = acqsynth_acquisitions(ACQSYNTH_CFG)
ACQSYNTH_STUDENTS = acqsynth_students(ACQSYNTH_CFG)
ACQSYNTH_GENERATOR = W.model(ACQSYNTH_CFG["generator"]["model"])
# GRPO and the untrained baseline start from the format warm-start where one is configured.
ACQSYNTH_GENERATOR_START = (
    f"{ACQSYNTH_OUT}/models/generator_format"
    if ACQSYNTH_CFG["generator"]["warm_start"]
    else ACQSYNTH_GENERATOR
)
ACQSYNTH_STUDENT = W.model(ACQSYNTH_CFG["student"]["model"])
ACQSYNTH_SCORED = [
    f"{ACQSYNTH_OUT}/eval/{student}/{name}"
    for student, names in ACQSYNTH_STUDENTS.items()
    for name in ["base", *names]
]
ACQSYNTH_SOURCES = ["untrained", *ACQSYNTH_ACQ]
ACQSYNTH_STATS = [f"{ACQSYNTH_OUT}/synth/{s}.stats.json" for s in ACQSYNTH_SOURCES]
ACQSYNTH_REWARDS = [f"{ACQSYNTH_OUT}/rewards/{a}.jsonl" for a in ACQSYNTH_ACQ]


# Seeds and pool (what training reads) apart from the test items (what only scoring reads).
rule acqsynth_data:
    output:
        seeds=f"{ACQSYNTH_OUT}/data/seeds.jsonl",
        pool=f"{ACQSYNTH_OUT}/data/pool.jsonl",
    log:
        W.log("acqsynth", "data"),
    benchmark:
        W.benchmark("acqsynth", "data")
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "data")
    resources:
        **W.resources("acqsynth", "data"),
    params:
        cfg=W.cfg("acqsynth", "data"),
    shell:
        W.shell("acqsynth", "data")


rule acqsynth_data_test:
    output:
        test=f"{ACQSYNTH_OUT}/data/test.jsonl",
    log:
        W.log("acqsynth", "data_test"),
    benchmark:
        W.benchmark("acqsynth", "data_test")
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "data_test")
    resources:
        **W.resources("acqsynth", "data_test"),
    params:
        cfg=W.cfg("acqsynth", "data_test"),
    shell:
        W.shell("acqsynth", "data_test")


rule acqsynth_train_format:
    input:
        seeds=rules.acqsynth_data.output.seeds,
        model=ACQSYNTH_GENERATOR,
    output:
        out=directory(f"{ACQSYNTH_OUT}/models/generator_format"),
    log:
        W.log("acqsynth", "train_format"),
    benchmark:
        W.benchmark("acqsynth", "train_format")
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "train_format")
    resources:
        **W.resources("acqsynth", "train_format"),
    params:
        cfg=W.cfg("acqsynth", "train_format"),
        checkpoints=f"{ACQSYNTH_OUT}/checkpoints/generator_format",
    shell:
        W.shell("acqsynth", "train_format")


rule acqsynth_train_generator:
    input:
        seeds=rules.acqsynth_data.output.seeds,
        model=ACQSYNTH_GENERATOR_START,
        student=ACQSYNTH_STUDENT,
    output:
        out=directory(f"{ACQSYNTH_OUT}/models/generator/{{acquisition}}"),
        rewards=f"{ACQSYNTH_OUT}/rewards/{{acquisition}}.jsonl",
    log:
        W.log("acqsynth", "train_generator_{acquisition}"),
    benchmark:
        W.benchmark("acqsynth", "train_generator_{acquisition}")
    wildcard_constraints:
        acquisition="|".join(ACQSYNTH_ACQ),
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "train_generator")
    resources:
        **W.resources("acqsynth", "train_generator"),
    params:
        cfg=W.cfg("acqsynth", "train_generator"),
        # Not an output: Snakemake keeps it when a job fails, so a rerun resumes from it.
        checkpoints=f"{ACQSYNTH_OUT}/checkpoints/generator/{{acquisition}}",
    shell:
        W.shell("acqsynth", "train_generator")


rule acqsynth_generate:
    input:
        generator=lambda wc: (
            ACQSYNTH_GENERATOR_START.replace("{seed}", wc.seed)
            if wc.source == "untrained"
            else f"{ACQSYNTH_OUT.replace('{seed}', wc.seed)}/models/generator/{wc.source}"
        ),
        seeds=rules.acqsynth_data.output.seeds,
        labeler=W.model(ACQSYNTH_CFG["labels"]["model"]),
    output:
        synth=f"{ACQSYNTH_OUT}/synth/{{source}}.jsonl",
        stats=f"{ACQSYNTH_OUT}/synth/{{source}}.stats.json",
    log:
        W.log("acqsynth", "generate_{source}"),
    benchmark:
        W.benchmark("acqsynth", "generate_{source}")
    wildcard_constraints:
        source="|".join(ACQSYNTH_SOURCES),
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "generate")
    resources:
        **W.resources("acqsynth", "generate"),
    params:
        cfg=W.cfg("acqsynth", "generate"),
    shell:
        W.shell("acqsynth", "generate")


rule acqsynth_score_acquisition:
    input:
        candidates=lambda wc: (
            f"{ACQSYNTH_OUT.replace('{seed}', wc.seed)}/synth/untrained.jsonl"
            if wc.pool == "untrained"
            else f"{ACQSYNTH_OUT.replace('{seed}', wc.seed)}/data/pool.jsonl"
        ),
        seeds=rules.acqsynth_data.output.seeds,
        student=ACQSYNTH_STUDENT,
    output:
        scores=f"{ACQSYNTH_OUT}/acq/{{pool}}.jsonl",
    log:
        W.log("acqsynth", "score_acquisition_{pool}"),
    benchmark:
        W.benchmark("acqsynth", "score_acquisition_{pool}")
    wildcard_constraints:
        pool="untrained|pool",
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "score_acquisition")
    resources:
        **W.resources("acqsynth", "score_acquisition"),
    params:
        cfg=W.cfg("acqsynth", "score_acquisition"),
    shell:
        W.shell("acqsynth", "score_acquisition")


rule acqsynth_train_student:
    input:
        data=lambda wc: [
            f"{ACQSYNTH_OUT.replace('{seed}', wc.seed)}/{path}"
            for path in acqsynth_sources(wc.set)
        ],
        model=lambda wc: W.model(wc.student),
    output:
        out=directory(f"{ACQSYNTH_OUT}/models/students/{{student}}/{{set}}"),
    log:
        W.log("acqsynth", "train_student_{student}_{set}"),
    benchmark:
        W.benchmark("acqsynth", "train_student_{student}_{set}")
    wildcard_constraints:
        student="|".join(ACQSYNTH_STUDENTS),
        set="[a-z_]+",
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "train_student")
    resources:
        **W.resources("acqsynth", "train_student"),
    params:
        cfg=W.cfg("acqsynth", "train_student"),
        checkpoints=f"{ACQSYNTH_OUT}/checkpoints/students/{{student}}/{{set}}",
    shell:
        W.shell("acqsynth", "train_student")


rule acqsynth_score:
    input:
        model=lambda wc: (
            W.model(wc.student)
            if wc.set == "base"
            else f"{ACQSYNTH_OUT.replace('{seed}', wc.seed)}/models/students/{wc.student}/{wc.set}"
        ),
        test=rules.acqsynth_data_test.output.test,
    output:
        result=f"{ACQSYNTH_OUT}/eval/{{student}}/{{set}}.json",
        predictions=f"{ACQSYNTH_OUT}/eval/{{student}}/{{set}}.predictions.jsonl",
    log:
        W.log("acqsynth", "score_{student}_{set}"),
    benchmark:
        W.benchmark("acqsynth", "score_{student}_{set}")
    wildcard_constraints:
        student="|".join(ACQSYNTH_STUDENTS),
        set="[a-z_]+",
    conda:
        CONDA_ENV
    threads: W.threads("acqsynth", "score")
    resources:
        **W.resources("acqsynth", "score"),
    params:
        cfg=W.cfg("acqsynth", "score"),
    shell:
        W.shell("acqsynth", "score")


# What the shared metrics and plot rules (rules/paper.smk) read for this paper.
PAPER_INPUTS["acqsynth"] = {
    "metrics": {
        "evals": [f"{p}.json" for p in ACQSYNTH_SCORED],
        "predictions": [f"{p}.predictions.jsonl" for p in ACQSYNTH_SCORED],
        "stats": ACQSYNTH_STATS,
        "rewards": ACQSYNTH_REWARDS,
    },
    "plot": {
        "predictions": [f"{p}.predictions.jsonl" for p in ACQSYNTH_SCORED],
        "rewards": ACQSYNTH_REWARDS,
    },
}

# Every paper's metrics, plot and claims steps: one definition each, made for every enabled
# paper. A paper's rules file says what its metrics and plot steps read (PAPER_INPUTS); the
# figures come from its declaration (FIGURES in reprolab.papers.<paper>.steps). Snakemake runs a
# `shell:` expression again when a job starts, when `_paper` names the last paper: everything
# paper-specific is therefore a param (evaluated once per rule), and the shell string is fixed.

for _paper in config["papers"]:
    _out = W.out(_paper)

    rule:
        name:
            f"{_paper}_metrics"
        input:
            **PAPER_INPUTS[_paper]["metrics"],
        output:
            metrics=f"{_out}/metrics.json",
            units=f"{_out}/units.json",
            timings=f"{_out}/timings.json",
        log:
            W.log(_paper, "metrics"),
        benchmark:
            W.benchmark(_paper, "metrics")
        conda:
            CONDA_ENV
        threads: W.threads(_paper, "metrics")
        resources:
            **W.resources(_paper, "metrics"),
        params:
            paper=_paper,
            cfg=W.cfg(_paper, "metrics"),
            flags=W.flags(_paper, "metrics"),
        shell:
            "reprolab {params.paper} metrics --config {params.cfg:q} {params.flags} 2> {log}"

    rule:
        name:
            f"{_paper}_plot"
        input:
            **PAPER_INPUTS[_paper]["plot"],
        output:
            figures=[
                report(
                    path,
                    caption=f"../docs/report/{_paper}/{Path(path).stem}.rst",
                    category=_paper,
                    subcategory="figures",
                    labels={"paper": _paper, "figure": Path(path).stem},
                )
                for path in W.figures(_paper)
            ],
            data=W.figure_data(_paper),
        log:
            W.log(_paper, "plot"),
        benchmark:
            W.benchmark(_paper, "plot")
        conda:
            CONDA_ENV
        threads: W.threads(_paper, "plot")
        resources:
            **W.resources(_paper, "plot"),
        params:
            paper=_paper,
            cfg=W.cfg(_paper, "plot"),
            flags=W.flags(
                _paper, "plot", figures=lambda out: os.path.dirname(out.figures[0])
            ),
        shell:
            "reprolab {params.paper} plot --config {params.cfg:q} {params.flags} 2> {log}"


# `{seed}`: empty for a paper's first seed, /seeds/<seed> for each further one (W.out).
wildcard_constraints:
    paper="|".join(config["papers"]),
    seed="(/seeds/[0-9]+)?",


localrules:
    claims,


# The card checked against the paper's metrics and per-unit evidence (units.json), with a forest
# plot of its science claims. It waits for the paper's plot, so that claims.json marks a paper
# whose every output is done.
# It also makes the paper's models/ and seeds/ folders, empty for a paper that trains nothing or
# runs one seed: DVC's paper stage lists both as outs, so `dvc commit` can record a run that
# Snakemake made by itself (a cluster run, README "DVC with the cluster profile").
rule claims:
    input:
        card="seeds/{paper}.yaml",
        metrics=f"{RESULTS}/{{paper}}/metrics.json",
        # Every seed's per-unit evidence, pooled; the first seed's metrics and figures.
        units=lambda wildcards: W.every_seed(
            f"{W.out(wildcards.paper)}/units.json", wildcards.paper
        ),
        figures=lambda wildcards: [W.first_seed(f) for f in W.figures(wildcards.paper)],
    output:
        claims=report(
            f"{RESULTS}/{{paper}}/claims.json",
            caption="../docs/report/claims.rst",
            category="{paper}",
            subcategory="claims",
            labels={"paper": "{paper}", "figure": "claims"},
        ),
        forest=report(
            f"{RESULTS}/{{paper}}/figures/claims_forest.png",
            caption="../docs/report/claims_forest.rst",
            category="{paper}",
            subcategory="claims",
            labels={"paper": "{paper}", "figure": "claims_forest"},
        ),
    log:
        f"{RESULTS}/logs/{{paper}}/claims.log",
    conda:
        CONDA_ENV
    params:
        settings=json.dumps(config["claims"]),
        seeds=lambda wildcards: " ".join(map(str, W.seeds(wildcards.paper))),
        scale=SCALE,
        folders=lambda wildcards: [
            f"{RESULTS}/{wildcards.paper}/{d}" for d in ("models", "seeds")
        ],
    shell:
        "reprolab claims {wildcards.paper} --card {input.card} --metrics {input.metrics}"
        " --units {input.units} --seeds {params.seeds} --scale {params.scale}"
        " --settings {params.settings:q} --forest {output.forest} --out {output.claims} 2> {log}"
        " && mkdir -p {params.folders}"

# The suite's scorecard: every paper's claims, verdicts and key metrics on one page.


localrules:
    scorecard,


rule scorecard:
    input:
        claims=expand(f"{RESULTS}/{{paper}}/claims.json", paper=config["papers"]),
        metrics=expand(f"{RESULTS}/{{paper}}/metrics.json", paper=config["papers"]),
        cards=expand("seeds/{paper}.yaml", paper=config["papers"]),
    output:
        report(
            f"{RESULTS}/scorecard.md",
            caption="../docs/report/scorecard.rst",
            category="suite",
            labels={"paper": "all", "figure": "scorecard"},
        ),
    log:
        f"{RESULTS}/logs/scorecard.log",
    conda:
        CONDA_ENV
    params:
        papers=" ".join(config["papers"]),
        results=lambda wildcards, output: os.path.dirname(output[0]),
        scale=SCALE,
    shell:
        "reprolab scorecard --results {params.results} --scale {params.scale} --papers {params.papers}"
        " --seeds seeds --out {output} 2> {log}"

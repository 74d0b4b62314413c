# The suite's scorecard: every paper's claims and verdicts on one page.


localrules:
    scorecard,


rule scorecard:
    input:
        expand(f"{RESULTS}/{{paper}}/claims.json", paper=config["papers"]),
    output:
        f"{RESULTS}/scorecard.md",
    log:
        f"{RESULTS}/logs/scorecard.log",
    params:
        papers=" ".join(config["papers"]),
    shell:
        "reprolab scorecard --results {RESULTS} --scale {SCALE} --papers {params.papers}"
        " --out {output} 2> {log}"

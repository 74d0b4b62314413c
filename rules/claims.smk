# One claims rule for every paper: the card checked against the paper's metrics and per-unit
# evidence (units.json), with a forest plot of its science claims. It waits for the paper's plot
# rule so that a paper's claims.json marks a paper whose every output is done.


wildcard_constraints:
    paper="|".join(config["papers"]),


localrules:
    claims,


rule claims:
    input:
        card="seeds/{paper}.yaml",
        metrics=f"{RESULTS}/{{paper}}/metrics.json",
        units=f"{RESULTS}/{{paper}}/units.json",
        figures=lambda wildcards: getattr(rules, f"{wildcards.paper}_plot").output,
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
    params:
        settings=json.dumps(config["claims"]),
        seed=config["seed"],
    shell:
        "reprolab claims {wildcards.paper} --card {input.card} --metrics {input.metrics}"
        " --units {input.units} --seeds {params.seed} --scale {SCALE}"
        " --settings {params.settings:q} --forest {output.forest} --out {output.claims} 2> {log}"

# Named models of config/config.yaml, converted once to safetensors folders under models/.


rule prepare_model:
    output:
        directory(f"{MODELS}/{{model}}"),
    log:
        f"{MODELS}/logs/{{model}}.log",
    conda:
        CONDA_ENV
    threads: W.job("generate")["threads"]
    resources:
        mem_mb=W.job("generate")["mem_mb"],
        runtime=W.job("generate")["runtime"],
    params:
        # The registry entry alone: a run's seed never rebuilds a base model (models.py).
        spec=lambda w: json.dumps(config["models"][w.model], sort_keys=True),
    shell:
        "reprolab prepare-model {wildcards.model} --out {output} 2> {log}"

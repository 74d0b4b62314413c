# Named models of config/config.yaml, converted once to safetensors folders under models/.


rule prepare_model:
    output:
        directory(f"{MODELS}/{{model}}"),
    log:
        f"{MODELS}/logs/{{model}}.log",
    threads: job("generate")["threads"]
    resources:
        mem_mb=job("generate")["mem_mb"],
        runtime=job("generate")["runtime"],
    params:
        spec=lambda w: json.dumps(config["models"][w.model], sort_keys=True),
        seed=config["seed"],
    shell:
        "reprolab prepare-model {wildcards.model} --out {output} 2> {log}"

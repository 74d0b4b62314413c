"""reprolab: recent LLM papers reproduced end to end as Snakemake workflows."""

__version__ = "0.1.0"

"""Loading and validating the suite's configuration.

The suite config (config/config.yaml) names the scale, the papers, the models and the tracking
server. Each paper has config/papers/<paper>.yaml with a `common` block and one block per scale;
the block for the chosen scale is deep-merged over `common`. Everything is validated against the
JSON schemas in config/schemas/ before any job runs, and every error names the file and the key.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCALES = ("smoke", "tiny", "full")
CONFIG_DIR = Path("config")


class ConfigError(ValueError):
    """A configuration file holds a wrong key, type or value."""


def load_yaml(path: Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from err


def deep_merge(base: dict, override: dict) -> dict:
    """Return base with override merged in; nested dicts merge, everything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        parts.append(",".join(extra))
    elif error.validator == "required":
        parts.append(error.message.split("'")[1])
    return ".".join(parts) or "<top level>"


def _expected(error: jsonschema.ValidationError) -> str:
    schema = error.schema
    if error.validator == "additionalProperties":
        return "one of the known keys: " + ", ".join(sorted(schema.get("properties", {})))
    if error.validator == "required":
        return "this key to be present"
    if "description" in schema:
        return f"{error.message} ({schema['description']})"
    return error.message


def validate(data: Any, schema: dict, source: str) -> None:
    """Raise ConfigError naming source, key and expectation for the first schema violation."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        raise ConfigError(f"{source}: key '{_key_path(err)}': expected {_expected(err)}")


def _without_required(schema: Any) -> Any:
    """A copy of a schema with every `required` list dropped, to check a partial block."""
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_without_required(v) for v in schema]
    return schema


def _walk(data: Any, path: tuple = ()):
    """Every (path, dict) inside a config, depth first."""
    if isinstance(data, dict):
        yield path, data
        for key, value in data.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _walk(value, (*path, str(i)))


def _range_pairs(block: dict):
    """(low key, high key) pairs of one dict: min_x/max_x and x_min/x_max."""
    for key in block:
        if key.startswith("min_") and f"max_{key[4:]}" in block:
            yield key, f"max_{key[4:]}"
        if key.endswith("_min") and f"{key[:-4]}_max" in block:
            yield key, f"{key[:-4]}_max"


def _trainer_fields(section: str) -> set[str]:
    """TRL's config fields for a trainer block under `section` (grpo, sft, dpo; else any)."""
    import dataclasses

    from trl import DPOConfig, GRPOConfig, SFTConfig

    classes = {"grpo": [GRPOConfig], "sft": [SFTConfig], "dpo": [DPOConfig]}
    chosen = classes.get(section, [GRPOConfig, SFTConfig, DPOConfig])
    return {f.name for cls in chosen for f in dataclasses.fields(cls)}


def check_values(config: dict, source: str, trainer_keys: bool = True) -> None:
    """What a schema cannot say, checked before any job: backend names are registered, trainer
    keys are fields of TRL's config for that trainer, and min/max pairs are ordered."""
    from reprolab.inference import BACKENDS

    for path, block in _walk(config):
        where = ".".join(path)
        backend = block.get("backend")
        if isinstance(backend, str) and backend not in BACKENDS:
            raise ConfigError(
                f"{source}: key '{'.'.join((*path, 'backend'))}': unknown backend '{backend}'; "
                f"expected one of {sorted(BACKENDS)}"
            )
        for low, high in _range_pairs(block):
            lo, hi = block[low], block[high]
            if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
                raise ConfigError(
                    f"{source}: key '{where}': {low} ({lo}) is above {high} ({hi}); "
                    f"expected {low} <= {high}"
                )
        trainer = block.get("trainer")
        if trainer_keys and isinstance(trainer, dict):
            section = path[-1] if path else ""
            unknown = sorted(set(trainer) - _trainer_fields(section))
            if unknown:
                raise ConfigError(
                    f"{source}: key '{'.'.join((*path, 'trainer'))}': unknown trainer keys "
                    f"{unknown}; expected fields of TRL's {section or 'trainer'} config"
                )


def _check_model_shapes(models: dict, source: str) -> None:
    for name, spec in models.items():
        if spec.get("source") != "random_llama":
            continue
        hidden = spec.get("hidden_size", 64)
        heads = spec.get("num_attention_heads", 4)
        kv = spec.get("num_key_value_heads", 2)
        if hidden % heads or heads % kv:
            raise ConfigError(
                f"{source}: key 'models.{name}': hidden_size ({hidden}) must divide by "
                f"num_attention_heads ({heads}), and that by num_key_value_heads ({kv})"
            )


def validate_suite_config(config: dict, source: str, config_dir: Path = CONFIG_DIR) -> dict:
    schema = load_yaml(Path(config_dir) / "schemas" / "config.schema.yaml")
    validate(config, schema, source)
    _check_model_shapes(config["models"], source)
    from reprolab.papers import manifest

    known = manifest()
    for paper in config["papers"]:
        if paper not in known:
            raise ConfigError(
                f"{source}: key 'papers': '{paper}' is not a paper of the suite; expected one "
                f"of {known} (a package under src/reprolab/papers/ with a steps.py)"
            )
        if not (Path(config_dir) / "papers" / f"{paper}.yaml").exists():
            raise ConfigError(
                f"{source}: key 'papers': no config/papers/{paper}.yaml for paper '{paper}'"
            )
    return config


def paper_schema(paper: str, config_dir: Path = CONFIG_DIR) -> dict:
    """A paper's block schema with the shared $defs of schemas/common.schema.yaml (optimizer,
    trainer, backend) added, which it refers to as {$ref: "#/$defs/<name>"}."""
    path = Path(config_dir) / "schemas" / f"{paper}.schema.yaml"
    schema = load_yaml(path)
    shared = load_yaml(Path(config_dir) / "schemas" / "common.schema.yaml").get("$defs", {})
    own = schema.get("$defs") or {}
    clash = sorted(set(own) & set(shared))
    if clash:
        raise ConfigError(f"{path}: $defs {clash} are shared ones (schemas/common.schema.yaml)")
    # Every paper may list the seeds it runs (reprolab.wiring: one run of its steps per seed).
    properties = {**schema.get("properties", {}), "seeds": {"$ref": "#/$defs/seeds"}}
    return {**schema, "properties": properties, "$defs": {**shared, **own}}


def load_paper_config(paper: str, suite: dict, config_dir: Path = CONFIG_DIR) -> dict:
    """The paper's settings at the suite's scale, with the suite keys every step needs."""
    config_dir = Path(config_dir)
    path = config_dir / "papers" / f"{paper}.yaml"
    raw = load_yaml(path)
    block_schema = paper_schema(paper, config_dir)
    partial = _without_required({k: v for k, v in block_schema.items() if k != "$defs"})
    file_schema = {
        "$defs": _without_required(block_schema.get("$defs", {})),
        "type": "object",
        "additionalProperties": False,
        "properties": {name: partial for name in ("common", *SCALES)},
        "required": list(SCALES),
    }
    validate(raw, file_schema, str(path))
    scale = suite["scale"]
    merged = deep_merge(raw.get("common", {}), raw[scale])
    validate(merged, block_schema, f"{path} (common + {scale})")
    check_values(merged, f"{path} (common + {scale})")
    model = merged.get("model")
    if model is not None and model not in suite["models"]:
        raise ConfigError(
            f"{path} (common + {scale}): key 'model': '{model}' is not a model of "
            f"config/config.yaml; expected one of {sorted(suite['models'])}"
        )
    # The paper's seeds: its first runs in results/<scale>/<paper>/, each further one in
    # .../<paper>/seeds/<seed>/; without a list, the suite seed alone.
    merged["seeds"] = merged.get("seeds") or [suite["seed"]]
    merged["suite"] = {
        "paper": paper,
        "scale": scale,
        "seed": merged["seeds"][0],
        "tracking": suite["tracking"],
        # The model registry; a job carries only the entries its sections name (job_config).
        "registry": suite["models"],
    }
    return merged


def load_config(
    paper: str,
    scale: str | None = None,
    config_dir: Path = CONFIG_DIR,
    overrides: dict | None = None,
) -> dict:
    """Load, validate and resolve one paper's config the way the Snakefile does (for CLI use)."""
    config_dir = Path(config_dir)
    suite = load_yaml(config_dir / "config.yaml")
    suite = deep_merge(suite, overrides or {})
    if scale is not None:
        suite["scale"] = scale
    validate_suite_config(suite, str(config_dir / "config.yaml"), config_dir)
    return load_paper_config(paper, suite, config_dir)

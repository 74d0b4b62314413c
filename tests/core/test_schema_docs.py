"""The config schemas document the config: every suite-wide property says what it is, and every
`default:` is the value the code really uses when the key is absent.

"The code's default" is read mechanically from the source: a key the code treats as optional
is read as `<mapping>.get("<key>", <literal>)`, so the test collects every such call (Python's
`ast`) in the core (for config.schema.yaml and common.schema.yaml) and in the paper's package
plus the core (for a paper's schema), and
- each schema `default:` must be one of the literals the code passes for that key;
- each literal the code passes for a key that the schema lists as an optional property must be
  that property's `default:` (the converse: no undocumented default), except for the reads
  named in NOT_CONFIG, which read other mappings that share a key name;
- each paper's merged config at each scale, with every absent key that has a default filled in
  with it, still validates: the documented default is a value the schema itself accepts;
- for two core blocks the behaviour is checked directly: the claims settings and a random Llama
  built from a block without the optional keys equal those built with the schema's defaults.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reprolab.config import check_values, load_config, load_yaml, paper_schema, validate
from reprolab.papers import manifest
from tests.conftest import REPO

SCHEMAS = REPO / "config" / "schemas"
SRC = REPO / "src" / "reprolab"
SUITE_SCHEMAS = ("config.schema.yaml", "common.schema.yaml")
# Paper schemas whose every property has a description too (the others: their most-used keys).
DESCRIBED_PAPERS = (
    "sgd_rlvr.schema.yaml",
    "dialdefer.schema.yaml",
    "gar.schema.yaml",
    "partnr_dialogue.schema.yaml",
)

# `.get(key, literal)` reads of mappings that are not the config, though they share a key name
# with a schema property: (source file relative to src/reprolab, key) -> why.
NOT_CONFIG = {
    ("wiring.py", "seed"): "a job's wildcards: the {seed} wildcard's value, '' for the first seed",
}


def properties(schema: Any, path: str = "") -> Iterator[tuple[str, str, dict, bool]]:
    """(path, key, property schema, required) of every property anywhere in a schema, but in
    the conditions of `if` and `not` (which name properties without defining them)."""
    if isinstance(schema, dict):
        required = set(schema.get("required", []))
        for key, sub in (schema.get("properties") or {}).items():
            yield f"{path}/{key}", key, sub, key in required
        for key, sub in schema.items():
            where = f"{path}/{key}" if key != "properties" else path
            if key == "properties":
                for name, prop in sub.items():
                    yield from properties(prop, f"{path}/{name}")
            elif isinstance(sub, dict | list) and key not in ("if", "not"):
                yield from properties(sub, where)
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            yield from properties(sub, f"{path}[{i}]")


def same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (1 and 1.0 alike; True and 1 not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def code_defaults(files: list[Path], fields: bool = False) -> dict[str, list[tuple[Any, str]]]:
    """key -> [(literal default, 'file:line')] of every `.get("key", <literal>)` call, and with
    `fields` of every class field declared with a literal default (`allow_weak_isolation: bool =
    False` of a settings dataclass built from a config section)."""
    found: dict[str, list[tuple[Any, str]]] = {}
    for path in files:
        tree = ast.parse(path.read_text())
        for cls in (n for n in ast.walk(tree) if fields and isinstance(n, ast.ClassDef)):
            for item in cls.body:
                if (
                    isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and item.value is not None
                ):
                    try:
                        value = ast.literal_eval(item.value)
                    except ValueError:
                        continue
                    where = f"{path.relative_to(SRC)}:{item.lineno}"
                    found.setdefault(item.target.id, []).append((value, where))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                continue
            try:
                value = ast.literal_eval(node.args[1])
            except ValueError:
                continue  # computed from something else (the suite seed, a length): no literal
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            found.setdefault(node.args[0].value, []).append((value, where))
    return found


def core_files() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "papers" not in p.relative_to(SRC).parts]


def scope(schema_file: str) -> tuple[list[dict], list[Path]]:
    """The schemas that describe one config and the source files that read it."""
    if schema_file in SUITE_SCHEMAS:
        return [load_yaml(SCHEMAS / s) for s in SUITE_SCHEMAS], core_files()
    paper = schema_file.removesuffix(".schema.yaml")
    files = core_files() + sorted((SRC / "papers" / paper).rglob("*.py"))
    return [load_yaml(SCHEMAS / schema_file), load_yaml(SCHEMAS / "common.schema.yaml")], files


NO_DEFAULT = object()


def resolve(sub: dict, defs: dict) -> dict:
    """A property's schema with its `$ref` to a shared or own `$defs` entry followed."""
    while "$ref" in sub:
        sub = defs[sub["$ref"].rsplit("/", 1)[1]]
    return sub


def documented_default(sub: dict, defs: dict) -> Any:
    """The property's `default:`, its own or its `$ref` target's; NO_DEFAULT if none."""
    for candidate in (sub, resolve(sub, defs)):
        if "default" in candidate:
            return candidate["default"]
    return NO_DEFAULT


ALL_SCHEMAS = sorted(p.name for p in SCHEMAS.glob("*.schema.yaml"))
PAPER_SCHEMAS = [s for s in ALL_SCHEMAS if s not in SUITE_SCHEMAS]


@pytest.mark.parametrize("schema_file", SUITE_SCHEMAS + DESCRIBED_PAPERS)
def test_every_property_has_a_description(schema_file):
    schema = load_yaml(SCHEMAS / schema_file)
    bare = [path for path, _, sub, _ in properties(schema) if not sub.get("description")]
    assert not bare, f"config/schemas/{schema_file}: properties without a description: {bare}"


@pytest.mark.parametrize("schema_file", PAPER_SCHEMAS)
def test_every_section_of_a_paper_config_has_a_description(schema_file):
    """The sections (top-level keys) of every paper's config say what they are and which step
    reads them; DESCRIBED_PAPERS go down to every key."""
    schema = load_yaml(SCHEMAS / schema_file)
    bare = [key for key, sub in schema["properties"].items() if not sub.get("description")]
    assert not bare, f"config/schemas/{schema_file}: sections without a description: {bare}"


def test_the_paper_schemas_cover_every_paper():
    assert {s.removesuffix(".schema.yaml") for s in PAPER_SCHEMAS} == set(manifest())


@pytest.mark.parametrize("schema_file", ALL_SCHEMAS)
def test_every_schema_default_is_the_codes(schema_file):
    schemas, files = scope(schema_file)
    defs = {k: v for schema in schemas for k, v in (schema.get("$defs") or {}).items()}
    defaults = code_defaults(files, fields=True)
    wrong = []
    for path, key, sub, _ in properties(schemas[0]):
        default = documented_default(sub, defs)
        if default is NO_DEFAULT:
            continue
        used = defaults.get(key, [])
        if not any(same(default, value) for value, _ in used):
            wrong.append(f"{path}: default {default!r}, the code reads {used or 'none'}")
    assert not wrong, f"config/schemas/{schema_file}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("schema_file", [*ALL_SCHEMAS])
def test_every_optional_key_the_code_defaults_has_that_default_in_the_schema(schema_file):
    schemas, files = scope(schema_file)
    defs = {k: v for schema in schemas for k, v in (schema.get("$defs") or {}).items()}
    optional: dict[str, list[Any]] = {}
    for schema in schemas:
        for _, key, sub, required in properties(schema):
            if not required:
                optional.setdefault(key, []).append(documented_default(sub, defs))
    undocumented = []
    for key, uses in code_defaults(files).items():
        for value, where in uses:
            if key not in optional or (where.split(":")[0], key) in NOT_CONFIG:
                continue
            if not any(same(default, value) for default in optional[key]):
                undocumented.append(f"{where}: .get({key!r}, {value!r})")
    assert not undocumented, (
        f"config/schemas/{schema_file}: optional keys the code defaults, without that "
        "`default:` (or name the read in NOT_CONFIG):\n" + "\n".join(undocumented)
    )


def fill_defaults(data: Any, schema: dict, defs: dict, path: str = "") -> list[str]:
    """Put every absent defaulted key of `data` in place (in place); the paths it filled."""
    schema = resolve(schema, defs)
    filled: list[str] = []
    if isinstance(data, dict):
        props = schema.get("properties", {})
        for key, sub in props.items():
            default = sub.get("default", resolve(sub, defs).get("default"))
            if key in data:
                filled += fill_defaults(data[key], sub, defs, f"{path}.{key}")
            elif "default" in sub or "default" in resolve(sub, defs):
                data[key] = copy.deepcopy(default)
                filled.append(f"{path}.{key}".lstrip("."))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in set(data) - set(props):
                filled += fill_defaults(data[key], extra, defs, f"{path}.{key}")
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(data):
            filled += fill_defaults(item, schema["items"], defs, f"{path}[{i}]")
    return filled


@pytest.mark.parametrize("scale", ["smoke", "tiny", "full"])
@pytest.mark.parametrize("paper", manifest())
def test_absent_keys_filled_with_their_defaults_still_validate(paper, scale):
    """A paper's config at each scale as its steps see it, every absent key with a `default:`
    set to it: the schema accepts it, and the code reads each such key with that default
    (test_every_schema_default_is_the_codes), so leaving the key out means the default."""
    cfg = load_config(paper, scale, REPO / "config")
    block = {k: v for k, v in cfg.items() if k != "suite"}
    schema = paper_schema(paper, REPO / "config")
    filled = fill_defaults(block, schema, schema["$defs"])
    validate(block, schema, f"{paper} ({scale}) with defaults {filled}")
    check_values(block, f"{paper} ({scale}) with defaults {filled}")


def test_suite_config_filled_with_its_defaults_still_validates():
    from reprolab.config import validate_suite_config

    suite = load_yaml(REPO / "config" / "config.yaml")
    schema = load_yaml(SCHEMAS / "config.schema.yaml")
    filled = fill_defaults(suite, schema, schema["$defs"])
    assert "models.tiny-random-llama.seed" in filled  # an optional key the registry leaves out
    validate_suite_config(suite, "config/config.yaml with its schema defaults", REPO / "config")


def test_claims_settings_without_the_keys_are_the_schema_defaults(tmp_path):
    """`reprolab claims` reads config/config.yaml's claims block; without its keys it must use
    the schema's defaults (the block is required today, the fallback keeps them honest)."""
    import inspect

    from reprolab import cli

    props = load_yaml(SCHEMAS / "config.schema.yaml")["properties"]["claims"]["properties"]
    source = inspect.getsource(cli._claims)
    for key, sub in props.items():
        assert f'block.get("{key}", {sub["default"]!r})' in source, key


def test_a_random_llama_without_its_shape_keys_has_the_schema_defaults():
    from reprolab.models import random_llama

    entry = load_yaml(SCHEMAS / "config.schema.yaml")["properties"]["models"]
    shape = {
        k: sub["default"]
        for k, sub in entry["additionalProperties"]["properties"].items()
        if k.endswith(("_size", "_layers", "_heads"))
    }
    bare, _ = random_llama({"source": "random_llama"}, 0)
    explicit, _ = random_llama({"source": "random_llama", **shape}, 0)
    for key, value in shape.items():
        assert getattr(bare.config, key) == value == getattr(explicit.config, key), key

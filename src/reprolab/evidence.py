"""Per-unit evidence behind a paper's metrics: units.json, what the claims engine resamples.

A paper's metrics step records, beside each point estimate in metrics.json, the values of the
units it was computed from (items, episodes, prompts, seeds), so that a claim's interval is taken
over the unit that was really sampled:

    units = Units()
    units.add("grpo_sgd.correct", "item", ids=item_ids, values=correct)   # one value per item
    units.add("fact5.full.gar", "episode", ids=episode_ids, values=curves)  # one curve per episode
    units.add_null("probe.auc_peak", observed=0.78, null=permuted_aucs)     # a workflow-made null
    publish_metrics(cfg, metrics, out, units=units)                          # writes units.json

Samples that share a unit and the same ids are paired: the engine resamples them together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reprolab.io import read_json, write_json


@dataclass(frozen=True)
class Sample:
    """Values of one quantity over the units it was measured on (scalars or equal-length lists)."""

    name: str
    unit: str
    ids: tuple[str, ...]
    values: tuple

    def array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=float)

    def aligned(self, ids: Sequence[str]) -> np.ndarray:
        """The values in the order of `ids` (the shared ids of a paired comparison)."""
        index = {unit_id: i for i, unit_id in enumerate(self.ids)}
        data = self.array()
        return data[[index[i] for i in ids]]


@dataclass(frozen=True)
class NullDistribution:
    """An observed statistic and its distribution under a null made by a workflow step."""

    name: str
    observed: float
    null: tuple[float, ...]
    how: str


@dataclass
class Units:
    """What a metrics step records for the claims engine (written as units.json)."""

    samples: dict[str, Sample] = field(default_factory=dict)
    nulls: dict[str, NullDistribution] = field(default_factory=dict)

    def add(self, name: str, unit: str, ids: Sequence, values: Sequence) -> None:
        if name in self.samples or name in self.nulls:
            raise ValueError(f"units: sample '{name}' recorded twice")
        if len(ids) != len(values):
            raise ValueError(f"units: sample '{name}' has {len(ids)} ids but {len(values)} values")
        ids = tuple(str(i) for i in ids)
        if len(set(ids)) != len(ids):
            raise ValueError(f"units: sample '{name}' repeats a {unit} id")
        values = tuple(_plain(v) for v in values)
        self.samples[name] = Sample(name, unit, ids, values)

    def add_null(self, name: str, observed: float, null: Sequence[float], how: str) -> None:
        if name in self.samples or name in self.nulls:
            raise ValueError(f"units: sample '{name}' recorded twice")
        self.nulls[name] = NullDistribution(name, float(observed), tuple(map(float, null)), how)

    def to_json(self) -> dict:
        return {
            "samples": {
                s.name: {"unit": s.unit, "ids": list(s.ids), "values": list(s.values)}
                for s in self.samples.values()
            },
            "nulls": {
                n.name: {"observed": n.observed, "null": list(n.null), "how": n.how}
                for n in self.nulls.values()
            },
        }

    def write(self, path: Path) -> Path:
        write_json(Path(path), self.to_json())
        return Path(path)

    @classmethod
    def from_json(cls, data: dict, source: str = "units.json") -> Units:
        units = cls()
        for name, s in data.get("samples", {}).items():
            for key in ("unit", "ids", "values"):
                if key not in s:
                    raise ValueError(f"{source}: sample '{name}' has no '{key}'")
            units.add(name, s["unit"], s["ids"], s["values"])
        for name, n in data.get("nulls", {}).items():
            units.add_null(name, n["observed"], n["null"], n.get("how", ""))
        return units

    @classmethod
    def read(cls, path: Path) -> Units:
        return cls.from_json(read_json(Path(path)), str(path))


def pool_seeds(per_seed: dict[int, Units]) -> Units:
    """One Units over several seeds of a paper: ids become '<seed>/<id>', so a unit stays paired
    with itself within a seed and the seeds' units are resampled together. A sample that only
    some seeds record (an arm a paper runs on its first seed only) pools over the seeds that
    record it; its id set then differs from an every-seed sample's (a subset of it), so the
    engine compares the two unpaired."""
    if len(per_seed) == 1:
        return next(iter(per_seed.values()))
    pooled = Units()
    names = set().union(*(u.samples for u in per_seed.values()))
    for name in sorted(names):
        parts = [
            (seed, u.samples[name]) for seed, u in sorted(per_seed.items()) if name in u.samples
        ]
        units = {s.unit for _, s in parts}
        if len(units) > 1:
            raise ValueError(f"units: sample '{name}' has different units across seeds: {units}")
        ids = [f"{seed}/{i}" for seed, s in parts for i in s.ids]
        values = [v for _, s in parts for v in s.values]
        pooled.add(name, parts[0][1].unit, ids, values)
    return pooled


def _plain(value):
    """JSON-ready: numbers as floats (NaN refused), lists kept."""
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    number = float(value)
    if math.isnan(number):
        raise ValueError("units: NaN value; leave undefined units out instead")
    return number

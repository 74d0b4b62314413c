"""File I/O that never leaves a half-written output behind."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _atomic_write(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextmanager
def building_dir(out_dir: Path) -> Iterator[Path]:
    """A fresh folder beside out_dir to write into; it replaces out_dir when the block ends well.

    A crash inside the block leaves the old out_dir (or none) in place, never a half-written one.
    """
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    yield tmp
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


def write_json(path: Path, data: Any) -> None:
    _atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing; run the step that writes it first") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err


def sidecar(path: Path) -> Path:
    """`<file>.meta.json`: the row count and sha256 a JSONL file had when it was written."""
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Rows as JSON lines, atomically, then their count and hash in the sidecar, so a reader
    can tell a file cut short or changed afterwards from the one its producer wrote."""
    lines = [json.dumps(r, sort_keys=True) + "\n" for r in rows]
    text = "".join(lines)
    sidecar(path).unlink(missing_ok=True)
    _atomic_write(path, text)
    meta = {"rows": len(lines), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    _atomic_write(sidecar(path), json.dumps(meta) + "\n")


def write_counted(path: Path, rows: list[dict], name: str) -> dict[str, int]:
    """A data step's JSONL output: written, logged, and its row count returned as the step's
    metric `name` (e.g. train_problems)."""
    write_jsonl(path, rows)
    logging.getLogger("reprolab").info("wrote %d %s", len(rows), name.replace("_", " "))
    return {name: len(rows)}


def check_against_sidecar(path: Path) -> None:
    """A JSONL file whose rows or bytes differ from its sidecar is removed (with the sidecar),
    so the next workflow run rebuilds it with its producer, and the reader fails naming it."""
    path = Path(path)
    meta_path = sidecar(path)
    if not meta_path.exists():
        return
    meta = json.loads(meta_path.read_text())
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() == meta["sha256"]:
        return
    rows = sum(1 for line in data.decode(errors="replace").splitlines() if line.strip())
    path.unlink()
    meta_path.unlink()
    raise ValueError(
        f"{path}: {rows} rows and a different content than the {meta['rows']} rows its producer "
        "wrote (cut short or changed after it was written); removed, so the next run of the "
        "workflow rebuilds it"
    )


def read_jsonl(path: Path) -> list[dict]:
    path = Path(path)
    if path.exists():
        check_against_sidecar(path)
    rows = []
    with path.open() as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not valid JSON ({err})") from err
    return rows


def append_jsonl(path: Path, row: dict) -> None:
    """One row added to a growing file (a training log): no longer the file a sidecar describes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sidecar(path).unlink(missing_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")

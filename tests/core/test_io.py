"""JSONL files carry their row count and hash: a file cut short is caught and rebuilt."""

from __future__ import annotations

import json

import pytest

from reprolab.io import append_jsonl, read_jsonl, sidecar, write_jsonl

ROWS = [{"id": i, "text": f"row {i}"} for i in range(16)]


def test_a_written_file_reads_back_with_its_sidecar(tmp_path):
    path = tmp_path / "train.jsonl"
    write_jsonl(path, ROWS)
    assert json.loads(sidecar(path).read_text())["rows"] == 16
    assert read_jsonl(path) == ROWS


def test_a_file_cut_at_a_line_boundary_fails_its_reader_and_is_removed(tmp_path):
    path = tmp_path / "train.jsonl"
    write_jsonl(path, ROWS)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:8]))  # parses fine, half the rows
    with pytest.raises(ValueError, match=r"train.jsonl: 8 rows .* the 16 rows its producer wrote"):
        read_jsonl(path)
    assert not path.exists() and not sidecar(path).exists()  # the next run rebuilds it


def test_a_changed_row_is_caught_and_files_without_sidecar_are_read_as_they_are(tmp_path):
    path = tmp_path / "test.jsonl"
    write_jsonl(path, ROWS)
    path.write_text(path.read_text().replace("row 3", "row 4"))
    with pytest.raises(ValueError, match="different content"):
        read_jsonl(path)
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"a": 1}\n')
    assert read_jsonl(plain) == [{"a": 1}]


def test_appending_turns_a_file_into_a_log_without_a_sidecar(tmp_path):
    path = tmp_path / "train_log.jsonl"
    write_jsonl(path, ROWS[:2])
    append_jsonl(path, ROWS[2])
    assert not sidecar(path).exists()
    assert read_jsonl(path) == ROWS[:3]


def test_a_counted_write_returns_its_rows_as_the_named_metric(tmp_path):
    from reprolab.io import write_counted

    rows = [{"q": 1}, {"q": 2}, {"q": 3}]
    assert write_counted(tmp_path / "d.jsonl", rows, "test_problems") == {"test_problems": 3}
    assert read_jsonl(tmp_path / "d.jsonl") == rows

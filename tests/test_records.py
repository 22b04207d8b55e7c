"""Validation: every bad record is an error naming file and line; nothing vanishes silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data.records import GUIDE_LABELS, DataError, label_order, read_labelled, read_many, to_dataset
from tests.conftest import write_lines

GOOD = json.dumps({"id": "a", "text": "The guns must fall silent.", "label": "support"})


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "b", "text": "Truce now", "label": "support"', "invalid JSON"),
        ('["not", "an", "object"]', "must be a JSON object"),
        ('{"id": "b", "label": "support"}', "missing 'text'"),
        ('{"id": "b", "text": "   ", "label": "support"}', "empty 'text'"),
        ('{"id": "b", "text": 42, "label": "support"}', "'text' must be a string"),
        ('{"id": "b", "text": "Truce now"}', "missing or empty 'label'"),
        ('{"id": "b", "text": "Truce now", "label": "maybe"}', "unknown label 'maybe'"),
        ('{"id": "a", "text": "Truce now", "label": "support"}', "duplicate id 'a' (first seen on line 1)"),
    ],
)
def test_bad_record_names_file_and_line(tmp_path: Path, bad_line: str, message: str) -> None:
    path = write_lines(tmp_path / "records.jsonl", [GOOD, bad_line])
    with pytest.raises(DataError) as caught:
        read_labelled(path, known_labels=GUIDE_LABELS)
    assert str(caught.value).startswith(f"{path}:2: ")
    assert message in str(caught.value)


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(GOOD.encode() + b"\n" + b'{"text": "caf\xe9", "label": "neutral"}\n')
    with pytest.raises(DataError, match=r"records.jsonl:2: not valid UTF-8"):
        read_labelled(path)


def test_missing_file_and_empty_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_labelled(tmp_path / "absent.jsonl")
    with pytest.raises(DataError, match="no records"):
        read_labelled(write_lines(tmp_path / "empty.jsonl", ["", "  "]))


def test_every_good_record_is_kept_with_defaults(tmp_path: Path) -> None:
    lines = [GOOD, "", json.dumps({"text": "Talks resume Thursday.", "label": "neutral", "genre": "news_report"})]
    records = read_labelled(write_lines(tmp_path / "user.jsonl", lines))
    assert [r["id"] for r in records] == ["a", "user-3"]
    assert records[1] == {
        "id": "user-3",
        "text": "Talks resume Thursday.",
        "label": "neutral",
        "speaker": None,
        "genre": "news_report",
    }


def test_ids_must_be_unique_across_files(tmp_path: Path) -> None:
    first = write_lines(tmp_path / "one.jsonl", [GOOD])
    second = write_lines(tmp_path / "two.jsonl", [GOOD])
    with pytest.raises(DataError, match=r"two.jsonl: duplicate id 'a' \(also in .*one.jsonl\)"):
        read_many([first, second])


def test_label_order_follows_the_guide_or_the_alphabet() -> None:
    assert label_order(["neutral", "support", "oppose"]) == ["support", "oppose", "neutral"]
    assert label_order(["pro", "anti", "pro"]) == ["anti", "pro"]


def test_records_load_as_a_dataset_with_class_labels(tmp_path: Path) -> None:
    records = read_labelled(write_lines(tmp_path / "r.jsonl", [GOOD]))
    dataset = to_dataset(records, list(GUIDE_LABELS))
    assert dataset.features["label"].names == list(GUIDE_LABELS)
    assert dataset[0]["label"] == 0 and dataset[0]["text"] == "The guns must fall silent."

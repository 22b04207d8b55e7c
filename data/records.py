"""Reading labelled JSON Lines: every bad line is an error that names its file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from datasets import ClassLabel, Dataset, Features, Value

GUIDE_LABELS = ("support", "oppose", "conditional", "neutral")
GENRES = ("official_statement", "interview", "social_post", "news_report", "op_ed", "citizen")
CORPUS_DIR = Path(__file__).resolve().parent / "ceasefire"
FIELDS = ("id", "text", "label", "speaker", "genre")


class DataError(ValueError):
    """Bad input data, described in one sentence that says where."""


def parse_record(line: str) -> dict:
    """Parse one JSON Lines record that must carry a non-empty `text`; raises ValueError saying what is wrong."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON ({error.msg})") from None
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    text = record.get("text")
    if text is None:
        raise ValueError("missing 'text'")
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    if not text.strip():
        raise ValueError("empty 'text'")
    return record


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, decoded line) for the non-blank lines of a UTF-8 file."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{path}:{number}: not valid UTF-8") from None
            if line.strip():
                yield number, line


def read_labelled(path: str | Path, known_labels: Sequence[str] | None = None) -> list[dict]:
    """Read and validate a labelled JSON Lines file; with `known_labels`, any other label is an error."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    records: list[dict] = []
    first_line_of: dict[str, int] = {}
    for number, line in iter_lines(path):
        where = f"{path}:{number}"
        try:
            record = parse_record(line)
        except ValueError as error:
            raise DataError(f"{where}: {error}") from None
        label = record.get("label")
        if not isinstance(label, str) or not label.strip():
            raise DataError(f"{where}: missing or empty 'label'")
        if known_labels is not None and label not in known_labels:
            raise DataError(f"{where}: unknown label {label!r} (expected one of: {', '.join(known_labels)})")
        record_id = str(record.get("id") or f"{path.stem}-{number}")
        if record_id in first_line_of:
            raise DataError(f"{where}: duplicate id {record_id!r} (first seen on line {first_line_of[record_id]})")
        first_line_of[record_id] = number
        # Fields beyond the known ones (source, offsets, contrast_of…) travel with the record.
        records.append(record | {"id": record_id, "speaker": record.get("speaker"), "genre": record.get("genre")})
    if not records:
        raise DataError(f"{path}: no records")
    return records


def read_many(paths: Iterable[str | Path], known_labels: Sequence[str] | None = None) -> list[dict]:
    """Read several labelled files as one set; ids must be unique across all of them."""
    records: list[dict] = []
    origin: dict[str, Path] = {}
    for path in map(Path, paths):
        for record in read_labelled(path, known_labels):
            if record["id"] in origin:
                raise DataError(f"{path}: duplicate id {record['id']!r} (also in {origin[record['id']]})")
            origin[record["id"]] = path
            records.append(record)
    return records


def label_order(labels: Iterable[str]) -> list[str]:
    """The guide's order when the labels are the guide's, otherwise alphabetical, so runs agree."""
    present = set(labels)
    if present <= set(GUIDE_LABELS):
        return [label for label in GUIDE_LABELS if label in present]
    return sorted(present)


def to_dataset(records: Sequence[dict], labels: Sequence[str]) -> Dataset:
    """The records as a `datasets.Dataset` whose `label` column is a ClassLabel over `labels`."""
    features = Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "label": ClassLabel(names=list(labels)),
            "speaker": Value("string"),
            "genre": Value("string"),
        }
    )
    return Dataset.from_list([{field: record[field] for field in FIELDS} for record in records], features=features)


def write_jsonl(records: Iterable[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

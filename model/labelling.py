"""Label a file of statements as a stream: memory stays flat however long the file is.

Every input line comes back in the output, in order: labelled, or with an `error` that says what was
wrong with it. A bad line never stops the run and never disappears.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, BinaryIO

from tqdm import tqdm

from data.records import DataError, parse_record
from model.predictor import StancePredictor

FORMATS = ("jsonl", "csv", "txt")
RESULT_FIELDS = ("label", "scores", "truncated")


@dataclass
class Item:
    line: int
    record: dict  # what came in; results are added to it
    error: str | None = None


def format_of(path: str, given: str | None) -> str:
    """The format named by `given`, else by the file's extension; standard input defaults to jsonl."""
    name = given or ("jsonl" if path == "-" else Path(path).suffix.lstrip(".").lower())
    name = {"json": "jsonl", "ndjson": "jsonl", "text": "txt"}.get(name, name)
    if name not in FORMATS:
        raise DataError(f"{path}: cannot tell the format (name it .jsonl, .csv or .txt, or pass --input-format)")
    return name


def read_jsonl(stream: IO[str]) -> Iterator[Item]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            try:
                yield Item(number, parse_record(line))
            except ValueError as error:
                yield Item(number, {"input": line.rstrip("\n")}, error=str(error))


def read_csv(stream: IO[str]) -> Iterator[Item]:
    reader = csv.DictReader(stream)
    if reader.fieldnames is None or "text" not in reader.fieldnames:
        raise DataError("the CSV input has no 'text' column")
    for row in reader:
        text = row.get("text")
        yield Item(reader.line_num, dict(row), error=None if text and text.strip() else "empty 'text'")


def read_txt(stream: IO[str]) -> Iterator[Item]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield Item(number, {"text": line.rstrip("\n")})


READERS = {"jsonl": read_jsonl, "csv": read_csv, "txt": read_txt}


def label_items(predictor: StancePredictor, items: Iterable[Item], chunk_size: int = 512) -> Iterator[Item]:
    """The items with label, scores and truncated added to each good record, in input order."""
    iterator = iter(items)
    while chunk := list(islice(iterator, chunk_size)):
        good = [item for item in chunk if item.error is None]
        for item, result in zip(good, predictor.classify([item.record["text"] for item in good]), strict=True):
            item.record.update(result)
        yield from chunk


def jsonl_line(item: Item) -> str:
    record = item.record if item.error is None else item.record | {"line": item.line, "error": item.error}
    return json.dumps(record, ensure_ascii=False) + "\n"


def csv_row(item: Item, labels: list[str]) -> dict:
    """Input columns, then label, one score column per label, truncated and error."""
    row = {k: v for k, v in item.record.items() if k not in RESULT_FIELDS}
    row |= {"label": item.record.get("label", ""), "truncated": item.record.get("truncated", "")}
    row |= {f"score_{label}": item.record.get("scores", {}).get(label, "") for label in labels}
    return row | {"error": f"line {item.line}: {item.error}" if item.error else ""}


def open_input(path: str, stack: ExitStack) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        return stack.enter_context(open(path, "rb"))
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None


def label_file(
    predictor: StancePredictor, source: str, target: str, input_format: str | None = None, chunk_size: int = 512
) -> dict[str, int]:
    """Label `source` into `target` ('-' for the standard streams); return counts of labelled and bad lines."""
    fmt = format_of(source, input_format)
    to_file = target != "-"
    partial = Path(f"{target}.partial")
    counts = {"labelled": 0, "errors": 0}
    with ExitStack() as stack:
        raw = open_input(source, stack)
        # Undecodable bytes become U+FFFD: one odd character must not end a million-line run.
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="" if fmt == "csv" else None)
        try:
            out = open(partial, "w", encoding="utf-8", newline="") if to_file else sys.stdout
        except OSError as error:
            raise DataError(f"{target}: cannot write ({error.strerror})") from None
        stack.callback(out.close if to_file else out.flush)
        size = os.fstat(raw.fileno()).st_size if source != "-" else None
        bar = stack.enter_context(tqdm(total=size, unit="B", unit_scale=True, disable=not to_file, desc="labelling"))
        writer = csv.DictWriter(out, fieldnames=[]) if target.endswith(".csv") else None
        for item in label_items(predictor, READERS[fmt](text), chunk_size):
            counts["errors" if item.error else "labelled"] += 1
            if writer is None:
                out.write(jsonl_line(item))
            else:
                row = csv_row(item, predictor.labels)
                if not writer.fieldnames:  # the columns are known once the first row is
                    writer.fieldnames = list(row)
                    writer.writeheader()
                writer.writerow(row)
            if size:
                bar.update(raw.tell() - bar.n)
    if to_file:
        partial.replace(target)  # the output appears whole, or not at all
    return counts

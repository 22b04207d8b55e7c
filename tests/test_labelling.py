"""`stance predict`: every input line comes back, labelled or with its error; input streams."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from data.records import GUIDE_LABELS
from model import StancePredictor
from model.labelling import Item, label_items
from tests.conftest import REPO, write_lines

pytestmark = pytest.mark.slow


def predict(model: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", "predict", "--model", str(model), *args],
        cwd=REPO, input=stdin, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_jsonl_keeps_every_line_in_order_with_errors_named(tiny_model: Path, tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Sign the truce now.", "source": "tv"}),
        json.dumps({"id": "b", "text": "   "}),
        "{broken",
        "",
        json.dumps({"id": "c"}),
        json.dumps({"id": "d", "text": "Talks resume Thursday."}),
    ]
    output = tmp_path / "out.jsonl"
    done = predict(tiny_model, "--input", str(write_lines(tmp_path / "in.jsonl", lines)), "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert "labelled 2 statements; 3 bad lines" in done.stderr
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, None, None, "d"]
    assert rows[0]["source"] == "tv" and rows[0]["label"] in GUIDE_LABELS
    assert set(rows[0]["scores"]) == set(GUIDE_LABELS) and rows[0]["truncated"] is False
    assert [(r["line"], r["error"]) for r in rows[1:4]] == [
        (2, "empty 'text'"),
        (3, "invalid JSON (Expecting property name enclosed in double quotes)"),
        (5, "missing 'text'"),
    ]
    assert not Path(f"{output}.partial").exists()


def test_csv_in_csv_out_with_a_score_column_per_label(tiny_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('id,text\n1,"Stop the war, now."\n2,\n', encoding="utf-8")
    done = predict(tiny_model, "--input", str(source), "--output", str(tmp_path / "out.csv"))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["text"] == "Stop the war, now." and rows[0]["label"] in GUIDE_LABELS
    assert abs(sum(float(rows[0][f"score_{label}"]) for label in GUIDE_LABELS) - 1) < 1e-4
    assert rows[1]["error"] == "line 3: empty 'text'" and rows[1]["label"] == ""


def test_txt_from_stdin_to_stdout(tiny_model: Path) -> None:
    done = predict(tiny_model, "--input", "-", "--input-format", "txt", stdin="A truce now.\n\nNever.\n")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["A truce now.", "Never."]


def test_unreadable_input_is_one_line(tiny_model: Path, tmp_path: Path) -> None:
    done = predict(tiny_model, "--input", str(tmp_path / "absent.jsonl"), "--output", str(tmp_path / "out.jsonl"))
    assert done.returncode == 1 and done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert not (tmp_path / "out.jsonl").exists()


def test_labelling_streams_instead_of_reading_everything(tiny_model: Path) -> None:
    endless = (Item(n, {"text": f"Statement number {n}."}) for n in itertools.count(1))
    first = list(itertools.islice(label_items(StancePredictor(tiny_model), endless, chunk_size=8), 20))
    assert [item.line for item in first] == list(range(1, 21))
    assert all(item.record["label"] in GUIDE_LABELS for item in first)

"""Shared fixtures. `tiny_model` is a real fine-tuned model: the bundled encoder, a few training steps."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from data.records import CORPUS_DIR, GUIDE_LABELS

REPO = Path(__file__).resolve().parents[1]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def small_labelled_set(per_label: int, split: str = "train") -> list[dict]:
    """The first `per_label` records of each label from a bundled split."""
    records = [json.loads(line) for line in (CORPUS_DIR / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for label in GUIDE_LABELS for r in [r for r in records if r["label"] == label][:per_label]]


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_data")
    for split, per_label in (("train", 24), ("dev", 6)):
        write_lines(folder / f"{split}.jsonl", [json.dumps(r) for r in small_labelled_set(per_label, split)])
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    """Two epochs on 96 statements with the real MiniLM encoder, exported to ONNX: real, and quick."""
    from training.config import load_config
    from training.train import fit

    output = tmp_path_factory.mktemp("models") / "tiny"
    config = load_config(
        overrides=dict(
            data=[str(tiny_data)], dev="", eval=[], output=str(output), epochs=2, max_length=64, batch_size=16
        )
    )
    return fit(config)


@pytest.fixture(scope="session")
def served_model_dir(request: pytest.FixtureRequest) -> Path:
    """The model folder the server tests serve: `tiny_model`, or $STANCE_TEST_MODEL to reuse a folder at hand.

    The server tests only copy it (hard links where they can), never change it.
    """
    override = os.environ.get("STANCE_TEST_MODEL")
    return Path(override) if override else request.getfixturevalue("tiny_model")

"""From config paths to validated training, dev and evaluation records."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from data.records import DataError, label_order, read_labelled, read_many
from data.splits import stratified_split
from training.config import TrainConfig, resolve_path


@dataclass(frozen=True)
class TrainingData:
    train: list[dict]
    dev: list[dict]
    evaluation: dict[str, list[dict]]
    labels: list[str]


def _expand(paths: list[str]) -> tuple[list[Path], Path | None]:
    """Training files, and a dev file found beside them when a folder is given."""
    files: list[Path] = []
    found_dev = None
    for value in paths:
        path = resolve_path(value)
        if path.is_dir():
            files.append(path / "train.jsonl")
            found_dev = found_dev or (path / "dev.jsonl" if (path / "dev.jsonl").is_file() else None)
        else:
            files.append(path)
    if not files:
        raise DataError("no training data given")
    return files, found_dev


def _check_counts(train: list[dict], labels: list[str], minimum: int) -> None:
    counts = Counter(record["label"] for record in train)
    for label in labels:
        if counts[label] < minimum:
            raise DataError(
                f"label {label!r} has only {counts[label]} training example(s); at least {minimum} are needed "
                "(setting min_examples_per_label)"
            )


def load_training_data(config: TrainConfig) -> TrainingData:
    """Read and check everything a run needs before it writes anything."""
    files, found_dev = _expand(config.data)
    train = read_many(files)
    labels = label_order(record["label"] for record in train)
    if len(labels) < 2:
        raise DataError(f"the training data has only one label ({labels[0]!r}); at least two are needed")
    _check_counts(train, labels, config.min_examples_per_label)
    dev_path = resolve_path(config.dev) if config.dev else found_dev
    if dev_path is None:
        train, dev = stratified_split(train, config.dev_fraction, config.seed)
    else:
        dev = read_labelled(dev_path, known_labels=labels)
    evaluation = {resolve_path(p).stem: read_labelled(resolve_path(p), known_labels=labels) for p in config.eval}
    return TrainingData(train=train, dev=dev, evaluation=evaluation, labels=labels)

"""Assemble the corpus splits from the hand-written source batches in `data/ceasefire/sources/`.

- `train_*.jsonl` (written statements) and `contrast_*.jsonl` (minimal edits of some of them that flip the label)
  form the training pool, split into train and dev by label.
- `test.jsonl` and `challenge.jsonl`, with their own contrast edits (`test_contrast_*.jsonl`,
  `challenge_contrast*.jsonl`), were written separately and are kept whole, except that any record too close to a
  training-pool or seed statement is dropped, so that test measures generalisation rather than memory.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from data.records import CORPUS_DIR, GENRES, GUIDE_LABELS, DataError, read_labelled, write_jsonl
from data.splits import near_duplicates, stratified_split

DEV_FRACTION = 0.12
SEED = 13


def read_source(path: Path) -> list[dict]:
    """A source batch, validated, with whitespace tidied and ids that say where each record came from.

    A contrast edit names its original by id in `contrast_of` (the original's source stem and record number).
    """
    records = read_labelled(path, GUIDE_LABELS)
    for number, record in enumerate(records, start=1):
        if record["genre"] not in GENRES:
            raise DataError(f"{path}: record {number}: unknown genre {record['genre']!r}")
        record["text"] = re.sub(r"\s+", " ", record["text"]).strip()
        record["id"] = f"{path.stem.removeprefix('train_')}-{number:04d}"
    return records


def read_sources(paths: list[Path]) -> list[dict]:
    return [record for path in paths for record in read_source(path)]


def drop_close_to(records: list[dict], reference: list[dict]) -> tuple[list[dict], int]:
    """Records without any near-duplicate in `reference`, and how many were dropped."""
    close = {i for i, _, _ in near_duplicates([r["text"] for r in records], [r["text"] for r in reference])}
    return [r for i, r in enumerate(records) if i not in close], len(close)


def drop_internal_duplicates(records: list[dict]) -> tuple[list[dict], int]:
    """Keep the first of each group of near-duplicate records with the same label within one set.

    Near-duplicates with different labels stay: a contrast edit is close to its original on purpose.
    """
    texts = [r["text"] for r in records]
    pairs = near_duplicates(texts, texts)
    later = {max(i, j) for i, j, _ in pairs if i != j and records[i]["label"] == records[j]["label"]}
    return [r for i, r in enumerate(records) if i not in later], len(later)


def build(corpus_dir: Path = CORPUS_DIR) -> dict[str, list[dict]]:
    """Write train, dev, test and challenge splits; return them."""
    sources = corpus_dir / "sources"
    seed = read_labelled(corpus_dir / "seed.jsonl", GUIDE_LABELS)
    pool = read_sources(sorted(sources.glob("train_*.jsonl")) + sorted(sources.glob("contrast_*.jsonl")))
    pool, internal = drop_internal_duplicates(pool)
    pool, seed_like = drop_close_to(pool, seed)
    test, test_internal = drop_internal_duplicates(read_sources(sorted(sources.glob("test*.jsonl"))))
    test, test_leaks = drop_close_to(test, pool + seed)
    challenge, _ = drop_internal_duplicates(read_sources(sorted(sources.glob("challenge*.jsonl"))))
    challenge, challenge_leaks = drop_close_to(challenge, pool + seed + test)
    print(
        f"dropped near-duplicates: {internal} within the training pool, {seed_like} of seed statements, "
        f"{test_internal} within test, {test_leaks} of test close to training, {challenge_leaks} of challenge"
    )
    train, dev = stratified_split(pool, DEV_FRACTION, SEED)
    splits = {"train": train, "dev": dev, "test": test, "challenge": challenge}
    for name, records in splits.items():
        write_jsonl(sorted(records, key=lambda r: r["id"]), corpus_dir / f"{name}.jsonl")
    return splits


def describe(splits: dict[str, list[dict]]) -> str:
    """Markdown tables of counts by split and label, and by split and genre."""
    lines = ["| split | n | " + " | ".join(GUIDE_LABELS) + " |", "|---" * (len(GUIDE_LABELS) + 2) + "|"]
    for name, records in splits.items():
        counts = Counter(r["label"] for r in records)
        lines.append(f"| {name} | {len(records)} | " + " | ".join(str(counts[label]) for label in GUIDE_LABELS) + " |")
    lines += ["", "| split | " + " | ".join(GENRES) + " |", "|---" * (len(GENRES) + 1) + "|"]
    for name, records in splits.items():
        counts = Counter(r["genre"] for r in records)
        lines.append(f"| {name} | " + " | ".join(str(counts[genre]) for genre in GENRES) + " |")
    return "\n".join(lines)


def plot_labels(splits: dict[str, list[dict]], path: Path) -> None:
    """A grouped bar chart of labels per split, for the data card."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / len(splits)
    x = np.arange(len(GUIDE_LABELS))
    for k, (name, records) in enumerate(splits.items()):
        counts = Counter(r["label"] for r in records)
        bars = ax.bar(x + k * width, [counts[label] for label in GUIDE_LABELS], width, label=name)
        ax.bar_label(bars, fontsize=7)
    ax.set_xticks(x + width * (len(splits) - 1) / 2, GUIDE_LABELS)
    ax.set_ylabel("statements")
    ax.set_title("Ceasefire stance corpus: labels per split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

"""The bundled corpus keeps its promises: size, balance, valid records, and no leakage into evaluation."""

from __future__ import annotations

from collections import Counter

import pytest

from data.records import CORPUS_DIR, GENRES, GUIDE_LABELS, read_labelled
from data.splits import NEAR_DUPLICATE_JACCARD, near_duplicates

SPLITS = ("train", "dev", "test", "challenge", "seed")


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[dict]]:
    return {name: read_labelled(CORPUS_DIR / f"{name}.jsonl", GUIDE_LABELS) for name in SPLITS}


def test_size_and_label_balance(corpus: dict[str, list[dict]]) -> None:
    written = [r for name in ("train", "dev", "test", "challenge") for r in corpus[name]]
    assert len(written) >= 3000
    counts = Counter(r["label"] for r in written)
    assert min(counts[label] for label in GUIDE_LABELS) >= 500
    assert len(corpus["challenge"]) >= 150
    for name in ("train", "dev", "test", "challenge"):
        assert set(Counter(r["label"] for r in corpus[name])) == set(GUIDE_LABELS), name


def test_records_are_complete(corpus: dict[str, list[dict]]) -> None:
    ids = [r["id"] for records in corpus.values() for r in records]
    assert len(ids) == len(set(ids)), "ids are unique across splits"
    for records in corpus.values():
        for r in records:
            assert r["genre"] in GENRES, r["id"]
            assert r["speaker"] is None or (isinstance(r["speaker"], str) and r["speaker"].strip()), r["id"]


def test_contrast_edits_point_at_an_original_in_their_own_part(corpus: dict[str, list[dict]]) -> None:
    """A contrast edit and its original share a split family, and carry different labels."""
    pool = corpus["train"] + corpus["dev"]
    assert any(r.get("contrast_of") for r in pool) and any(r.get("contrast_of") for r in corpus["test"])
    for family in (pool, corpus["test"], corpus["challenge"]):
        by_id = {r["id"]: r for r in family}
        edits = [r for r in family if r.get("contrast_of")]
        present = [r for r in edits if r["contrast_of"] in by_id]
        assert len(present) >= 0.95 * len(edits)  # a few originals fell to de-duplication
        assert all(by_id[r["contrast_of"]]["label"] != r["label"] for r in present)


@pytest.mark.parametrize("held_out", ["test", "challenge", "seed"])
def test_no_exact_or_near_duplicate_of_training_data(corpus: dict[str, list[dict]], held_out: str) -> None:
    training = corpus["train"] + corpus["dev"]
    evaluation = corpus[held_out]
    assert not {r["text"].lower() for r in evaluation} & {r["text"].lower() for r in training}
    close = near_duplicates([r["text"] for r in evaluation], [r["text"] for r in training], NEAR_DUPLICATE_JACCARD)
    assert close == [], [(evaluation[i]["id"], training[j]["id"]) for i, j, _ in close[:5]]


def test_seed_statements_come_from_the_article(corpus: dict[str, list[dict]]) -> None:
    from tests.conftest import REPO

    article = (REPO.parent / "shared" / "seeds" / "ceasefire-article.txt").read_text(encoding="utf-8")
    for r in corpus["seed"]:
        assert article[r["start"] : r["end"]] == r["text"], r["id"]

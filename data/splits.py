"""Splitting records and finding near-duplicates across splits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import train_test_split

NEAR_DUPLICATE_JACCARD = 0.8


def stratified_split(records: Sequence[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Split off `fraction` of the records with each label in proportion; the same seed gives the same split."""
    labels = [r["label"] for r in records]
    # scikit-learn refuses a held-out part with fewer rows than labels, which small user data can hit.
    size = max(round(fraction * len(records)), len(set(labels)))
    keep, held_out = train_test_split(list(records), test_size=size, random_state=seed, stratify=labels)
    return keep, held_out


def near_duplicates(
    texts_a: Sequence[str], texts_b: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD, n: int = 5
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, jaccard) whose character n-gram sets overlap by at least `threshold`.

    Sparse binary n-gram matrices make the all-pairs intersection one matrix product, so a few
    thousand texts against a few thousand more take well under a second.
    """
    vectorizer = CountVectorizer(analyzer="char", ngram_range=(n, n), binary=True, lowercase=True)
    vectorizer.fit(list(texts_a) + list(texts_b))
    a = vectorizer.transform(texts_a)
    b = vectorizer.transform(texts_b)
    intersection = (a @ b.T).tocoo()
    size_a = np.asarray(a.sum(axis=1)).ravel()
    size_b = np.asarray(b.sum(axis=1)).ravel()
    union = size_a[intersection.row] + size_b[intersection.col] - intersection.data
    jaccard = intersection.data / np.maximum(union, 1)
    hits = jaccard >= threshold
    return [
        (int(i), int(j), float(s))
        for i, j, s in zip(intersection.row[hits], intersection.col[hits], jaccard[hits], strict=True)
    ]

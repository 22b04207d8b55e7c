from __future__ import annotations

from collections import Counter

from data.splits import near_duplicates, stratified_split


def test_near_duplicates_finds_small_edits_only() -> None:
    train = [
        "Moscow said it would consider a truce only if Western arms deliveries stop first.",
        "Kyiv will not trade land for a pause in the fighting.",
    ]
    test = [
        "Moscow said it would consider a truce only if Western arms deliveries stopped first.",  # one word changed
        "A pause in the fighting must not cost Ukraine any land, Kyiv insists.",  # same idea, new wording
    ]
    pairs = near_duplicates(test, train)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]
    assert pairs[0][2] >= 0.8


def test_stratified_split_is_reproducible_and_keeps_every_label() -> None:
    records = [{"id": str(i), "label": label} for i, label in enumerate(["a"] * 30 + ["b"] * 10 + ["c"] * 4)]
    keep, held = stratified_split(records, 0.25, seed=7)
    again_keep, again_held = stratified_split(records, 0.25, seed=7)
    assert [r["id"] for r in held] == [r["id"] for r in again_held]
    assert len(keep) + len(held) == len(records)
    assert set(Counter(r["label"] for r in held)) == {"a", "b", "c"}

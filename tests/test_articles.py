"""Splitting an article into statements and attributing them: the seed article, each rule, and any text at all."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.records import CORPUS_DIR
from serve.articles import Statement, split_statements, summarize_speakers
from tests.conftest import REPO

SEED_ARTICLE = REPO.parent / "shared" / "seeds" / "ceasefire-article.txt"


@pytest.fixture(scope="module")
def article() -> str:
    return SEED_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def statements(article: str) -> list[Statement]:
    return split_statements(article)


def by_text(statements: list[Statement], beginning: str) -> Statement:
    [statement] = [s for s in statements if s.text.startswith(beginning)]
    return statement


def test_offsets_slice_back_to_the_statements_in_order(article: str, statements: list[Statement]) -> None:
    assert len(statements) > 25
    for statement in statements:
        assert article[statement.start : statement.end] == statement.text
        assert statement.text == statement.text.strip()
    assert all(a.end <= b.start for a, b in pairwise(statements))


def test_every_annotated_seed_statement_is_found_with_its_speaker(statements: list[Statement]) -> None:
    """data/ceasefire/seed.jsonl is this article annotated by hand: spans and speakers."""
    gold = [json.loads(line) for line in (CORPUS_DIR / "seed.jsonl").read_text(encoding="utf-8").splitlines()]
    found = {(s.start, s.end): s.speaker for s in statements}
    assert len(gold) > 20
    for record in gold:
        assert (record["start"], record["end"]) in found, record["text"]
        assert found[record["start"], record["end"]] == record["speaker"], record["text"]


def test_the_five_named_voices_come_back_attributed(statements: list[Statement]) -> None:
    expected = {
        "Every week, 2,500 soldiers die": ("Donald Trump", "quote"),  # `he wrote`, after `Trump made …`
        "We’re going to see if we can negotiate": ("Donald Trump", "quote"),
        "He said the current ceasefire proposal": ("Volodymyr Zelensky", "sentence"),
        "Every day this war continues": ("Volodymyr Zelensky", "quote"),  # `Zelensky stressed`
        "Enough death and destruction": ("Emmanuel Macron", "quote"),
        "UK Foreign Secretary David Lammy demanded": ("David Lammy", "sentence"),
        "Press Secretary Karoline Leavitt stated": ("Karoline Leavitt", "sentence"),
        "Peace in Ukraine has never been closer": ("Karoline Leavitt", "quote"),  # `she claimed`
        "When asked about the discussion topics, Leavitt": ("Karoline Leavitt", "sentence"),
    }
    for beginning, (speaker, kind) in expected.items():
        statement = by_text(statements, beginning)
        assert (statement.speaker, statement.kind) == (speaker, kind), beginning


def test_a_quote_loses_the_comma_that_hands_over_to_its_frame(statements: list[Statement]) -> None:
    assert by_text(statements, "Enough death").text == "Enough death and destruction. The guns must go silent"


def test_quotes_inside_a_reporting_sentence_stay_in_it(statements: list[Statement]) -> None:
    peskov = by_text(statements, "Kremlin spokesperson Dmitry Peskov")
    assert peskov.text.endswith("simply stating, “We never do that.”")
    assert peskov.speaker == "Dmitry Peskov"


def test_headlines_are_skipped_and_narration_has_no_speaker(statements: list[Statement]) -> None:
    assert not [s for s in statements if s.text.startswith("Zelensky Accuses Putin")]
    assert by_text(statements, "A key sticking point").speaker is None
    assert by_text(statements, "Ukrainian and American delegates").speaker is None


@pytest.mark.parametrize(
    "text, speaker",
    [
        ("Chancellor Olaf Scholz spoke on Monday. “A truce now,” said Scholz.", "Olaf Scholz"),
        ('Kaja Kallas arrived. "Talks must start," she said.', "Kaja Kallas"),
        ("“We will not stop,” the Kremlin said.", "Kremlin"),
        ("“Not one step back,” said Russian Foreign Minister Sergei Lavrov.", "Sergei Lavrov"),
        ("The State Department said a truce was near.", "State Department"),
        ("Ursula von der Leyen urged restraint.", "Ursula von der Leyen"),
    ],
)
def test_speaker_rules(text: str, speaker: str) -> None:
    assert split_statements(text)[-1].speaker == speaker


def test_an_unattributed_quote_goes_on_with_the_previous_quote_speaker() -> None:
    text = "“We want peace,” said President Emmanuel Macron. “But not at any price.”"
    first, second = split_statements(text)
    assert first.speaker == second.speaker == "Emmanuel Macron"
    assert second.text == "But not at any price."


def test_abbreviations_end_no_sentence() -> None:
    [statement] = split_statements("U.S. envoy Steve Witkoff met Mr. Putin in Moscow.")
    assert statement.speaker == "Steve Witkoff"


def test_summary_counts_labels_and_means_scores_per_speaker() -> None:
    statements = split_statements("President Zelensky asked for a truce. President Putin refused. Zelensky insisted.")
    predictions = [
        {"label": "support", "scores": {"support": 0.9, "oppose": 0.1}},
        {"label": "oppose", "scores": {"support": 0.2, "oppose": 0.8}},
        {"label": "oppose", "scores": {"support": 0.4, "oppose": 0.6}},
    ]
    zelensky, putin = summarize_speakers(statements, predictions, ["support", "oppose"])
    assert zelensky["speaker"] == "Zelensky" and zelensky["statements"] == 2
    assert zelensky["label_counts"] == {"support": 1, "oppose": 1}
    assert zelensky["mean_scores"] == pytest.approx({"support": 0.65, "oppose": 0.35})
    assert zelensky["stance"] == "support"  # the confident statement outweighs the hesitant one
    assert (putin["speaker"], putin["stance"]) == ("Putin", "oppose")


ARTICLE_PIECES = st.sampled_from([*"aZ .,!?“”\"’'\n-:;", "He ", "She ", "Mr. ", "U.S. ", "said ", "Trump "])


@settings(max_examples=300, deadline=None)
@given(st.lists(ARTICLE_PIECES, max_size=80).map("".join))
def test_any_text_splits_into_in_order_statements_that_slice_back(text: str) -> None:
    statements = split_statements(text)
    for statement in statements:
        assert 0 <= statement.start < statement.end <= len(text)
        assert text[statement.start : statement.end] == statement.text
    assert all(a.end <= b.start for a, b in pairwise(statements))

"""Split a news article into statements and attribute each to its speaker: plain rules, no model.

A statement is either a direct quote that opens a sentence (`“…,” Macron declared.`: the quote is the
statement, the frame names the speaker) or any other sentence of the body, whose speaker is its subject
when that is a name (`Kremlin spokesperson Dmitry Peskov refused …`) or he/she/they. Quotes inside a
reporting sentence (`simply stating, “We never do that.”`) stay in it: the sentence says who and how.
Headlines (lines without final punctuation) are skipped. Narration comes back with no speaker, and
the model labels it, usually neutral. Names resolve to the full name the article gave earlier
(`Zelensky` → `Volodymyr Zelensky`), titles are dropped (`Press Secretary Karoline Leavitt` →
`Karoline Leavitt`), and he/she is the last person the article attributed a statement to.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

ABBREVIATIONS = "Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Prof|St|Jr|Sr"  # the longest has four letters
# A token is an abbreviation (U.S., Mr.), a word (with ’s or hyphens inside), or one punctuation mark.
TOKEN = re.compile(rf"(?:[A-Z]\.){{2,}}|(?:{ABBREVIATIONS})\.|\w+(?:[’'\-]\w+)*|[^\w\s]")
# End of a sentence: final punctuation, any closing quote, then space and a capital, a digit or a quote.
SENTENCE_END = re.compile(r"[.!?]+[”\"’)]*(?P<space>\s+)(?=[“\"‘(]?[A-Z0-9])")
# A period after an initial (J., the S of U.S.) or an abbreviation (Mr.) ends no sentence.
ABBREVIATION_BEFORE = re.compile(rf"\b(?:[A-Z]|{ABBREVIATIONS})$")
FINAL_PUNCTUATION = re.compile(r"[.!?][”\"’)]*$")
OPENING_QUOTE = re.compile(r"[“\"]")
CLOSING_QUOTE = {"“": "”", '"': '"'}

# Words that may sit inside a title before a name, in any case: `newly elected Canadian Prime Minister`.
TITLE_WORDS = frozenset(
    """president vice prime minister ministers secretary state foreign defence defense affairs interior
    general press spokesperson spokesman spokeswoman envoy special ambassador chancellor senator sen.
    representative rep. governor gov. mayor chief commander leader adviser advisor aide director chairman
    chair deputy former newly elected acting incoming outgoing mr. mrs. ms. dr. pope king queen prince
    head official""".split()
)
# Lowercase words inside a name (`Ursula von der Leyen`, `Bank of England`), and `and` joining two.
NAME_PARTICLES = frozenset({"of", "von", "van", "der", "de", "da", "al", "bin"})
NAME_JOINERS = NAME_PARTICLES | {"and"}
# A name ending in one of these is an institution, not a titled person: `State Department`.
INSTITUTION_WORDS = frozenset(
    "house department ministry office council commission parliament government administration agency union".split()
)
MAX_NAME_WORDS = 12  # `newly elected Canadian Prime Minister Mark Carney and …`: no name runs longer
# Words before a subject that are no part of its name: `The White House`, `Another Russian strike`.
DETERMINERS = frozenset(
    "the a an another some every each many most both all no several other such this that these those".split()
)
NATIONALITY = re.compile(r"^(?:\w+(?:ian|ean|ese|ish)|American|French|Dutch|Greek|Swiss|Israeli|Saudi|Thai)$")
# A sentence that opens with one of these (or an -ing word) and a comma opens with an adverbial phrase.
OPENERS = frozenset(
    """after before when while within during following meanwhile however in on at as asked despite since
    earlier later separately still yet instead although though if once until amid also then for with by from
    under over last this according""".split()
)
PERSON_PRONOUNS = frozenset({"he", "she"})
GROUP_PRONOUNS = frozenset({"they"})
SENTENCE_OPENING_MARKS = frozenset({".", "!", "?", "“", '"', ":"})


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of an article: `text == article[start:end]`."""

    text: str
    start: int
    end: int
    speaker: str | None
    kind: Literal["quote", "sentence"]


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    quotes: tuple[tuple[int, int], ...]  # (opening mark, just past the closing mark), inside the sentence


def split_statements(article: str) -> list[Statement]:
    """The article's statements in order, each with its character offsets and speaker (or None)."""
    body = [sentence for paragraph in paragraphs(article) for sentence in body_sentences(article, *paragraph)]
    speakers = Speakers(capitalized=capitalized_mid_sentence(article, body))
    statements: list[Statement] = []
    for sentence in body:
        speakers.learn_full_names(article[sentence.start : sentence.end])
        previous = statements[-1] if statements else None
        for statement in sentence_statements(article, sentence, speakers, previous):
            speakers.note(statement.speaker)
            statements.append(statement)
    return statements


def paragraphs(article: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line, whitespace trimmed."""
    for match in re.finditer(r"[^\n]+", article):
        start, end = match.start(), match.end()
        while start < end and article[start].isspace():
            start += 1
        while end > start and article[end - 1].isspace():
            end -= 1
        if start < end:
            yield start, end


def body_sentences(article: str, start: int, end: int) -> list[Sentence]:
    """The sentences of one paragraph; none for a headline, a line without final punctuation."""
    if not FINAL_PUNCTUATION.search(article, start, end):
        return []
    quotes = quote_spans(article, start, end)
    quote_starts = [open_at for open_at, _ in quotes]
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for match in SENTENCE_END.finditer(article, start, end):
        boundary = match.start("space")
        last_open = bisect_left(quote_starts, boundary) - 1
        inside_quote = last_open >= 0 and quotes[last_open][1] > boundary
        # Abbreviations are short: look no further back, or a long text would cost quadratic time.
        abbreviation = ABBREVIATION_BEFORE.search(article, max(sentence_start, match.start() - 5), match.start())
        if not inside_quote and not abbreviation:
            spans.append((sentence_start, boundary))
            sentence_start = match.end()
    spans.append((sentence_start, end))
    # Sentences never end inside a quotation, so each quotation lies within the sentence it opens in.
    return [
        Sentence(first, last, tuple(quotes[bisect_left(quote_starts, first) : bisect_left(quote_starts, last)]))
        for first, last in spans
    ]


def quote_spans(article: str, start: int, end: int) -> list[tuple[int, int]]:
    """(opening mark, just past the closing mark) of each quotation; an unclosed one runs to the end."""
    spans: list[tuple[int, int]] = []
    position = start
    while opening := OPENING_QUOTE.search(article, position, end):
        close_at = article.find(CLOSING_QUOTE[opening.group()], opening.end(), end)
        position = end if close_at == -1 else close_at + 1
        spans.append((opening.start(), position))
    return spans


def capitalized_mid_sentence(article: str, sentences: Sequence[Sentence]) -> frozenset[str]:
    """Words the article capitalizes where capitals carry meaning: names, not sentence openers."""
    words: set[str] = set()
    for sentence in sentences:
        previous = "."
        for token in TOKEN.findall(article, sentence.start, sentence.end):
            if token[0].isupper() and previous not in SENTENCE_OPENING_MARKS:
                words.add(possessive_stripped(token))
            previous = token
    return frozenset(words)


def sentence_statements(
    article: str, sentence: Sentence, speakers: Speakers, previous: Statement | None
) -> list[Statement]:
    """A sentence that opens with a quote yields its quotes; any other sentence is one statement."""
    text = article[sentence.start : sentence.end]
    if not (sentence.quotes and sentence.quotes[0][0] == sentence.start):
        return [Statement(text, sentence.start, sentence.end, speakers.subject(text), "sentence")]
    frame = frame_text(article, sentence)
    # An unattributed quote right after another quote goes on with the same voice.
    continuing = previous.speaker if previous is not None and previous.kind == "quote" else None
    speaker = speakers.in_frame(frame) or continuing
    return [quote for span in sentence.quotes if (quote := quote_statement(article, span, speaker))]


def frame_text(article: str, sentence: Sentence) -> str:
    """The sentence without its quotations: `“…,” he wrote.` → ` he wrote.`"""
    parts, position = [], sentence.start
    for open_at, close_end in sentence.quotes:
        parts.append(article[position:open_at])
        position = close_end
    parts.append(article[position : sentence.end])
    return " ".join(parts)


def quote_statement(article: str, span: tuple[int, int], speaker: str | None) -> Statement | None:
    """The words inside the quotation marks, without the comma that hands over to the frame."""
    start, end = span[0] + 1, span[1]
    if article[end - 1] in CLOSING_QUOTE.values() and end - 1 >= start:
        end -= 1
    while start < end and article[start].isspace():
        start += 1
    while end > start and (article[end - 1].isspace() or article[end - 1] in ",;:"):
        end -= 1
    return Statement(article[start:end], start, end, speaker, "quote") if start < end else None


def possessive_stripped(token: str) -> str:
    return re.sub(r"[’']s$", "", token)


def is_name_word(token: str) -> bool:
    return token[0].isupper() or token.lower() in TITLE_WORDS


def leading_name(tokens: Sequence[str], start: int = 0) -> list[str]:
    """The run of name and title words from `start` on: `Kremlin spokesperson Dmitry Peskov`."""
    run: list[str] = []
    for token in tokens[start : start + MAX_NAME_WORDS]:
        if not (token[0].isalpha() and (is_name_word(token) or (run and token in NAME_JOINERS))):
            break
        run.append(token)
        if possessive_stripped(token) != token:
            break  # `Zelensky’s office`: the name ends at the possessive.
    while run and run[-1] in NAME_JOINERS:
        run.pop()
    return run


def past_openers(tokens: Sequence[str]) -> int:
    """Where the sentence proper begins, past opening phrases such as `After talks in Jeddah,`."""
    position = 0
    while position < len(tokens) and is_opener(tokens[position]):
        try:
            position = tokens.index(",", position) + 1
        except ValueError:  # no comma: the opener word is the sentence's own
            break
    return position


def person_or_institution(words: Sequence[str]) -> str | None:
    """`UK Foreign Secretary David Lammy` → `David Lammy`; `the State Department` → `State Department`."""
    words = [possessive_stripped(word) for word in words]
    if not words or words[-1].lower() in INSTITUTION_WORDS:
        return " ".join(words) or None
    name: list[str] = []
    for word in reversed(words):
        if word.lower() in TITLE_WORDS or not (word[0].isupper() or word in NAME_PARTICLES):
            break
        name.insert(0, word)
    if not name or all(NATIONALITY.match(word) for word in name):
        return None  # a bare title (`the president`) or a nationality (`Ukrainian delegates`)
    return " ".join(name)


def split_conjuncts(words: Sequence[str]) -> list[list[str]]:
    conjuncts: list[list[str]] = [[]]
    for word in words:
        if word == "and":
            conjuncts.append([])
        else:
            conjuncts[-1].append(word)
    return [conjunct for conjunct in conjuncts if conjunct]


@dataclass
class Speakers:
    """What attribution remembers while reading an article in order."""

    capitalized: frozenset[str]
    full_names: dict[str, str] = field(default_factory=dict)  # surname → the full name given earlier
    last_person: str | None = None
    last_group: str | None = None

    def learn_full_names(self, sentence: str) -> None:
        """Remember every `First Last` name in the sentence, so a later `Last` resolves to it."""
        tokens = TOKEN.findall(sentence)
        position = self.past_common_words(tokens, 0)
        while position < len(tokens):
            run = leading_name(tokens, position) if is_name_word(tokens[position]) else []
            for conjunct in split_conjuncts(run):
                name = person_or_institution(conjunct)
                if name and is_person(name):
                    self.full_names[name.split()[-1]] = name
            position += max(len(run), 1)

    def past_common_words(self, tokens: Sequence[str], position: int) -> int:
        """Past any determiners, and past a first word capitalized only because it opens the sentence."""
        while position < len(tokens) and tokens[position].lower() in DETERMINERS:
            position += 1
        return 1 if position == 0 and tokens and self.capitalized_only_to_open(tokens) else position

    def capitalized_only_to_open(self, tokens: Sequence[str]) -> bool:
        """Whether a sentence's first word is a common word: `Officials said …`, not `Putin said …`.

        It counts as a name if the article capitalizes it elsewhere too, if it is a surname met before, or
        if a name goes on after it (`Kaja Kallas arrived`).
        """
        word = possessive_stripped(tokens[0])
        name_goes_on = len(tokens) > 1 and (is_name_word(tokens[1]) or tokens[1] in NAME_PARTICLES)
        return word[0].isupper() and not name_goes_on and word not in self.capitalized and word not in self.full_names

    def subject(self, sentence: str) -> str | None:
        """Who a reporting sentence is about: its subject, past any opening `After talks …,`."""
        tokens = TOKEN.findall(sentence)
        position = past_openers(tokens)
        if position < len(tokens) and tokens[position].lower() in PERSON_PRONOUNS | GROUP_PRONOUNS:
            return self.pronoun(tokens[position])
        return self.named(leading_name(tokens, self.past_common_words(tokens, position)))

    def in_frame(self, frame: str) -> str | None:
        """Who a quote's frame names: ` he wrote.`, ` Zelensky stressed.`, ` said French President Macron.`"""
        tokens = TOKEN.findall(frame)
        for position, token in enumerate(tokens):
            if token.lower() in PERSON_PRONOUNS | GROUP_PRONOUNS:
                return self.pronoun(token)
            if token[0].isalpha() and is_name_word(token):
                return self.named(leading_name(tokens, position))
        return None

    def pronoun(self, word: str) -> str | None:
        return self.last_group if word.lower() in GROUP_PRONOUNS else self.last_person

    def named(self, words: Sequence[str]) -> str | None:
        """`French President Macron and … Mark Carney` → `Emmanuel Macron and Mark Carney`."""
        names = [name for conjunct in split_conjuncts(words) if (name := person_or_institution(conjunct))]
        return " and ".join(self.full_names.get(name, name) for name in names) or None

    def note(self, speaker: str | None) -> None:
        """Remember the last person and the last group spoken of, for a later he/she/they."""
        if speaker is None:
            return
        if " and " in speaker:
            self.last_group = speaker
        elif is_person(speaker):
            self.last_person = speaker


def is_opener(token: str) -> bool:
    word = token.lower()
    return word in OPENERS or (word.endswith("ing") and len(word) > 4)


def is_person(name: str) -> bool:
    """A full personal name, `First Last`: not an institution, a place, or a group of speakers."""
    words = name.split()
    return len(words) >= 2 and " and " not in name and words[-1].lower() not in INSTITUTION_WORDS


def summarize_speakers(
    statements: Sequence[Statement], predictions: Sequence[Mapping], labels: Sequence[str]
) -> list[dict]:
    """Per named speaker, in order of first appearance: how many statements, label counts, mean scores.

    `stance` is the label with the highest mean score, which weighs a confident statement above a
    hesitant one, where a majority vote would count them alike.
    """
    grouped: dict[str, list[Mapping]] = {}
    for statement, prediction in zip(statements, predictions, strict=True):
        if statement.speaker is not None:
            grouped.setdefault(statement.speaker, []).append(prediction)
    summaries = []
    for speaker, spoken in grouped.items():
        mean_scores = {label: sum(p["scores"][label] for p in spoken) / len(spoken) for label in labels}
        summaries.append(
            {
                "speaker": speaker,
                "statements": len(spoken),
                "stance": max(labels, key=mean_scores.__getitem__),
                "label_counts": {label: sum(p["label"] == label for p in spoken) for label in labels},
                "mean_scores": mean_scores,
            }
        )
    return summaries

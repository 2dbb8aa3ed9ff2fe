"""How easy a Spanish text is to read: the Fernández-Huerta score (1959).

    L = 206.84 − 0.60 · P − 1.02 · F

P is syllables per 100 words. F is printed in the 1959 paper as "sentences per 100 words",
but the formula is Flesch's Reading Ease refitted to Spanish, where that term is the average
sentence length in words, and only that reading makes longer sentences score lower; it is the
reading used by textstat and legible.es, and the one used here. Spanish public administrations
aim for 60 or more ("lenguaje claro").

Everything here is a pure function of the text: no database, no settings.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

CLEAR_SCORE = 60
# Plain-language guides ask for sentences under 20 words; at that length, words averaging
# two syllables still score about 66.
MAX_WORDS_PER_SENTENCE = 20
MAX_SYLLABLES_PER_WORD = 2.0

STRONG = frozenset("aeoáéóàèò")
WEAK = frozenset("iuü")
# An accent on a weak vowel makes it a syllable of its own (dí-a, pa-ís, re-ú-ne).
ACCENTED_WEAK = frozenset("íúìù")
VOWELS = STRONG | WEAK | ACCENTED_WEAK

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# A sentence ends at . ! ? … (or a run of them) followed by a space or the end of the text,
# so "2.500", "8:00" and "3,5" do not end one.
SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
# Common Spanish abbreviations whose full stop does not end a sentence.
ABBREVIATIONS = frozenset(
    {"sr", "sra", "srta", "dr", "dra", "d", "dña", "núm", "n", "art", "pág", "etc", "avda", "c"}
)
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "table",
        "tr",
        "td",
        "th",
        "figcaption",
        "section",
        "article",
    }
)


class Band(enum.Enum):
    """The usual reading of the score (Flesch's table, as used for Fernández-Huerta)."""

    VERY_EASY = 90, pgettext_lazy("readability", "very easy")
    EASY = 80, pgettext_lazy("readability", "easy")
    FAIRLY_EASY = 70, pgettext_lazy("readability", "fairly easy")
    STANDARD = 60, pgettext_lazy("readability", "standard")
    FAIRLY_DIFFICULT = 50, pgettext_lazy("readability", "fairly difficult")
    DIFFICULT = 30, pgettext_lazy("readability", "difficult")
    VERY_DIFFICULT = 0, pgettext_lazy("readability", "very difficult")

    def __init__(self, floor: int, label: str) -> None:
        self.floor = floor
        self.label = label

    @classmethod
    def of(cls, score: float) -> Band:
        return next(band for band in cls if score >= band.floor)


@dataclass(frozen=True)
class Readability:
    score: int  # 0..100, rounded
    band: Band
    words: int
    sentences: int
    syllables: int

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences

    @property
    def syllables_per_word(self) -> float:
        return self.syllables / self.words

    @property
    def is_clear(self) -> bool:
        return self.score >= CLEAR_SCORE

    @property
    def hints(self) -> list[str]:
        """What would raise the score, in plain words (empty when the text is clear enough)."""
        if self.is_clear:
            return []
        hints = []
        if self.words_per_sentence > MAX_WORDS_PER_SENTENCE:
            hints.append(
                _(
                    "Use shorter sentences: the average is %(average)d words; aim for under "
                    "%(target)d."
                )
                % {"average": round(self.words_per_sentence), "target": MAX_WORDS_PER_SENTENCE}
            )
        if self.syllables_per_word > MAX_SYLLABLES_PER_WORD:
            hints.append(
                _(
                    "Prefer shorter, everyday words: the average is %(average).1f syllables per "
                    "word; aim for %(target).0f or fewer."
                )
                % {"average": self.syllables_per_word, "target": MAX_SYLLABLES_PER_WORD}
            )
        # Below both targets the score is at least 66, so a text that is not clear always
        # misses at least one of them.
        return hints


class _TextExtractor(HTMLParser):
    """Text of an HTML fragment, with block elements (paragraphs, headings, list items) kept
    apart: a heading with no full stop still ends its sentence."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.blocks.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self.blocks.append([])

    def handle_data(self, data: str) -> None:
        self.blocks[-1].append(data)


def html_blocks(html: str) -> list[str]:
    """The non-empty blocks of text of an HTML fragment, whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    blocks = (" ".join("".join(parts).split()) for parts in parser.blocks)
    return [block for block in blocks if block]


def words(text: str) -> list[str]:
    """The words of `text`: runs of letters (numbers and symbols are not words)."""
    return WORD.findall(text)


def sentences(text: str) -> list[str]:
    """The sentences of one block of text (a paragraph, a heading); those without words are
    dropped."""
    found: list[str] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        before = text[start : match.start()].split()
        if match.group() == "." and before and before[-1].lower() in ABBREVIATIONS:
            continue
        found.append(text[start : match.end()])
        start = match.end()
    found.append(text[start:])
    return [sentence.strip() for sentence in found if words(sentence)]


def _letters(word: str) -> str:
    """Lowercased, with the silent u of que/qui/gue/gui removed (gü keeps it: pin-güi-no)."""
    word = unicodedata.normalize("NFC", word.lower())
    word = re.sub(r"(?<=q)u", "", word)
    return re.sub(r"(?<=g)u(?=[eiéí])", "", word)


def syllables(word: str) -> int:
    """Spanish syllables of one word, counted as its vowel nuclei.

    Adjacent vowels form one nucleus (a diphthong or triphthong: ciu-da-da-no, hue-lga,
    U-ru-guay) unless both are strong (a, e, o: a-é-re-o) or one is an accented weak vowel
    (dí-a, pa-ís). "y" is a vowel when no vowel follows it (hay, muy, y). A word with no
    vowel (an abbreviation) counts as one.
    """
    letters = _letters(word)
    kinds: list[str | None] = []
    for index, letter in enumerate(letters):
        following = letters[index + 1] if index + 1 < len(letters) else ""
        if letter == "y":
            kinds.append("weak" if following not in VOWELS else None)
        elif letter in STRONG or letter in ACCENTED_WEAK:
            kinds.append("strong")
        elif letter in WEAK:
            kinds.append("weak")
        else:
            kinds.append(None)
    count = 0
    previous: str | None = None
    for kind in kinds:
        if kind is not None and (previous is None or (kind == previous == "strong")):
            count += 1
        previous = kind
    return max(count, 1)


def readability(text: str) -> Readability | None:
    """The Fernández-Huerta readability of plain `text` (blocks separated by newlines), or
    None when it has no words."""
    blocks = [block for block in text.splitlines() if block.strip()]
    sentence_count = sum(len(sentences(block)) for block in blocks)
    all_words = words(text)
    if not all_words or not sentence_count:
        return None
    syllable_count = sum(syllables(word) for word in all_words)
    per_100_words = 100 / len(all_words)
    score = (
        206.84 - 0.60 * syllable_count * per_100_words - 1.02 * (len(all_words) / sentence_count)
    )
    clamped = min(100, max(0, round(score)))
    return Readability(
        score=clamped,
        band=Band.of(clamped),
        words=len(all_words),
        sentences=sentence_count,
        syllables=syllable_count,
    )


def readability_of_html(html: str) -> Readability | None:
    """The readability of rich text: its tags stripped, each block read as its own text."""
    return readability("\n".join(html_blocks(html)))

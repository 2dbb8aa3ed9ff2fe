"""Site search: live content in the reader's language, ranked, with safe highlighted snippets.

PostgreSQL: full-text search with a text-search configuration per language (Spanish,
English, Catalan and Basque stemmers; Galician has none in PostgreSQL, and Portuguese
stemming and stop words would mangle it, so it gets `simple`), weighted title (A) > summary
or description (B) > body (C), queries in `websearch_to_tsquery` syntax ("quoted phrases",
`or`, `-word`). Accents are folded on both sides with the core `translate()` function, so
"informacion" finds "información" without the `unaccent` extension (which would need a
migration to install). There is no stored vector or GIN index: the documents are computed
per query, fine for a municipality's few thousand items.

SQLite (development): every word must appear in some field (accent- and case-insensitive
through a regular expression), ranked by where it appears with the same weights.

Each content type is one query (its best `offset + limit` rows and, through a window
function, its total), merged in Python. Snippets and highlighted titles are built in
Python from plain text: everything is escaped, and only our own `<mark>` is markup.
"""

from __future__ import annotations

import datetime as dt
import html
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    Func,
    Max,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from contacts.models import Touchpoint
from contacts.services import touchpoint_record
from content.selectors import articles_live, faqs_live, in_language, pages_live, videos_live
from inbound.roles import Role

QUERY_MAX = 200  # longer input is refused with a message, not truncated silently
PER_PAGE = 10
MAX_RESULTS = 100  # deeper pages are not offered: a better query beats page 11
SNIPPET_CHARS = 220
RATE_LIMIT = 30  # searches per client (hashed IP) and RATE_PERIOD
RATE_PERIOD = 60
RECORDED_QUERY_MAX = 100
PERSONAL_DATA_REMOVED = "[personal data removed]"
# Who reads the search report: content is written from it, and promoted and measured with it.
SEARCH_REPORT_ROLES = (Role.EDITOR, Role.MARKETER, Role.ANALYST, Role.ADMINISTRATOR)

PG_CONFIGS = {"es": "spanish", "en": "english", "ca": "catalan", "eu": "basque", "gl": "simple"}
WEIGHTS = {"A": 1.0, "B": 0.4, "C": 0.2}  # PostgreSQL's default ts_rank weights

# Folded to their base letter in documents and queries alike (lower and upper case).
_ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ"
_PLAIN = "aaaaaaeeeeiiiiooooouuuuncAAAAAAEEEEIIIIOOOOOUUUUNC"
_FOLD = str.maketrans(_ACCENTED, _PLAIN)
_VARIANTS: dict[str, str] = {}
for _accented, _plain in zip(_ACCENTED.lower(), _PLAIN.lower(), strict=True):
    _VARIANTS[_plain] = _VARIANTS.get(_plain, _plain) + _accented

_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LEXEME = re.compile(r"'((?:[^']|'')+)'")
# An e-mail address or handle, or 7+ digits (phone, DNI/NIE, IBAN, card) with separators.
_PERSONAL = re.compile(r"@|\d(?:[\s.\-/]?\d){6,}")


def fold(text: str) -> str:
    """Lower case without accents: how documents and queries are compared."""
    return text.translate(_FOLD).lower()


def query_clean(query: str) -> str:
    """The query as typed, without control characters (PostgreSQL refuses NUL) or extra spaces."""
    return " ".join(_CONTROL.sub(" ", query).split())


# --- Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    kind: str
    kind_label: str
    url: str
    title: SafeString
    snippet: SafeString
    rank: float
    published_at: dt.datetime


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    hits: list[SearchHit]


@dataclass(frozen=True)
class _Source:
    """How one content type is searched: its live rows and its fields by weight."""

    kind: str
    label: Promise
    rows: Callable[[str], QuerySet[Any]]
    title: str
    texts: tuple[tuple[str, str], ...]  # (field, weight) in snippet order; the title weighs A
    html_fields: frozenset[str] = frozenset()
    extra: tuple[str, ...] = ()


def _faq_rows(language: str) -> QuerySet[Any]:
    # FAQs are read on the FAQ page, which only lists those of public topics.
    return in_language(faqs_live(), language).filter(topic__is_public=True)


SOURCES = (
    _Source(
        kind="page",
        label=_("Page"),
        rows=lambda language: in_language(pages_live(), language),
        title="title",
        texts=(("body", "C"),),
        html_fields=frozenset({"body"}),
        extra=("slug",),
    ),
    _Source(
        kind="faq",
        label=_("Frequently asked question"),
        rows=_faq_rows,
        title="question",
        texts=(("answer", "C"),),
        html_fields=frozenset({"answer"}),
    ),
    _Source(
        kind="article",
        label=_("News"),
        rows=lambda language: in_language(articles_live(), language).prefetch_related(None),
        title="title",
        texts=(("summary", "B"), ("body", "C")),
        html_fields=frozenset({"body"}),
        extra=("slug",),
    ),
    _Source(
        kind="video",
        label=_("Video"),
        rows=lambda language: in_language(videos_live(), language),
        title="title",
        texts=(("description", "B"), ("transcript", "C")),
        extra=("slug",),
    ),
)
_KIND_ORDER = {source.kind: position for position, source in enumerate(SOURCES)}


def content_search(
    query: str, *, language: str, offset: int = 0, limit: int = PER_PAGE
) -> SearchResults:
    """Live content written in `language` that matches `query`, best first.

    Returns the total number of matches and the hits from `offset` to `offset + limit`,
    each with its address, highlighted title and snippet (safe HTML: escaped text and `<mark>`).
    """
    query = query_clean(query)
    postgres = connection.vendor == "postgresql"
    if not (_WORD.search(fold(query)) if postgres else _fallback_terms(query)):
        return SearchResults(query=query, total=0, hits=[])
    window = offset + limit
    page_paths = _page_paths(language)
    matcher = _postgres_matcher if postgres else _fallback_matcher
    found: list[tuple[_Source, dict[str, Any]]] = []
    total = 0
    terms: set[str] = set()
    for source in SOURCES:
        rows = source.rows(language)
        if source.kind == "page":
            rows = rows.filter(pk__in=list(page_paths))
        matched, matched_terms = matcher(rows, source, query, language)
        fetched = list(matched.order_by("-rank", "-published_at", "-pk")[:window])
        if fetched:
            total += fetched[0]["total"]
            terms |= matched_terms(fetched[0])
        found.extend((source, row) for row in fetched)
    found.sort(key=_best_first)
    matches = _TermMatcher(terms=tuple(sorted(terms)), prefix=postgres)
    hits = [
        _hit(source, row, language, page_paths, matches) for source, row in found[offset:window]
    ]
    return SearchResults(query=query, total=total, hits=hits)


def _best_first(item: tuple[_Source, dict[str, Any]]) -> tuple[float, float, int, int]:
    source, row = item
    return (-row["rank"], -row["published_at"].timestamp(), _KIND_ORDER[source.kind], -row["pk"])


def _columns(source: _Source, language: str) -> list[str]:
    fields = [source.title, *(field for field, _weight in source.texts), *source.extra]
    columns = [f"{field}_{language}" for field in fields]
    if source.kind == "faq":
        columns.append("topic__slug")
    return ["pk", "published_at", *columns]


# --- PostgreSQL --------------------------------------------------------------------------------

_pg_configs: frozenset[str] | None = None


def _pg_config(language: str) -> str:
    """The text-search configuration for `language`, if this server has it (else `simple`);
    the server's list is read once per process."""
    global _pg_configs
    if _pg_configs is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT cfgname FROM pg_ts_config")
            _pg_configs = frozenset(row[0] for row in cursor.fetchall())
    wanted = PG_CONFIGS.get(language, "simple")
    return wanted if wanted in _pg_configs else "simple"


def _folded_column(column: str) -> Func:
    return Func(
        F(column), Value(_ACCENTED), Value(_PLAIN), function="translate", output_field=TextField()
    )


def _postgres_matcher(
    rows: QuerySet[Any], source: _Source, query: str, language: str
) -> tuple[QuerySet[Any], Callable[[dict[str, Any]], set[str]]]:
    config = _pg_config(language)
    search_query = SearchQuery(fold(query), config=config, search_type="websearch")
    weighted = [(source.title, "A"), *source.texts]
    vector = reduce(
        operator.add,
        (
            SearchVector(_folded_column(f"{field}_{language}"), config=config, weight=weight)
            for field, weight in weighted
        ),
    )
    matched = (
        rows.annotate(document=vector)
        .filter(document=search_query)
        .annotate(
            rank=SearchRank(F("document"), search_query),
            total=Window(Count("pk")),
            lexemes=Cast(search_query, output_field=TextField()),
        )
        .values(*_columns(source, language), "rank", "total", "lexemes")
    )

    def terms(row: dict[str, Any]) -> set[str]:
        # The stems PostgreSQL matched ("multas" → 'mult'): highlight the words they start.
        return {lexeme.replace("''", "'") for lexeme in _LEXEME.findall(row["lexemes"])}

    return matched, terms


# --- SQLite and other databases ----------------------------------------------------------------


def _word_pattern(term: str) -> str:
    """A regular expression matching `term` with or without accents (case is ignored)."""
    return "".join(
        f"[{_VARIANTS[char]}]" if char in _VARIANTS else re.escape(char) for char in term
    )


def _fallback_terms(query: str) -> list[str]:
    words = dict.fromkeys(word for word in _WORD.findall(fold(query)) if len(word) > 1)
    return list(words)[:10]


def _fallback_matcher(
    rows: QuerySet[Any], source: _Source, query: str, language: str
) -> tuple[QuerySet[Any], Callable[[dict[str, Any]], set[str]]]:
    words = _fallback_terms(query)
    weighted = [(f"{source.title}_{language}", "A")] + [
        (f"{field}_{language}", weight) for field, weight in source.texts
    ]
    condition = Q()
    scores = []
    for word in words:
        pattern = _word_pattern(word)
        anywhere = Q()
        for column, weight in weighted:
            found = Q(**{f"{column}__iregex": pattern})
            anywhere |= found
            scores.append(
                Case(
                    When(found, then=Value(WEIGHTS[weight])),
                    default=Value(0.0),
                    output_field=FloatField(),
                )
            )
        condition &= anywhere
    matched = (
        rows.filter(condition)
        .annotate(rank=reduce(operator.add, scores), total=Window(Count("pk")))
        .values(*_columns(source, language), "rank", "total")
    )
    return matched, lambda row: set(words)


# --- Hits: addresses, highlighting, snippets ---------------------------------------------------


def _page_paths(language: str) -> dict[int, str]:
    """The path of every live page in `language` whose ancestors are all live in it too
    (the others cannot be reached: the page view walks the hierarchy)."""
    nodes = {
        pk: (parent, slug)
        for pk, parent, slug in in_language(pages_live(), language).values_list(
            "pk", "parent_id", f"slug_{language}"
        )
    }
    paths: dict[int, str] = {}
    for pk in nodes:
        chain: list[str] = []
        node: int | None = pk
        seen: set[int] = set()
        while node is not None and node in nodes and node not in seen:
            seen.add(node)
            parent, slug = nodes[node]
            chain.insert(0, slug)
            node = parent
        if node is None:  # reached the root through live pages only
            paths[pk] = "/".join(chain)
    return paths


@dataclass(frozen=True)
class _TermMatcher:
    """Which words to highlight: those a PostgreSQL stem begins (allowing the stemmer's
    last-letter changes, "polici" ~ "policy"), or those containing a fallback search word."""

    terms: tuple[str, ...]
    prefix: bool

    def __call__(self, word: str) -> bool:
        folded = fold(word)
        for term in self.terms:
            if not self.prefix:
                if term in folded:
                    return True
            elif len(term) < 3:
                if folded == term:
                    return True
            elif _common_prefix(folded, term) >= max(3, len(term) - 1):
                return True
        return False


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def plain_text(value: str, *, is_html: bool) -> str:
    """Readable text of a field: tags become spaces, entities characters, spaces collapse."""
    if is_html:
        value = html.unescape(_TAG.sub(" ", value))
    return " ".join(value.split())


def highlight(text: str, matches: Callable[[str], bool]) -> SafeString:
    """`text` escaped, with each matching word wrapped in `<mark>`."""
    parts: list[str] = []
    last = 0
    for word in _WORD.finditer(text):
        if matches(word.group()):
            parts.append(escape(text[last : word.start()]))
            parts.append(f"<mark>{escape(word.group())}</mark>")
            last = word.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 -- every piece of text was escaped above


def snippet(texts: Iterable[str], matches: Callable[[str], bool]) -> SafeString:
    """About SNIPPET_CHARS characters of the first text with a match, around the first match
    (or the start of the first non-empty text), highlighted."""
    candidates = [text for text in texts if text]
    if not candidates:
        return SafeString("")
    chosen, first = candidates[0], None
    for text in candidates:
        first = next((w.start() for w in _WORD.finditer(text) if matches(w.group())), None)
        if first is not None:
            chosen = text
            break
    start = 0
    if first is not None and first > SNIPPET_CHARS // 3:
        start = chosen.find(" ", first - SNIPPET_CHARS // 3) + 1
    end = start + SNIPPET_CHARS
    if end < len(chosen):
        space = chosen.rfind(" ", start, end)
        end = space if space > start else end
    piece = highlight(chosen[start:end], matches)
    before = "… " if start > 0 else ""
    after = " …" if end < len(chosen) else ""
    return mark_safe(f"{before}{piece}{after}")  # noqa: S308 -- `piece` is escaped, the rest ours


def _hit(
    source: _Source,
    row: dict[str, Any],
    language: str,
    page_paths: dict[int, str],
    matches: Callable[[str], bool],
) -> SearchHit:
    title = plain_text(row[f"{source.title}_{language}"] or "", is_html=False)
    texts = [
        plain_text(row[f"{field}_{language}"] or "", is_html=field in source.html_fields)
        for field, _weight in source.texts
    ]
    return SearchHit(
        kind=source.kind,
        kind_label=str(source.label),
        url=_url(source.kind, row, language, page_paths),
        title=highlight(title, matches),
        snippet=snippet(texts, matches),
        rank=float(row["rank"]),
        published_at=row["published_at"],
    )


def _url(kind: str, row: dict[str, Any], language: str, page_paths: dict[int, str]) -> str:
    with translation.override(language):
        if kind == "page":
            return reverse("content:page-detail", kwargs={"path": page_paths[row["pk"]]})
        if kind == "faq":
            return reverse("content:faq-list") + f"#faq-topic-{row['topic__slug']}"
        name = "content:article-detail" if kind == "article" else "content:video-detail"
        return reverse(name, kwargs={"slug": row[f"slug_{language}"]})


# --- Search touchpoints and the content-gap report ---------------------------------------------


def search_query_normalise(query: str) -> str:
    """The query as analytics keeps it: lower case, single spaces, at most 100 characters,
    and never personal data — a query that looks like an e-mail address, a phone number or
    an ID number is replaced as a whole by PERSONAL_DATA_REMOVED."""
    normalised = " ".join(query_clean(query).lower().split())
    if _PERSONAL.search(normalised):
        return PERSONAL_DATA_REMOVED
    return normalised[:RECORDED_QUERY_MAX]


def search_record(*, query: str, results: int, language: str, visitor_key: str = "") -> Touchpoint:
    """Record one site search as a `search` touchpoint (attract stage)."""
    return touchpoint_record(
        kind="search",
        visitor_key=visitor_key,
        properties={
            "query": search_query_normalise(query),
            "results": int(results),
            "language": language,
        },
    )


def _searches(*, since: dt.datetime, language: str = "") -> QuerySet[Any]:
    searches = Touchpoint.objects.filter(kind="search", occurred_at__gte=since).annotate(
        search_query=KT("properties__query"), search_language=KT("properties__language")
    )
    if language:
        searches = searches.filter(properties__language=language)
    return searches


def search_gaps(
    *, since: dt.datetime, language: str = "", limit: int | None = None
) -> QuerySet[Any]:
    """Queries that found nothing since `since`, most frequent first: what citizens look for
    and the site does not answer. Rows: search_query, search_language, searches, last_searched."""
    rows = (
        _searches(since=since, language=language)
        .filter(properties__results=0)
        .values("search_query", "search_language")
        .annotate(searches=Count("pk"), last_searched=Max("occurred_at"))
        .order_by("-searches", "-last_searched", "search_query")
    )
    return rows[:limit] if limit else rows


def search_top_queries(
    *, since: dt.datetime, language: str = "", limit: int | None = None
) -> QuerySet[Any]:
    """The most frequent queries since `since` with their average number of results.
    Rows: search_query, search_language, searches, average_results, last_searched."""
    rows = (
        _searches(since=since, language=language)
        .values("search_query", "search_language")
        .annotate(
            searches=Count("pk"),
            average_results=Avg(Cast(KT("properties__results"), output_field=FloatField())),
            last_searched=Max("occurred_at"),
        )
        .order_by("-searches", "-last_searched", "search_query")
    )
    return rows[:limit] if limit else rows

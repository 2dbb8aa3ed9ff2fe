"""The SEO checklist editors see beside an article: what search engines and readers need.

Each check is advice, never a gate: publishing does not depend on it. The checks follow what
search engines document (a descriptive title and meta description of a sensible length, a
topic stated early, headings that outline the text, internal links) and what the law already
requires of public websites (alternative text for images, RD 1112/2018), plus plain language
(Fernández-Huerta, Spanish only) and topic clusters (a link back to the topic's pillar page).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal

from django.conf import settings
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts.models import Topic
from content.clusters import (
    SOURCE_LANGUAGE,
    is_internal,
    page_path,
    pillars_missing,
    topics_pillars,
)
from content.models import Article
from content.readability import CLEAR_SCORE, readability_of_html
from content.richtext import rich_text_clean

Level = Literal["error", "warning", "ok"]

META_DESCRIPTION_RANGE = (50, 160)
TITLE_RANGE = (30, 60)
TITLE_MAX = 70  # longer titles are cut off in results pages


@dataclass(frozen=True)
class Check:
    code: str
    passed: bool
    level: Level
    message: str


def _passed(code: str, message: str) -> Check:
    return Check(code=code, passed=True, level="ok", message=message)


def _failed(code: str, message: str, level: Level = "warning") -> Check:
    return Check(code=code, passed=False, level=level, message=message)


def checklist_score(checks: Iterable[Check]) -> int:
    """The share of passed checks, as a percentage (100 for an empty list)."""
    checks = list(checks)
    if not checks:
        return 100
    return round(100 * sum(check.passed for check in checks) / len(checks))


# --- Reading the body --------------------------------------------------------------------------


@dataclass
class _Heading:
    level: int
    text: str = ""


class _BodyReader(HTMLParser):
    """What the checks need from the body: paragraphs, headings, images and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.headings: list[_Heading] = []
        self.images_without_alt = 0
        self.hrefs: list[str] = []
        self._capture: list[str] | None = None
        self._heading: _Heading | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "p" and self._capture is None:
            self._capture = []
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = _Heading(level=int(tag[1]))
        elif tag == "img" and not (attributes.get("alt") or "").strip():
            self.images_without_alt += 1
        elif tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._capture is not None:
            self.paragraphs.append(" ".join("".join(self._capture).split()))
            self._capture = None
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self._heading.text = " ".join(self._heading.text.split())
            self.headings.append(self._heading)
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture.append(data)
        if self._heading is not None:
            self._heading.text += data


def _read(html: str) -> _BodyReader:
    reader = _BodyReader()
    reader.feed(html)
    reader.close()
    return reader


def _fold(text: str) -> str:
    """Lowercase, without accents and with single spaces: "Camión" and "camion" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def _mentions(text: str, keyword: str) -> bool:
    """Whether `text` contains `keyword` as whole words, ignoring case and accents."""
    pattern = rf"(?<!\w){re.escape(_fold(keyword))}(?!\w)"
    return re.search(pattern, _fold(text)) is not None


# --- The checks --------------------------------------------------------------------------------


def _keyword_checks(
    *,
    keyword: str,
    title: str,
    meta_title: str,
    slug: str,
    first_paragraph: str,
    language: str,
    article_pk: int | None,
) -> list[Check]:
    if not keyword:
        return [
            _failed(
                "keyword",
                _("Add a focus keyword: the words citizens would type to find this article."),
            )
        ]
    checks = [_passed("keyword", _("Focus keyword: “%(keyword)s”.") % {"keyword": keyword})]
    if _mentions(title, keyword) or _mentions(meta_title, keyword):
        checks.append(_passed("keyword_title", _("The focus keyword appears in the title.")))
    else:
        checks.append(_failed("keyword_title", _("Use the focus keyword in the title.")))
    keyword_slug = slugify(keyword)
    if keyword_slug and f"-{keyword_slug}-" in f"-{slugify(slug)}-":
        checks.append(_passed("keyword_slug", _("The focus keyword appears in the slug.")))
    else:
        checks.append(
            _failed(
                "keyword_slug",
                _("Use the focus keyword in the slug, for example “%(slug)s”.")
                % {"slug": keyword_slug},
            )
        )
    if _mentions(first_paragraph, keyword):
        checks.append(
            _passed("keyword_intro", _("The focus keyword appears in the first paragraph."))
        )
    else:
        checks.append(
            _failed("keyword_intro", _("Mention the focus keyword in the first paragraph."))
        )
    others = Article.objects.filter(**{f"focus_keyword_{language}__iexact": keyword})
    if article_pk is not None:
        others = others.exclude(pk=article_pk)
    other: Article | None = others.first()  # type: ignore[assignment]
    if other is None:
        checks.append(_passed("keyword_unique", _("No other article uses this focus keyword.")))
    else:
        checks.append(
            _failed(
                "keyword_unique",
                _(
                    "“%(title)s” already uses this focus keyword: give this article its own, "
                    "so the two do not compete in search results."
                )
                % {"title": getattr(other, f"title_{language}") or other.title},
            )
        )
    return checks


def _meta_description_check(meta_description: str, summary: str) -> Check:
    low, high = META_DESCRIPTION_RANGE
    text = meta_description.strip() or summary.strip()
    length = len(text)
    if not text:
        return _failed(
            "meta_description",
            _(
                "Write a meta description (%(low)d to %(high)d characters): search engines "
                "show it under the title."
            )
            % {"low": low, "high": high},
        )
    if meta_description.strip():
        current = ngettext(
            "The meta description has %(length)d character.",
            "The meta description has %(length)d characters.",
            length,
        ) % {"length": length}
    else:
        current = ngettext(
            "There is no meta description, so search engines get the summary, which has "
            "%(length)d character.",
            "There is no meta description, so search engines get the summary, which has "
            "%(length)d characters.",
            length,
        ) % {"length": length}
    advice = _("Aim for %(low)d to %(high)d characters.") % {"low": low, "high": high}
    if low <= length <= high:
        return _passed("meta_description", current)
    return _failed("meta_description", f"{current} {advice}")


def _title_check(title: str, meta_title: str) -> Check:
    low, high = TITLE_RANGE
    shown = meta_title.strip() or title.strip()
    length = len(shown)
    current = ngettext(
        "The title search engines show has %(length)d character.",
        "The title search engines show has %(length)d characters.",
        length,
    ) % {"length": length}
    if low <= length <= high:
        return _passed("title_length", current)
    advice = _("Aim for %(low)d to %(high)d characters.") % {"low": low, "high": high}
    if length > TITLE_MAX:
        cut = _("Over %(max)d it is cut off in search results.") % {"max": TITLE_MAX}
        return _failed("title_length", f"{current} {cut} {advice}", level="error")
    return _failed("title_length", f"{current} {advice}")


def _images_check(body: _BodyReader, *, hero_image: Any, hero_image_alt: str) -> Check:
    missing = body.images_without_alt
    hero_missing = bool(hero_image) and not hero_image_alt.strip()
    if not missing and not hero_missing:
        return _passed("image_alt", _("Every image has alternative text."))
    problems = []
    if hero_missing:
        problems.append(_("Describe the hero image in its alternative text."))
    if missing:
        problems.append(
            ngettext(
                "%(count)d image in the body has no alternative text.",
                "%(count)d images in the body have no alternative text.",
                missing,
            )
            % {"count": missing}
        )
    return _failed("image_alt", " ".join(problems), level="error")


def _internal_link_check(body: _BodyReader) -> Check:
    if any(is_internal(href) for href in body.hrefs):
        return _passed("internal_link", _("The body links to other pages of this site."))
    return _failed(
        "internal_link",
        _("Link to at least one related page of this site: a guide, a procedure, a news item."),
    )


def _headings_check(body: _BodyReader) -> Check:
    previous = 1  # the page title is the h1 (the sanitiser drops any h1 in the body)
    for heading in body.headings:
        values = {"text": heading.text, "level": heading.level, "previous": previous}
        if heading.level > previous + 1:
            if previous == 1:
                message = _("The first heading, “%(text)s”, is an h%(level)d: start with an h2.")
            else:
                message = _(
                    "The heading “%(text)s” is an h%(level)d straight after an h%(previous)d: "
                    "do not skip levels."
                )
            return _failed("headings", message % values)
        previous = heading.level
    return _passed("headings", _("Headings are in order."))


def _readability_check(body_html: str) -> Check:
    result = readability_of_html(body_html)
    if result is None:
        return _failed("readability", _("Write the body to measure how easy it is to read."))
    summary = _(
        "Readability (Fernández-Huerta): %(score)d, %(band)s. Clear texts score %(target)d or more."
    ) % {"score": result.score, "band": result.band.label, "target": CLEAR_SCORE}
    if result.is_clear:
        return _passed("readability", summary)
    return _failed("readability", " ".join([summary, *result.hints]))


def _pillar_check(topics: list[Topic], body_html: str, language: str) -> Check | None:
    """None when none of the topics has a pillar page: there is nothing to link back to."""
    if not topics:
        return _failed(
            "pillar_link",
            _("Choose the article's topics: they place it in its topic's cluster."),
        )
    if not topics_pillars(topics):
        return None
    missing = pillars_missing(topics=topics, body_html=body_html)
    if not missing:
        return _passed("pillar_link", _("The body links to the pillar page of its topics."))
    guides = "; ".join(
        "“{}” ({})".format(
            getattr(page, f"title_{language}", "") or page.title_es,  # type: ignore[attr-defined]
            page_path(page, language) or page_path(page, SOURCE_LANGUAGE),
        )
        for page in missing
    )
    return _failed(
        "pillar_link",
        _("Link to the pillar page of the article's topic: %(pages)s.") % {"pages": guides},
    )


def article_checklist(
    *,
    title: str,
    slug: str,
    summary: str,
    body_html: str,
    meta_title: str,
    meta_description: str,
    focus_keyword: str,
    hero_image: Any,
    hero_image_alt: str,
    topics: Iterable[Topic],
    language: str,
    article_pk: int | None = None,
) -> list[Check]:
    """The SEO checks of one language version of an article, in the order editors fix them.

    The body is sanitised first, so the checks judge the HTML that would be saved. Queries:
    one for the focus keyword's other uses, and the topics' pillar pages unless their
    `pillar_page` was select_related.
    """
    body_html = rich_text_clean(body_html)
    body = _read(body_html)
    keyword = " ".join(focus_keyword.split())
    checks = _keyword_checks(
        keyword=keyword,
        title=title,
        meta_title=meta_title,
        slug=slug,
        first_paragraph=next((text for text in body.paragraphs if text), ""),
        language=language,
        article_pk=article_pk,
    )
    checks += [
        _title_check(title, meta_title),
        _meta_description_check(meta_description, summary),
        _headings_check(body),
        _images_check(body, hero_image=hero_image, hero_image_alt=hero_image_alt),
        _internal_link_check(body),
    ]
    if language == "es":
        checks.append(_readability_check(body_html))
    pillar = _pillar_check(list(topics), body_html, language)
    if pillar is not None:
        checks.append(pillar)
    return checks


# --- One checklist per written language (the admin panel) --------------------------------------


@dataclass(frozen=True)
class LanguageChecklist:
    language: str
    name: str
    checks: list[Check]

    @property
    def passed(self) -> int:
        return sum(check.passed for check in self.checks)

    @property
    def score(self) -> int:
        return checklist_score(self.checks)


FIELDS = (
    "title",
    "slug",
    "summary",
    "body",
    "meta_title",
    "meta_description",
    "focus_keyword",
    "hero_image_alt",
)


def _language_checklists(
    values: Mapping[str, str], *, hero_image: Any, topics: list[Topic], article_pk: int | None
) -> list[LanguageChecklist]:
    """Spanish (the source) always; each other language once it has a title."""
    checklists = []
    for language in settings.MODELTRANSLATION_LANGUAGES:
        if language != SOURCE_LANGUAGE and not values.get(f"title_{language}", "").strip():
            continue
        field = {name: values.get(f"{name}_{language}", "") or "" for name in FIELDS}
        checks = article_checklist(
            title=field["title"],
            slug=field["slug"],
            summary=field["summary"],
            body_html=field["body"],
            meta_title=field["meta_title"],
            meta_description=field["meta_description"],
            focus_keyword=field["focus_keyword"],
            hero_image=hero_image,
            hero_image_alt=field["hero_image_alt"],
            topics=topics,
            language=language,
            article_pk=article_pk,
        )
        info = translation.get_language_info(language)
        checklists.append(LanguageChecklist(language, str(info["name_translated"]), checks))
    return checklists


def article_checklists(article: Article) -> list[LanguageChecklist]:
    """The checklists of a saved (or new, empty) article, one per language it is written in."""
    values = {
        f"{name}_{language}": getattr(article, f"{name}_{language}", "") or ""
        for name in FIELDS
        for language in settings.MODELTRANSLATION_LANGUAGES
    }
    topics = list(article.topics.select_related("pillar_page__parent")) if article.pk else []
    return _language_checklists(
        values, hero_image=article.hero_image, topics=topics, article_pk=article.pk
    )


def article_checklists_from_form(
    data: Mapping[str, Any], files: Mapping[str, Any], article: Article | None
) -> list[LanguageChecklist]:
    """The checklists of an article form as submitted (or as being typed), unsaved.

    Tolerates any input: missing fields are empty, unknown topic ids are ignored. A hero image
    counts if one is uploaded (or named, as the live checklist sends the file's name only), or
    if the article has one that is not being cleared.
    """
    values = {key: str(data.get(key, "")) for key in data}
    topic_ids = [value for value in _getlist(data, "topics") if str(value).isdigit()]
    topics = list(Topic.objects.filter(pk__in=topic_ids).select_related("pillar_page__parent"))
    kept = article is not None and bool(article.hero_image) and not data.get("hero_image-clear")
    hero_image = bool(files.get("hero_image") or data.get("hero_image")) or kept
    return _language_checklists(
        values,
        hero_image=hero_image,
        topics=topics,
        article_pk=article.pk if article is not None else None,
    )


def _getlist(data: Mapping[str, Any], key: str) -> list[Any]:
    getlist = getattr(data, "getlist", None)
    if getlist is not None:
        return list(getlist(key))
    value = data.get(key)
    return list(value) if isinstance(value, list | tuple) else [value] if value else []

"""The public content pages: what citizens read, in their language, fast and cacheable.

Only live content is shown, and only in a language it has been written in (a non-empty slug
and title in that language): a fallback to Spanish under an English address would mislead
search engines and readers alike, so such an address is a 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.conf import settings
from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.core.validators import slug_re
from django.db.models import Count, Exists, F, Func, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition

from contacts.models import Topic
from content.models import FAQ, LANGUAGES, Article, Page, Publishable, Video
from content.selectors import (
    article_cards_live,
    articles_live,
    faqs_live,
    in_language,
    pages_live,
    videos_live,
)
from content.services import PreviewLinkInvalid, content_preview_read
from inbound.lib.pagecache import public_kept, public_page

PER_PAGE = 12
RELATED_MAX = 3


def _page_number(request: HttpRequest) -> int:
    """The `?page=` asked for; anything but a canonical positive number is a 404, so the page
    cache cannot be filled with `?page=01`, `?page=001`… variants."""
    raw = request.GET.get("page", "1")
    # ASCII only: "²".isdigit() is true, and int("²") raises.
    if not (raw.isascii() and raw.isdigit()) or str(int(raw)) != raw or int(raw) < 1:
        raise Http404
    return int(raw)


def _page_slugs(path: str) -> list[str]:
    """The slugs of a page's address; a step that cannot be a slug is a 404 before any query
    (PostgreSQL refuses a NUL byte in one, and no slug has one)."""
    slugs = path.split("/")
    if not all(slug_re.match(slug) for slug in slugs):
        raise Http404
    return slugs


def _paginate(request: HttpRequest, queryset: QuerySet[Any]) -> PaginatorPage:
    paginator = Paginator(queryset, PER_PAGE)
    number = _page_number(request)
    if number > max(paginator.num_pages, 1):
        raise Http404
    return paginator.page(number)


def _translations(obj: Publishable, url_name: str) -> list[dict[str, str]]:
    """The addresses of `obj` in every site language it is written in (for hreflang)."""
    links = []
    for code, _name in settings.LANGUAGES:
        slug = getattr(obj, f"slug_{code}", "")
        title = getattr(obj, f"title_{code}", "")
        if slug and title:
            with translation.override(code):
                links.append({"code": code, "url": reverse(url_name, kwargs={"slug": slug})})
    return links


def _site_languages(request: HttpRequest, alternates: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The language switcher for a translated item: its own address in each language, or that
    language's home when it has no translation (the generic switcher would keep this slug)."""
    current = get_language()
    urls = {link["code"]: link["url"] for link in alternates}
    return [
        {
            "code": code,
            "name": translation.get_language_info(code)["name_local"],
            "url": urls.get(code, f"/{code}/"),
            "current": code == current,
        }
        for code, _name in settings.LANGUAGES
    ]


def _breadcrumbs(*trail: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("Home"), "url": reverse("home")}] + [
        {"name": name, "url": url} for name, url in trail
    ]


def _breadcrumb_ld(request: HttpRequest, crumbs: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": crumb["name"],
                "item": request.build_absolute_uri(crumb["url"]),
            }
            for position, crumb in enumerate(crumbs, start=1)
        ],
    }


# --- Conditional GET: the newest `updated_at` of what the page shows --------------------------


def _video_changed(request: HttpRequest, slug: str) -> dt.datetime | None:
    language = get_language()
    return (
        in_language(videos_live())
        .filter(**{f"slug_{language}": slug})
        .values_list("updated_at", flat=True)
        .first()
    )


class Changed(NamedTuple):
    """The version of a page built from several items: their newest `updated_at`, drafts
    included (unpublishing an item bumps the timestamp of something that no longer shows),
    and how many of them it shows (a deletion or an untagging leaves no timestamp behind)."""

    at: dt.datetime
    shown: int


def _newest(queryset: QuerySet[Any]) -> Subquery:
    return Subquery(queryset.order_by("-updated_at").values("updated_at")[:1])


def _how_many(queryset: QuerySet[Any]) -> Subquery:
    """COUNT(*) of `queryset` as a scalar subquery (an aggregate over it, so no GROUP BY)."""
    return Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n"))


def _changed(timestamps: Iterable[dt.datetime | None], shown: int) -> Changed | None:
    found = [at for at in timestamps if at is not None]
    return Changed(max(found), shown) if found else None


# What a topic page shows, by the field linking each model to the topic.
TOPIC_PARTS: dict[str, tuple[Any, str]] = {
    "articles": (Article, "topics"),
    "faqs": (FAQ, "topic"),
    "videos": (Video, "topics"),
    "pillar": (Page, "pillar_topic"),
}


def _topic_changed(request: HttpRequest, slug: str) -> Changed | None:
    """The topic itself and its articles, FAQs, videos and pillar page, in one query."""
    parts: dict[str, Any] = {}
    for name, (model, link) in TOPIC_PARTS.items():
        linked = {link: OuterRef("pk")}
        parts[f"{name}_at"] = _newest(model.objects.filter(**linked))
        parts[f"{name}_shown"] = _how_many(in_language(model.objects.live()).filter(**linked))
    row: Mapping[str, Any] | None = (
        Topic.objects.filter(slug=slug, is_public=True)
        .annotate(**parts)
        .values("updated_at", *parts)
        .first()
    )
    if row is None:
        return None
    return _changed(
        (row["updated_at"], *(row[f"{name}_at"] for name in TOPIC_PARTS)),
        sum(row[f"{name}_shown"] or 0 for name in TOPIC_PARTS),
    )


CLUSTER = ("cluster_at", "cluster_shown")


def _page_changed(request: HttpRequest, path: str) -> Changed | None:
    """The page and its ancestors (the breadcrumbs), and for a pillar page its topic's
    articles, in one query: every page named by a slug of the path, resolved here."""
    language = get_language()
    slugs = _page_slugs(path)
    in_cluster = {"topics": OuterRef("pillar_topic")}
    rows = (
        Page.objects.filter(**{f"slug_{language}__in": slugs})
        .annotate(
            shown=Exists(in_language(pages_live()).filter(pk=OuterRef("pk"))),
            cluster_at=_newest(Article.objects.filter(**in_cluster)),
            cluster_shown=_how_many(in_language(Article.objects.live()).filter(**in_cluster)),
        )
        .values("pk", "parent_id", f"slug_{language}", "shown", "updated_at", *CLUSTER)
    )
    live = {(row["parent_id"], row[f"slug_{language}"]): row for row in rows if row["shown"]}
    chain: list[dict[str, Any]] = []
    for slug in slugs:
        row = live.get((chain[-1]["pk"] if chain else None, slug))
        if row is None:
            return None
        chain.append(row)
    page = chain[-1]
    return _changed(
        [*(row["updated_at"] for row in chain), page["cluster_at"]], page["cluster_shown"] or 0
    )


def _articles_changed(request: HttpRequest, **kwargs: Any) -> Changed | None:
    shown = in_language(Article.objects.live())
    found = Article.objects.aggregate(
        at=Max("updated_at"), shown=Count("pk", filter=Q(pk__in=shown.values("pk")))
    )
    return _changed([found["at"]], found["shown"])


def _faqs_changed(request: HttpRequest) -> Changed | None:
    shown = in_language(faqs_live()).filter(topic__is_public=True)
    found = FAQ.objects.aggregate(
        at=Max("updated_at"), shown=Count("pk", filter=Q(pk__in=shown.values("pk")))
    )
    return _changed([found["at"]], found["shown"])


def _once(changed: Any) -> Any:
    """`condition` asks for the ETag and the Last-Modified separately: look it up once."""

    def lookup(request: HttpRequest, **kwargs: Any) -> dt.datetime | Changed | None:
        if not hasattr(request, "_content_changed"):
            request._content_changed = changed(request, **kwargs)  # type: ignore[attr-defined]
        return request._content_changed  # type: ignore[attr-defined, no-any-return]

    return lookup


def _conditional(changed: Any) -> Any:
    """Conditional GET from the newest `updated_at` (or a `Changed`); the ETag also names the
    language and the page number, since the same timestamp renders different pages for each,
    and the number of items shown when the lookup counts them."""
    lookup = _once(changed)

    def last_modified(request: HttpRequest, **kwargs: Any) -> dt.datetime | None:
        found = lookup(request, **kwargs)
        return found.at if isinstance(found, Changed) else found

    def etag(request: HttpRequest, **kwargs: Any) -> str | None:
        found = lookup(request, **kwargs)
        if found is None:
            return None
        page = request.GET.get("page", "1")
        if isinstance(found, Changed):
            return f"{get_language()}-{page}-{found.shown}-{found.at.timestamp():.6f}"
        return f"{get_language()}-{page}-{found.timestamp():.6f}"

    return condition(etag_func=etag, last_modified_func=last_modified)


# --- Articles ----------------------------------------------------------------------------------


@public_page(vary_on=("page",))
@_conditional(_articles_changed)
def article_list(request: HttpRequest) -> HttpResponse:
    articles = _paginate(request, in_language(articles_live()))
    crumbs = _breadcrumbs((_("News"), reverse("content:article-list")))
    return render(
        request,
        "content/article_list.html",
        {"articles": articles, "breadcrumbs": crumbs, "json_ld": [_breadcrumb_ld(request, crumbs)]},
    )


def _article_context(request: HttpRequest, article: Article) -> dict[str, Any]:
    def related() -> list[Article]:
        # Called by the template only when its fragment is not kept (inbound.lib.pagecache).
        if not article.pk:
            return []
        return list(
            in_language(article_cards_live())
            .filter(topics__in=article.topics.values("pk"))
            .exclude(pk=article.pk)
            .distinct()[:RELATED_MAX]
        )

    crumbs = _breadcrumbs(
        (_("News"), reverse("content:article-list")),
        (article.title, request.path),
    )
    alternates = _translations(article, "content:article-detail")
    article_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": article.meta_description or article.summary,
        "inLanguage": get_language(),
        "dateModified": article.updated_at.isoformat() if article.updated_at else None,
        "mainEntityOfPage": request.build_absolute_uri(request.path),
        "publisher": {"@type": "Organization", "name": settings.INSTITUTION["name"]},
    }
    if article.published_at:
        article_ld["datePublished"] = article.published_at.isoformat()
    if article.byline:
        article_ld["author"] = {"@type": "Person", "name": article.byline}
    if article.hero_image:
        article_ld["image"] = request.build_absolute_uri(article.hero_image.url)
    return {
        "article": article,
        "related": related,
        "breadcrumbs": crumbs,
        "alternates": alternates,
        "x_default": next((a["url"] for a in alternates if a["code"] == "es"), None),
        "site_languages": _site_languages(request, alternates),
        "json_ld": [article_ld, _breadcrumb_ld(request, crumbs)],
    }


@public_page
def article_detail(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Conditional GET from the article it loads anyway (no separate lookup query); the
    other languages' bodies, the widest columns, are not fetched. The article is kept like the
    page's fragments, so a render with everything kept runs no query."""
    language = get_language()

    def live_article() -> Article:
        others = [f"body_{code}" for code in LANGUAGES if code != language]
        # Its topics are read by the template only when the article's text fragment is not kept.
        return get_object_or_404(
            in_language(Article.objects.live()).defer(*others), **{f"slug_{language}": slug}
        )

    # Kept under the public pages' generation: a publish, an edit or an unpublish drops it.
    article = public_kept("article", request=request, parts=(slug,), build=live_article)
    etag = f'"{language}-{request.GET.get("page", "1")}-{article.updated_at.timestamp():.6f}"'
    last_modified = int(article.updated_at.timestamp())
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return not_modified
    response = render(request, "content/article_detail.html", _article_context(request, article))
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    return response


# --- Topics, pages, FAQs, videos ---------------------------------------------------------------


@public_page(vary_on=("page",))
@_conditional(_topic_changed)
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug, is_public=True)
    articles = _paginate(request, in_language(articles_live()).filter(topics=topic))
    crumbs = _breadcrumbs((topic.name, request.path))
    return render(
        request,
        "content/topic_detail.html",
        {
            "topic": topic,
            "articles": articles,
            "faqs": in_language(faqs_live()).filter(topic=topic),
            "videos": in_language(videos_live()).filter(topics=topic),
            "breadcrumbs": crumbs,
            "json_ld": [_breadcrumb_ld(request, crumbs)],
        },
    )


@public_page
@_conditional(_page_changed)
def page_detail(request: HttpRequest, path: str) -> HttpResponse:
    """A page found by walking its hierarchy slug by slug; every step must be live."""
    language = get_language()
    parent: Page | None = None
    for slug in _page_slugs(path):
        node = in_language(pages_live()).filter(parent=parent, **{f"slug_{language}": slug}).first()
        if node is None:
            raise Http404
        parent = node
    if parent is None:
        raise Http404
    return render(request, "content/page_detail.html", _page_context(request, parent))


def _page_url(page: Page) -> str:
    slugs = [ancestor.slug for ancestor in page.ancestors()] + [page.slug]
    return reverse("content:page-detail", kwargs={"path": "/".join(slugs)})


def _page_context(request: HttpRequest, page: Page) -> dict[str, Any]:
    crumbs = _breadcrumbs(
        *((ancestor.title, _page_url(ancestor)) for ancestor in page.ancestors()),
        (page.title, request.path),
    )
    return {"page": page, "breadcrumbs": crumbs, "json_ld": [_breadcrumb_ld(request, crumbs)]}


@public_page
@_conditional(_faqs_changed)
def faq_list(request: HttpRequest) -> HttpResponse:
    faqs = in_language(faqs_live()).filter(topic__is_public=True)
    topics = (
        Topic.objects.filter(is_public=True, faqs__in=faqs)
        .distinct()
        .prefetch_related(Prefetch("faqs", queryset=faqs, to_attr="live_faqs"))
    )
    crumbs = _breadcrumbs((_("Frequently asked questions"), request.path))
    faq_ld = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": faq.question,
                "acceptedAnswer": {"@type": "Answer", "text": faq.answer},
            }
            for topic in topics
            for faq in topic.live_faqs  # type: ignore[attr-defined]
        ],
    }
    return render(
        request,
        "content/faq_list.html",
        {
            "topics": topics,
            "breadcrumbs": crumbs,
            "json_ld": [faq_ld, _breadcrumb_ld(request, crumbs)],
        },
    )


def _video_context(request: HttpRequest, video: Video) -> dict[str, Any]:
    crumbs = _breadcrumbs((video.title, request.path))
    alternates = _translations(video, "content:video-detail")
    return {
        "video": video,
        "breadcrumbs": crumbs,
        "alternates": alternates,
        "x_default": next((a["url"] for a in alternates if a["code"] == "es"), None),
        "site_languages": _site_languages(request, alternates),
        "json_ld": [_breadcrumb_ld(request, crumbs)],
    }


@public_page
@_conditional(_video_changed)
def video_detail(request: HttpRequest, slug: str) -> HttpResponse:
    language = get_language()
    video = get_object_or_404(in_language(videos_live()), **{f"slug_{language}": slug})
    return render(request, "content/video_detail.html", _video_context(request, video))


# --- Preview -----------------------------------------------------------------------------------


@never_cache
def content_preview(request: HttpRequest, token: str) -> HttpResponse:
    """Unpublished content as it will look, for whoever holds the signed link; never indexed."""
    try:
        obj = content_preview_read(token)
    except PreviewLinkInvalid as error:
        raise Http404 from error
    context: dict[str, Any]
    if isinstance(obj, Article):
        template, context = "content/article_detail.html", _article_context(request, obj)
        context["alternates"] = []
    elif isinstance(obj, Video):
        template, context = "content/video_detail.html", _video_context(request, obj)
        context["alternates"] = []
    elif isinstance(obj, Page):
        template, context = "content/page_detail.html", _page_context(request, obj)
    else:
        template = "content/faq_preview.html"
        context = {"faq": obj, "breadcrumbs": _breadcrumbs()}
    context["preview"] = True
    response = render(request, template, context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response

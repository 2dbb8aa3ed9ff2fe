"""sitemap.xml and robots.txt, served outside the language prefix."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from content.sitemaps import site_languages, sitemap_entries, sitemap_xml

ROBOTS_CACHE_SECONDS = 60 * 60
SITEMAP_CACHE_SECONDS = 15 * 60


def _disallowed() -> list[str]:
    paths = ["/api/"]
    for language in site_languages():
        with translation.override(language):
            preview = reverse("content:preview", kwargs={"token": "x"}).removesuffix("x/")
            preferences = reverse("contacts_public:preferences-request")
            my_data = reverse("contacts_public:data-request")
        paths += [f"/{language}/admin/", f"/{language}/staff/", preview, preferences, my_data]
    return list(dict.fromkeys(paths))


@require_GET
@cache_control(public=True, max_age=ROBOTS_CACHE_SECONDS)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in _disallowed()]
    lines += ["", f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_GET
@cache_control(public=True, max_age=SITEMAP_CACHE_SECONDS)
def sitemap(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        sitemap_xml(sitemap_entries()), content_type="application/xml; charset=utf-8"
    )

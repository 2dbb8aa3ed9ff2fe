from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info


def site(request: HttpRequest) -> dict[str, Any]:
    """The institution and the language alternates of the current page, for base.html.

    The alternates are computed only if the template uses them and the view did not give its
    own (content pages do): a callable in the context is called when first looked up.
    """

    def site_languages() -> list[dict[str, Any]]:
        current = get_language()
        languages = []
        for code, _name in settings.LANGUAGES:
            name = get_language_info(code)["name_local"]
            url = translate_url(request.path, code)
            if url == request.path and code != current:
                url = f"/{code}/"  # a page with no counterpart in that language: its home
            languages.append({"code": code, "name": name, "url": url, "current": code == current})
        return languages

    return {"institution": settings.INSTITUTION, "site_languages": site_languages}

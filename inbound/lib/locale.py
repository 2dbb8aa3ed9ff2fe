"""Language from the URL prefix; Spanish, the institution's language, wherever there is none."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class PrefixLocaleMiddleware(LocaleMiddleware):
    """Like Django's, but the browser's language only chooses where "/" redirects to.

    Any other unprefixed path (an unknown prefix such as /fr/, /healthz, the API) is answered in
    Spanish, so a 404 never depends on a header the citizen does not see. No language cookie is
    read or set: the public site stays cookieless.
    """

    def process_request(self, request: HttpRequest) -> None:
        language = translation.get_language_from_path(request.path_info)
        if language is None:
            if request.path_info == "/":
                language = translation.get_language_from_request(request, check_path=False)
            else:
                language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

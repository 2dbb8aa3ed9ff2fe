"""Answer /healthz and /readyz before Host validation, so a probe by IP gets its answer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from inbound import views

        if request.method in {"GET", "HEAD"}:
            if request.path_info == "/healthz":
                return views.healthz(request)
            if request.path_info == "/readyz":
                return views.readyz(request)
        return self.get_response(request)

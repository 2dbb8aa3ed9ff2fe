"""Let /healthz and /readyz answer whatever Host a probe sends (orchestrators probe by IP)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host

PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class ProbeMiddleware:
    """For the probe paths only, replace a Host outside ALLOWED_HOSTS with an allowed one.

    The probes then go through the same middleware as every page, so /healthz stays an honest
    "minimal view" (the http bench's baseline), and nothing else changes for other paths.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        first = next(iter(settings.ALLOWED_HOSTS), "localhost")
        self.allowed_host = "localhost" if first == "*" else first.lstrip(".")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PROBE_PATHS:
            domain, _port = split_domain_port(request.META.get("HTTP_HOST", ""))
            if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
                request.META["HTTP_HOST"] = self.allowed_host
        return self.get_response(request)

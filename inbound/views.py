"""The base public pages and the operations probes."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache

from inbound.lib.pagecache import public_page
from inbound.models import AccessibilityStatement, LegalPage, WorkerHeartbeat

logger = logging.getLogger(__name__)
PROBE_TIMEOUT = 3.0  # seconds; a probe still running by then counts as down


@public_page
def home(request: HttpRequest) -> HttpResponse:
    institution = settings.INSTITUTION
    organization_ld = {
        "@context": "https://schema.org",
        "@type": "GovernmentOrganization",
        "name": institution["name"],
        "url": request.build_absolute_uri("/"),
        "logo": request.build_absolute_uri(static(institution["logo"])),
        "email": institution["email"],
        "telephone": institution["phone"],
        "address": institution["address"],
    }
    return render(request, "inbound/home.html", {"organization_ld": organization_ld})


@public_page
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    statement = AccessibilityStatement.objects.order_by("-updated_at").first()
    return render(request, "inbound/accessibility.html", {"statement": statement})


def _legal_page(request: HttpRequest, kind: str) -> HttpResponse:
    pages = {p.language: p for p in LegalPage.objects.filter(kind=kind)}
    page = pages.get(get_language()) or pages.get(settings.LANGUAGE_CODE)
    if page is None:
        raise Http404
    return render(request, "inbound/legal_page.html", {"page": page})


@public_page
def privacy_policy(request: HttpRequest) -> HttpResponse:
    return _legal_page(request, LegalPage.Kind.PRIVACY)


@public_page
def legal_notice(request: HttpRequest) -> HttpResponse:
    return _legal_page(request, LegalPage.Kind.LEGAL_NOTICE)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering. Touches nothing else on purpose."""
    return HttpResponse("ok\n", content_type="text/plain")


def _probe_database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connections.close_all()


def _probe_broker() -> None:
    url = settings.CELERY_BROKER_URL
    scheme = urlsplit(url).scheme
    if scheme in {"redis", "rediss"}:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    elif scheme == "filesystem":
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".probe-")
        os.close(fd)
        os.unlink(name)
    else:
        from kombu import Connection

        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)


def _probe_cache() -> None:
    from django.core.cache import cache

    cache.set("readyz", "1", timeout=5)
    if cache.get("readyz") != "1":
        raise RuntimeError("value written was not read back")


_executor = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database and the broker answer. 503 names whatever is down."""
    probes: dict[str, Callable[[], None]] = {"database": _probe_database, "broker": _probe_broker}
    if settings.REDIS_URL:
        probes["cache"] = _probe_cache
    futures = {name: _executor.submit(probe) for name, probe in probes.items()}
    wait(futures.values(), timeout=PROBE_TIMEOUT)
    checks: dict[str, str] = {}
    for name, future in futures.items():
        if not future.done():
            checks[name] = f"timeout after {PROBE_TIMEOUT:g}s"
        elif (error := future.exception()) is not None:
            # The public body names the failure only; hosts and users go to the log.
            logger.error("readyz: %s is down: %r", name, error)
            checks[name] = f"error: {type(error).__name__}"
        else:
            checks[name] = "ok"
    down = sorted(name for name, state in checks.items() if state != "ok")
    body: dict[str, object] = {"status": "unavailable" if down else "ok", "checks": checks}
    if down:
        body["down"] = down
    else:
        now = timezone.now()
        body["workers"] = {
            beat.name: {"last_seen_seconds": int((now - beat.beat_at).total_seconds())}
            for beat in WorkerHeartbeat.objects.filter(
                name__in=[q.name for q in settings.CELERY_TASK_QUEUES]
            )
        }
    return JsonResponse(body, status=503 if down else 200)

"""Benchmark-only endpoints, routed only when `settings.BENCH_ENDPOINTS` is on (never in
production): the baselines `python -m bench submissions` compares real views with."""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt  # a baseline: the cost of Django, gunicorn and one INSERT, nothing else
@require_POST
def bench_insert(request: HttpRequest) -> HttpResponse:
    """One INSERT (a touchpoint row) behind the full middleware stack; answers 204."""
    # Looked up by name: `inbound` imports no journey app.
    touchpoint = apps.get_model("contacts", "Touchpoint")
    touchpoint.objects.create(kind="bench_insert", stage="convert", visitor_key="bench")
    return HttpResponse(status=204)

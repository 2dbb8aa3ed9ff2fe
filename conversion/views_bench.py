"""Benchmark-only endpoint, routed only when `settings.BENCH_ENDPOINTS` is on (never in
production): the ceiling `python -m bench submissions` compares the real form page with."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contacts.models import Touchpoint
from conversion.forms import form_published
from conversion.models import Submission
from conversion.views import after_sending_redirect, form_handle


@csrf_exempt  # checked by hand in `form_handle`, as on the form's own page
@require_POST
def bench_form_floor(request: HttpRequest, slug: str) -> HttpResponse:
    """The form page's POST with the submission's writes replaced by the baseline's one INSERT.

    Everything else is the real path (`conversion.views.form_handle`): the published form, the
    rate limit, the size and CSRF checks, parsing and validation, the redirect to thanks. Its
    rate is the ceiling of any way of storing a submission behind this request path.
    """
    definition = form_published(slug)

    def one_insert(**_submission: Any) -> tuple[Submission, bool]:
        Touchpoint.objects.create(kind="bench_insert", stage="convert", visitor_key="bench")
        return Submission(form=definition), True

    return form_handle(
        request,
        definition,
        render_form=lambda form, status: HttpResponse(status=status),
        after_sending=lambda submission: after_sending_redirect(request, definition),
        store=one_insert,
    )

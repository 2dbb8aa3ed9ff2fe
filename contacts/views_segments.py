"""Staff views around segments: the live member count behind the rules editor."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.models import Segment
from contacts.segments import rules_queryset, rules_validate, segment_count


def _segment(raw: str | None) -> Segment | None:
    if not raw or not raw.isdigit():
        return None
    return Segment.objects.filter(pk=int(raw)).first()


@require_POST
def segment_count_preview(request: HttpRequest) -> HttpResponse:
    """The number of contacts the rules being edited match now, as an `<output>` fragment.

    Answers 200 with the validation errors in the fragment too, so the editor shows them
    while the staff member types.
    """
    user: Any = request.user
    if not (user.is_authenticated and user.is_staff and user.has_perm("contacts.view_segment")):
        raise PermissionDenied
    segment = _segment(request.POST.get("segment"))
    context: dict[str, Any] = {"errors": [], "count": None}
    if request.POST.get("kind") == Segment.Kind.STATIC:
        context["count"] = segment_count(segment=segment) if segment is not None else 0
        return render(request, "contacts/segments/count.html", context)
    raw = (request.POST.get("rules") or "").strip() or "{}"
    try:
        rules = json.loads(raw)
    except ValueError:
        context["errors"] = [_("The rules are not valid JSON.")]
        return render(request, "contacts/segments/count.html", context)
    try:
        rules_validate(rules, segment=segment)
        seen = (segment.pk,) if segment is not None else ()
        context["count"] = rules_queryset(rules, _seen=seen).order_by().count()
    except ValidationError as error:
        context["errors"] = error.messages
    return render(request, "contacts/segments/count.html", context)

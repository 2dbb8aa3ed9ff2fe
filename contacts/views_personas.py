"""Staff pages about citizen personas: who they are and how many citizens they stand for."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from contacts.models import Persona
from contacts.personas import persona_figures, personas_with_counts
from inbound.audit import audit_record

VIEW_PERMISSION = "contacts.view_persona"


def _staff_may_view_personas(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; staff without the permission get a 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_staff and request.user.has_perm(VIEW_PERMISSION)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@_staff_may_view_personas
def persona_list(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Citizen personas"),
        "personas": personas_with_counts(),
    }
    return render(request, "contacts/personas/persona_list.html", context)


@_staff_may_view_personas
def persona_detail(request: HttpRequest, pk: int) -> HttpResponse:
    persona = get_object_or_404(Persona, pk=pk)
    figures = persona_figures(persona=persona)
    # The sample shows citizens' names and districts: personal data, so the access is logged.
    audit_record(
        action="persona_members_viewed",
        obj=persona,
        request=request,
        detail={"contact_ids": [contact.pk for contact in figures.sample]},
    )
    context = {
        **admin.site.each_context(request),
        "title": persona.name,
        "persona": persona,
        "figures": figures,
        "can_open_contacts": request.user.has_perm("contacts.view_contact"),
    }
    return render(request, "contacts/personas/persona_detail.html", context)

"""Contact admin actions for everyday CRM work: merging duplicates, adding to a static list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import Contact, Segment
from contacts.segments import static_members_add
from contacts.services import contact_merge
from inbound.lib.errors import DomainError


def _confirm(
    request: HttpRequest, modeladmin: admin.ModelAdmin, template: str, **context: Any
) -> TemplateResponse:
    return TemplateResponse(
        request,
        template,
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        },
    )


@admin.action(description=gettext_lazy("Merge two duplicate contacts"), permissions=["change"])
def contacts_merge(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Contact]
) -> HttpResponse | None:
    """Merge exactly two contacts after the staff member chooses which one is kept."""
    contacts = list(queryset.filter(anonymised_at__isnull=True).order_by("created_at")[:3])
    if len(contacts) != 2:
        modeladmin.message_user(request, _("Select exactly two contacts to merge."), messages.ERROR)
        return None
    keep = request.POST.get("keep")
    if request.POST.get("confirmed") == "yes" and keep in {str(c.pk) for c in contacts}:
        primary = next(c for c in contacts if str(c.pk) == keep)
        duplicate = next(c for c in contacts if c.pk != primary.pk)
        try:
            contact_merge(primary=primary, duplicate=duplicate, actor=request.user, request=request)
        except DomainError as error:
            modeladmin.message_user(request, str(error.message), messages.ERROR)
            return None
        modeladmin.message_user(
            request,
            _("Contacts merged into %(email)s.") % {"email": primary.email},
            messages.SUCCESS,
        )
        return None
    return _confirm(
        request,
        modeladmin,
        "contacts/admin/merge_confirm.html",
        title=_("Merge two contacts"),
        contacts=contacts,
        missing_choice=request.POST.get("confirmed") == "yes",
    )


@admin.action(description=gettext_lazy("Add to a static list"), permissions=["change"])
def contacts_add_to_list(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Contact]
) -> HttpResponse | None:
    lists = Segment.objects.filter(kind=Segment.Kind.STATIC).order_by("name")
    across = request.POST.get("select_across") == "1"
    if not lists.exists():
        modeladmin.message_user(
            request,
            _("There is no static list yet: create one in Segments first."),
            messages.WARNING,
        )
        return None
    chosen = lists.filter(pk=request.POST.get("segment") or 0).first()
    if request.POST.get("confirmed") == "yes" and chosen is not None:
        added = static_members_add(segment=chosen, contacts=queryset)
        modeladmin.message_user(
            request,
            _("%(count)s added to %(list)s.") % {"count": added, "list": chosen.name},
            messages.SUCCESS,
        )
        return None
    return _confirm(
        request,
        modeladmin,
        "contacts/admin/add_to_list.html",
        title=_("Add to a static list"),
        lists=lists,
        # "Select all N" (select_across) is passed on rather than listing N ids.
        select_across=across,
        selected=[] if across else list(queryset.values_list("pk", flat=True)),
        count=queryset.count(),
        missing_choice=request.POST.get("confirmed") == "yes",
    )


CRM_ACTIONS: list[Any] = [contacts_merge, contacts_add_to_list]

"""Admin actions for citizens' rights requests that reach staff (by post, phone, in person).

Defined here and listed in `ContactAdmin.actions` (contacts/admin/contacts.py). Each is
audited with the staff member as actor.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import rights
from contacts.models import Contact
from inbound.audit import audit_record

EXPORT_PERMISSION = "contacts.export_contact"
MAX_ANONYMISE_AT_ONCE = 100


@admin.action(description=gettext_lazy("Anonymise (erasure)"), permissions=["change"])
def contacts_anonymise(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Contact]
) -> HttpResponse | None:
    """Erase the selected contacts after a confirmation page that asks for the reason."""
    contacts = list(queryset.filter(anonymised_at__isnull=True)[: MAX_ANONYMISE_AT_ONCE + 1])
    if not contacts:
        modeladmin.message_user(
            request, _("The selected contacts are already anonymised."), messages.WARNING
        )
        return None
    if len(contacts) > MAX_ANONYMISE_AT_ONCE:
        modeladmin.message_user(
            request,
            _("Select at most %(max)s contacts to anonymise at once.")
            % {"max": MAX_ANONYMISE_AT_ONCE},
            messages.ERROR,
        )
        return None
    reason = request.POST.get("reason", "").strip()
    if request.POST.get("confirmed") == "yes" and reason:
        for contact in contacts:
            rights.contact_anonymise(
                contact=contact, actor=request.user, request=request, reason=reason
            )
        modeladmin.message_user(
            request,
            _("%(count)s contact(s) anonymised.") % {"count": len(contacts)},
            messages.SUCCESS,
        )
        return None
    return TemplateResponse(
        request,
        "contacts/admin/anonymise_confirm.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("Anonymise contacts"),
            "opts": modeladmin.model._meta,
            "contacts": contacts,
            "reason": reason,
            "missing_reason": request.POST.get("confirmed") == "yes" and not reason,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


def _may_export(modeladmin: admin.ModelAdmin, request: HttpRequest) -> bool:
    if request.user.has_perm(EXPORT_PERMISSION):
        return True
    modeladmin.message_user(
        request, _("You do not have permission to export personal data."), messages.ERROR
    )
    return False


def _one(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Contact]
) -> Contact | None:
    contacts = list(queryset.filter(anonymised_at__isnull=True)[:2])
    if len(contacts) != 1:
        modeladmin.message_user(
            request, _("Select exactly one contact that is not anonymised."), messages.ERROR
        )
        return None
    return contacts[0]


@admin.action(description=gettext_lazy("Download data (access request)"), permissions=["change"])
def contacts_data_download(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Contact]
) -> HttpResponse | None:
    """The same ZIP a citizen downloads, for staff answering a request made another way."""
    if not _may_export(modeladmin, request):
        return None
    contact = _one(modeladmin, request, queryset)
    if contact is None:
        return None
    response = HttpResponse(
        rights.contact_data_zip(contact=contact, actor=request.user, request=request),
        content_type="application/zip",
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-data.zip"'
    return response


@admin.action(description=gettext_lazy("Send data download link"), permissions=["change"])
def contacts_data_link_send(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Contact]
) -> None:
    """Email each selected citizen a link to download their own data (sent after commit)."""
    if not _may_export(modeladmin, request):
        return
    from contacts.tasks_rights import email_rights_link

    sent = 0
    for contact in queryset.filter(anonymised_at__isnull=True, email__isnull=False):
        email_rights_link.delay_on_commit(
            contact_id=contact.pk, purpose=rights.DATA_EXPORT, language=contact.language
        )
        audit_record(action="contact_data_link_sent", obj=contact, request=request)
        sent += 1
    modeladmin.message_user(
        request, _("%(count)s link(s) will be sent.") % {"count": sent}, messages.SUCCESS
    )


RIGHTS_ACTIONS: list[Any] = [contacts_anonymise, contacts_data_download, contacts_data_link_send]

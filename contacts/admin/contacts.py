from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from contacts.admin.actions import CRM_ACTIONS
from contacts.admin.rights import RIGHTS_ACTIONS, contacts_anonymise
from contacts.models import ConsentRecord, Contact, ContactProperty, Subscription, Tag, Topic
from contacts.selectors import contact_timeline
from contacts.views_imports import contacts_export_csv, contacts_export_xlsx
from inbound.audit import audit_record
from inbound.lib.admin import AuditedAdminMixin
from inbound.lib.pagecache import public_pages_invalidate

TIMELINE_PAGE_SIZE = 25


class ContactAdminForm(forms.ModelForm):
    """Refuses a save based on an outdated copy, so two staff editing at once lose nothing."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = "__all__"  # noqa: DJ007 -- ContactAdmin.fieldsets decide the fields

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk:
            # The admin's change view runs in one transaction: the row stays locked until saved.
            current = Contact.objects.select_for_update().values_list("version", flat=True).get(
                pk=self.instance.pk)
            if cleaned.get("seen_version") != current:
                raise ValidationError(_(
                    "Someone else changed this contact while you were editing. Reload it to "
                    "see their changes; nothing was lost."))
        return cleaned


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ("topic", "status", "frequency", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")


class ConsentInline(admin.TabularInline):
    """The ledger, read-only: consent changes are recorded by services, never edited."""

    model = ConsentRecord
    extra = 0
    fields = ("occurred_at", "purpose", "topic", "action", "legal_basis", "text_version",
              "source")
    readonly_fields = fields
    ordering = ("-occurred_at", "-id")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "lifecycle", "email_status", "district",
                    "persona", "created_at")
    list_filter = ("lifecycle", "email_status", "language", "source", "persona")
    search_fields = ("email", "first_name", "last_name", "district", "postal_code")
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    list_select_related = ("persona",)
    readonly_fields = ("lifecycle", "created_at", "updated_at", "last_activity_at",
                       "email_verified_at", "anonymised_at", "persona")
    # Plain selects, not the admin's select2 autocomplete: its search box has no label (axe).
    inlines = (SubscriptionInline, ConsentInline)
    change_form_template = "admin/contacts/contact/change_form.html"
    form = ContactAdminForm
    actions = [*CRM_ACTIONS, *RIGHTS_ACTIONS, contacts_export_csv, contacts_export_xlsx]
    fieldsets = (
        (None, {"fields": ("email", "first_name", "last_name", "phone", "language",
                           "seen_version")}),
        (_("Profile"), {"fields": ("postal_code", "district", "birth_year", "tags",
                                   "properties")}),
        (_("Journey"), {"fields": ("source", "lifecycle", "persona", "email_status",
                                   "email_verified_at", "email_paused_until")}),
        (_("Dates"), {"fields": ("created_at", "updated_at", "last_activity_at",
                                 "anonymised_at")}),
    )

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("contacts.export_contact")

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        contact = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if contact is not None and request.method == "GET":
            # The look itself is audited by AuditedAdminMixin, once the page is shown.
            page = Paginator(contact_timeline(contact=contact), TIMELINE_PAGE_SIZE).get_page(
                request.GET.get("timeline"))
            extra_context["timeline"] = page
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        if change:
            obj.version = F("version") + 1
        super().save_model(request, obj, form, change)
        obj.refresh_from_db(fields=["version"])
        audit_record(action="contact_changed" if change else "contact_created", obj=obj,
                     request=request, detail={"fields": sorted(form.changed_data)})

    # A contact is never hard-deleted (its consent ledger is PROTECTed): the admin's delete and
    # bulk delete run the audited erasure (contacts.rights.contact_anonymise), after a
    # confirmation that asks for the reason.
    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            description = str(_("Delete (erases the personal data)"))
            actions["delete_selected"] = (contacts_anonymise, "delete_selected", description)  # type: ignore[assignment]
        return actions

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        contact = self.get_object(request, object_id)
        if contact is None or not self.has_delete_permission(request, contact):
            raise PermissionDenied
        response = contacts_anonymise(self, request, Contact.objects.filter(pk=contact.pk))
        if response is not None:
            return response
        return redirect("admin:contacts_contact_change", contact.pk)

@admin.register(Topic)
class TopicAdmin(TranslationAdmin):
    list_display = ("name", "slug", "is_public", "order")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    # Topic names show on public pages (topic pages, article tags, the home page).
    def save_model(self, request: HttpRequest, obj: Topic, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(public_pages_invalidate)

    def delete_model(self, request: HttpRequest, obj: Topic) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(public_pages_invalidate)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(ContactProperty)
class ContactPropertyAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "type")
    list_filter = ("type",)

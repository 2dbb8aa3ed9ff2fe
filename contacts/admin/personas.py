"""Admin for citizen personas: who they are, their rules and how many contacts they stand for."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from contacts.models import Persona


class PersonaAdminForm(forms.ModelForm):
    class Meta:
        model = Persona
        fields = "__all__"  # noqa: DJ007 -- PersonaAdmin.fieldsets decide the fields
        widgets = {"rules": forms.Textarea(attrs={"rows": 12, "cols": 80, "spellcheck": "false"})}

    def clean_rules(self) -> Any:
        from contacts.segments import rules_validate

        rules = self.cleaned_data.get("rules") or {}
        if not isinstance(rules, dict):
            raise ValidationError(_('The rules must be a JSON object, e.g. {} or {"all": []}.'))
        rules_validate(rules)  # ValidationError, one message per bad condition
        return rules

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("picture") and not (cleaned.get("picture_alt") or "").strip():
            # WCAG 1.1.1: a picture that says who the persona is needs a text alternative.
            self.add_error("picture_alt", _("Describe the picture for people who cannot see it."))
        return cleaned


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    form = PersonaAdminForm
    list_display = ("name", "priority", "summary", "member_count", "staff_page")
    search_fields = ("name", "summary")
    ordering = ("priority", "name")
    fieldsets = (
        (None, {"fields": ("name", "summary", "priority", "picture", "picture_alt")}),
        (
            _("Who they are"),
            {
                "fields": (
                    "background",
                    "goals",
                    "frustrations",
                    "motivations",
                    "preferred_channels",
                    "expectations",
                )
            },
        ),
        (
            _("Members"),
            {
                "fields": ("rules",),
                "description": _(
                    "Each contact belongs to the first persona, in order of priority, whose "
                    "rules they match. The rules use the segment rule language, for example "
                    '{"all": [{"field": "age", "op": "gte", "value": 65}]}.'
                ),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Persona]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _member_count=Count("contacts", filter=Q(contacts__anonymised_at__isnull=True))
            )
        )

    @admin.display(description=_("members"), ordering="_member_count")
    def member_count(self, persona: Persona) -> int:
        return int(getattr(persona, "_member_count", 0))

    @admin.display(description=_("staff page"))
    def staff_page(self, persona: Persona) -> str:
        try:
            url = reverse("contacts_personas:persona-detail", args=[persona.pk])
        except NoReverseMatch:  # the staff pages are not wired in this deployment
            return ""
        return format_html('<a href="{}">{}</a>', url, _("View"))

    def save_model(self, request: HttpRequest, obj: Persona, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Rules or priorities changed: members move now, not at the next periodic run.
        from contacts.tasks_personas import personas_assign_all

        personas_assign_all.delay_on_commit()

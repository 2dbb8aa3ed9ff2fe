"""Staff setting up A/B tests of landing pages: a test with its variants inline.

A test starts when it is saved (`conversion.abtests.abtest_start`). From then on its arms and
weights are read-only, because the visitor key maps to an arm through them: changing them would
move visitors between arms halfway through. The variants' texts stay editable (a typo must be
fixable). Ending a test is declaring its winner, on the results page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline

from content.admin import ProseEditorNonceMixin
from conversion.abtests import abtest_start
from conversion.models import ABTest, LandingVariant
from inbound.audit import audit_record


class VariantFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            form for form in self.forms if form.has_changed() and form not in self.deleted_forms
        ]
        if self.instance.pk is None and not kept and not any(self.errors):
            raise forms.ValidationError(
                _("Add at least one variant to compare with the current page.")
            )


class LandingVariantInline(TranslationStackedInline):
    model = LandingVariant
    formset = VariantFormSet
    extra = 0
    min_num = 1
    fieldsets = (
        (None, {"fields": ("name", "weight")}),
        (
            _("What it changes (leave empty to keep the page's own text)"),
            {"fields": ("title", "summary", "body", "submit_label")},
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("weight",) if obj is not None else ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_delete_permission(request, obj)


class ABTestForm(ModelForm):
    class Meta:
        model = ABTest
        fields = ("landing_page", "name", "control_weight")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        page = cleaned.get("landing_page")
        if self.instance.pk is None and page is not None:
            if ABTest.objects.filter(landing_page=page, ended_at__isnull=True).exists():
                self.add_error(
                    "landing_page",
                    _("This landing page already has a running A/B test: declare its winner "
                      "first."),
                )  # fmt: skip
            elif page.form_id is None:
                self.add_error(
                    "landing_page",
                    _("This landing page has no form: there would be nothing to measure."),
                )
        return cleaned


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("running", _("Running")), ("ended", _("Ended"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() == "running":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


@admin.register(ABTest)
class ABTestAdmin(ProseEditorNonceMixin, admin.ModelAdmin):
    change_form_template = "admin/conversion/abtest/change_form.html"
    form = ABTestForm
    inlines = [LandingVariantInline]
    list_display = ("name", "landing_page", "started_at", "status", "results_link")
    list_filter = (StatusFilter,)
    list_select_related = ("landing_page", "winner")
    search_fields = ("name",)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("landing_page", "name", "control_weight")}),)
        return (
            (None, {"fields": ("landing_page", "name", "control_weight", "results_link")}),
            (_("Status"), {"fields": ("started_at", "status", "declared_by")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("landing_page", "control_weight", "results_link", "started_at", "status",
                "declared_by")  # fmt: skip

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An ended test is a record: its figures must keep meaning what they meant.
        if obj is not None and obj.ended_at is not None:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("status"))
    def status(self, obj: ABTest) -> str:
        if obj.ended_at is None:
            return str(_("Running"))
        winner = obj.winner.name if obj.winner is not None else _("the current page")
        return str(_("Ended: %(winner)s won") % {"winner": winner})

    @admin.display(description=_("results"))
    def results_link(self, obj: ABTest) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("conversion_staff:abtest", kwargs={"pk": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("See the results"))

    def save_model(self, request: HttpRequest, obj: ABTest, form: forms.Form, change: bool) -> None:
        # A new test is started with its variants in `save_related`, once they are known.
        if change:
            super().save_model(request, obj, form, change)
            audit_record(action="conversion.abtest_changed", obj=obj, request=request)

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm,
        formsets: list[BaseInlineFormSet],
        change: bool,
    ) -> None:
        if change:
            super().save_related(request, form, formsets, change)
            return
        variants: list[LandingVariant] = []
        for formset in formsets:
            if formset.model is LandingVariant:
                variants.extend(formset.save(commit=False))
        abtest_start(test=form.instance, variants=variants, actor=request.user, request=request)

    def delete_model(self, request: HttpRequest, obj: ABTest) -> None:
        audit_record(action="conversion.abtest_deleted", obj=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ABTest]) -> None:
        for obj in queryset:
            audit_record(action="conversion.abtest_deleted", obj=obj, request=request)
        super().delete_queryset(request, queryset)

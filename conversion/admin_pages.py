"""Staff editing of landing pages (the content workflow: review, publish, revisions) and of
calls to action, with their conversion and click-through rates in the changelists."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from content.admin import ContentAdmin
from conversion.models import ABTest, CallToAction, LandingPage
from conversion.stats import ClickRate, Rate, click_rates, conversion_rates
from inbound.audit import audit_record
from inbound.lib.pagecache import public_pages_invalidate


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


class ConversionRateColumn:
    """A changelist column "views / submissions (rate)", read for the whole page at once."""

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]
        rows = list(changelist.result_list)  # evaluated once; the changelist renders these
        rates = conversion_rates(rows)  # two aggregate queries for the page
        for row in rows:
            row.conversion_rate = rates.get(row.pk)
        return changelist

    @admin.display(description=_("views / submissions (rate)"))
    def conversion(self, obj: Any) -> str:
        rate: Rate | None = getattr(obj, "conversion_rate", None)
        if rate is None:
            return "—"
        return f"{rate.views} / {rate.submissions} ({percent(rate.rate)})"


@admin.register(LandingPage)
class LandingPageAdmin(ConversionRateColumn, ContentAdmin):
    list_display = ("title", "form", "status", "published_at", "conversion", "public_link")
    list_filter = ("status",)
    search_fields = ("title", "slug")
    list_select_related = ("form",)
    prepopulated_fields = {"slug": ("title",)}
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "status", "publish_at", "published_at")}),
        (_("Page"), {"fields": ("hero_image", "hero_image_alt", "body")}),
        (
            _("Form and what follows"),
            {
                "fields": (
                    "form",
                    "submit_label",
                    "gated_asset",
                    "gated_asset_title",
                    "thanks_message",
                    "redirect_path",
                )
            },
        ),
        (_("Search engines"), {"fields": ("meta_title", "meta_description")}),
        (_("A/B tests"), {"fields": ("ab_tests",)}),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "ab_tests")

    @admin.display(description=_("A/B tests"))
    def ab_tests(self, obj: LandingPage) -> str:
        """The page's tests, each linked to its results, and a link to start one."""
        if obj.pk is None:
            return str(_("Save the page first."))
        tests = list(ABTest.objects.filter(landing_page=obj).order_by("-started_at")[:10])
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> ({})</li>',
            (
                (
                    reverse("conversion_staff:abtest", kwargs={"pk": test.pk}),
                    test.name,
                    _("running") if test.is_running else _("ended"),
                )
                for test in tests
            ),
        )
        start = ""
        if not any(test.is_running for test in tests):
            start = format_html(
                '<p><a href="{}?landing_page={}">{}</a></p>',
                reverse("admin:conversion_abtest_add"),
                obj.pk,
                _("Start an A/B test of this page"),
            )
        listing = format_html("<ul>{}</ul>", items) if tests else ""
        return format_html("{}{}", listing, start) or str(_("No A/B tests yet."))

    @admin.display(description=_("public page"))
    def public_link(self, obj: LandingPage) -> str:
        if not obj.is_live or not obj.slug:
            return "—"
        try:
            url = reverse("conversion:landing", kwargs={"slug": obj.slug})
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}">{}</a>', url, _("View"))


@admin.register(CallToAction)
class CallToActionAdmin(TranslationAdmin):
    list_display = ("name", "text", "style", "landing_page", "active", "click_through")
    list_filter = ("style", "active")
    search_fields = ("name", "text")
    list_select_related = ("landing_page",)
    fieldsets = (
        (None, {"fields": ("name", "active", "style")}),
        (_("What citizens see"), {"fields": ("text", "description")}),
        (_("Where it leads"), {"fields": ("landing_page", "target_path")}),
    )

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        rates = click_rates(rows)  # one aggregate query for the page
        for row in rows:
            row.click_rate = rates.get(row.pk)  # type: ignore[attr-defined]
        return changelist

    @admin.display(description=_("impressions / clicks (CTR)"))
    def click_through(self, obj: CallToAction) -> str:
        rate: ClickRate | None = getattr(obj, "click_rate", None)
        if rate is None:
            return "—"
        return f"{rate.impressions} / {rate.clicks} ({percent(rate.rate)})"

    def save_model(
        self, request: HttpRequest, obj: CallToAction, form: ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            action="conversion.cta_changed" if change else "conversion.cta_created",
            obj=obj,
            request=request,
        )
        # Articles showing it are cached whole.
        transaction.on_commit(public_pages_invalidate)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(public_pages_invalidate)

    def delete_model(self, request: HttpRequest, obj: CallToAction) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(public_pages_invalidate)

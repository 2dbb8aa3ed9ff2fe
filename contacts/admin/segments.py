"""Segments in the admin: a validated rules editor with a live member count, and snapshots."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts.models import Segment, SegmentSnapshot
from contacts.segments import rules_validate, segment_count, segment_snapshot_take

RULES_HELP = _(
    'The rule language, as JSON. Groups: {"all": [...]}, {"any": [...]}, {"not": ...}. '
    'Conditions, e.g. {"field": "district", "op": "eq", "value": "Centro"}, '
    '{"topic": "movilidad"}, {"consent": "newsletter"}, '
    '{"behaviour": {"kind": "email_open", "days": 30, "min": 1}}. '
    "An empty object {} matches every contact."
)


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ("name", "description", "kind", "rules")
        help_texts = {"rules": RULES_HELP}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules = self.fields.get("rules")
        if rules is None:  # a view-only form
            return
        rules.widget = forms.Textarea(attrs={"rows": 14, "cols": 80, "spellcheck": "false",
                                             "class": "vLargeTextField segment-rules"})
        try:
            url = reverse("contacts_segments:segment-count")
        except NoReverseMatch:  # the staff URLs are not wired: the editor works without it
            return
        # Progressive enhancement: htmx posts the whole form (with its CSRF token) as the
        # staff member types, and swaps in the count or the validation errors.
        rules.widget.attrs.update({
            "hx-post": url,
            "hx-trigger": "input changed delay:600ms",
            "hx-target": "#segment-live-count",
            "hx-swap": "outerHTML",
            "hx-sync": "this:replace",
            "hx-vals": json.dumps({"segment": self.instance.pk or ""}),
            "aria-describedby": "segment-live-count",
        })

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        rules = cleaned.get("rules")
        if "rules" not in cleaned:
            return cleaned
        if rules is None:
            cleaned["rules"] = rules = {}
        if cleaned.get("kind") == Segment.Kind.STATIC:
            if rules:
                self.add_error("rules", _("A static list has no rules: leave them empty ({})."))
            return cleaned
        try:
            rules_validate(rules, segment=self.instance if self.instance.pk else None)
        except ValidationError as error:
            self.add_error("rules", error)
        return cleaned


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ("name", "kind", "last_snapshot_size", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    readonly_fields = ("members_now",)
    fields = ("name", "description", "kind", "rules", "members_now")
    actions = ("take_snapshot",)
    change_form_template = "admin/contacts/segment/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Segment]:
        latest = SegmentSnapshot.objects.filter(segment=OuterRef("pk")).order_by("-taken_at")
        return super().get_queryset(request).annotate(
            last_snapshot=Subquery(latest.values("size")[:1])
        )

    @admin.display(description=_("last snapshot"), ordering="last_snapshot")
    def last_snapshot_size(self, obj: Segment) -> Any:
        size = getattr(obj, "last_snapshot", None)
        return "—" if size is None else size

    @admin.display(description=_("members now"))
    def members_now(self, obj: Segment | None) -> SafeString:
        # Counted with the compiled query's COUNT only: no rows are fetched.
        context: dict[str, Any] = {"count": None, "errors": []}
        if obj is not None and obj.pk:
            try:
                context["count"] = segment_count(segment=obj)
            except ValidationError as error:
                context["errors"] = error.messages
        return SafeString(render_to_string("contacts/segments/count.html", context))

    # A snapshot writes rows (and freezes who a send reaches): changing, not looking.
    @admin.action(description=_("Take a snapshot of the members"), permissions=["change"])
    def take_snapshot(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        taken = []
        for segment in queryset:
            try:
                taken.append(segment_snapshot_take(segment=segment))
            except ValidationError as error:
                self.message_user(request, f"{segment}: {'; '.join(error.messages)}",
                                  messages.ERROR)
        if taken:
            self.message_user(
                request,
                ngettext("Snapshot taken: %(sizes)s.", "Snapshots taken: %(sizes)s.", len(taken))
                % {"sizes": ", ".join(f"{s.segment} ({s.size})" for s in taken)},
                messages.SUCCESS,
            )

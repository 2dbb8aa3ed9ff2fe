"""Admin of `campaigns`: write e-mails (merge tags checked at save), set up campaigns and start
them; the deliveries' counts show how a send is going."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from campaigns.models import Campaign, Email
from campaigns.sending import CampaignNotSendable, campaign_audience, campaign_start
from content.admin import ProseEditorNonceMixin


@admin.register(Email)
class EmailAdmin(ProseEditorNonceMixin, TranslationAdmin):
    list_display = ("name", "subject", "updated_at")
    search_fields = ("name", "subject")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "status", "recipients", "sent", "failed", "started_at")
    list_filter = ("status", "purpose")
    search_fields = ("name",)
    autocomplete_fields = ("segments", "excluded_segments")
    readonly_fields = ("status", "started_at", "finished_at", "audience_count")
    fields = (
        "name",
        "email",
        "purpose",
        "topic",
        "segments",
        "excluded_segments",
        "scheduled_at",
        "audience_count",
        "status",
        "started_at",
        "finished_at",
    )
    actions = ("start_sending",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .select_related("email")
            .annotate(
                recipients_count=Count("deliveries"),
                sent_count=Count("deliveries", filter=Q(deliveries__status="sent")),
                failed_count=Count("deliveries", filter=Q(deliveries__status="failed")),
            )
        )

    @admin.display(description=_("recipients"), ordering="recipients_count")
    def recipients(self, campaign: Any) -> int:
        return int(campaign.recipients_count)

    @admin.display(description=_("sent"), ordering="sent_count")
    def sent(self, campaign: Any) -> int:
        return int(campaign.sent_count)

    @admin.display(description=_("failed"), ordering="failed_count")
    def failed(self, campaign: Any) -> int:
        return int(campaign.failed_count)

    @admin.display(description=_("audience now"))
    def audience_count(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "—"
        return str(campaign_audience(campaign=campaign).count())

    @admin.action(description=_("Start sending the selected campaigns"), permissions=["send"])
    def start_sending(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset:
            try:
                recipients = campaign_start(campaign=campaign)
            except CampaignNotSendable as error:
                self.message_user(request, f"{campaign}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(campaign)s: sending to %(count)s recipients.")
                    % {"campaign": campaign, "count": recipients},
                    messages.SUCCESS,
                )

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        # A time to send at schedules a draft; clearing it takes the campaign back to draft.
        if obj.status == Campaign.Status.DRAFT and obj.scheduled_at is not None:
            obj.status = Campaign.Status.SCHEDULED
        elif obj.status == Campaign.Status.SCHEDULED and obj.scheduled_at is None:
            obj.status = Campaign.Status.DRAFT
        super().save_model(request, obj, form, change)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("campaigns.send_campaign"))

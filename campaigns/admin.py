"""Admin of `campaigns`: write e-mails (merge tags checked at save), set up campaigns and start
them; the deliveries' counts show how a send is going."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from campaigns import admin_bulletins  # noqa: F401 -- registers the bulletin items' admin
from campaigns.audience import campaign_audience
from campaigns.models import Campaign, Email, Sender
from campaigns.senders import SenderForm, sender_save, sender_verification_request
from content.admin import ProseEditorNonceMixin


@admin.register(Email)
class EmailAdmin(ProseEditorNonceMixin, TranslationAdmin):
    list_display = ("name", "subject", "updated_at")
    search_fields = ("name", "subject")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "email",
        "status",
        "recipients",
        "sent",
        "failed",
        "started_at",
        "staff_page",
    )
    list_filter = ("status", "purpose")
    search_fields = ("name",)
    autocomplete_fields = ("segments", "excluded_segments", "variants")
    # When and whether it is sent is decided on the campaign's page, through the checklist.
    readonly_fields = (
        "status",
        "scheduled_at",
        "local_time",
        "started_at",
        "finished_at",
        "audience_count",
        "staff_page",
        "ab_winner",
    )
    fields = (
        "name",
        "email",
        "purpose",
        "topic",
        "segments",
        "excluded_segments",
        "track_clicks",
        "track_opens",
        "variants",
        "ab_percent",
        "ab_wait_hours",
        "ab_metric",
        "ab_winner",
        "audience_count",
        "staff_page",
        "status",
        "scheduled_at",
        "local_time",
        "started_at",
        "finished_at",
    )

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

    @admin.display(description=_("checklist, preview and sending"))
    def staff_page(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("campaigns_staff:campaign", kwargs={"pk": campaign.pk}),
            _("Review and send"),
        )

    def response_add(
        self, request: HttpRequest, obj: Campaign, post_url_continue: Any = None
    ) -> Any:
        # After creating a campaign, staff go on to its page: check, preview, test and send.
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            return HttpResponseRedirect(reverse("campaigns_staff:campaign", kwargs={"pk": obj.pk}))
        return super().response_add(request, obj, post_url_continue)

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        # Once it has started, what was sent is history: nothing of it may change.
        if obj is not None and obj.status not in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}:
            return self.fields
        return self.readonly_fields


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    """Adding a sender, or changing its address, e-mails a link that verifies it
    (campaigns.senders); until then no e-mail can use it."""

    form = SenderForm
    list_display = ("name", "email", "is_verified", "verified_at")
    search_fields = ("name", "email")
    readonly_fields = ("verified_at",)
    actions = ("resend_verification",)

    @admin.display(description=_("verified"), boolean=True)
    def is_verified(self, sender: Sender) -> bool:
        return sender.is_verified

    def save_model(self, request: HttpRequest, obj: Sender, form: Any, change: bool) -> None:
        address_changed = not change or "email" in form.changed_data
        sender_save(sender=obj, address_changed=address_changed)
        if address_changed:
            self.message_user(
                request,
                _("We sent a link to %(address)s: the sender can be used once it is followed.")
                % {"address": obj.email},
            )

    @admin.action(description=_("Send the verification link again"), permissions=["change"])
    def resend_verification(self, request: HttpRequest, queryset: QuerySet[Sender]) -> None:
        for sender in queryset:
            if sender.is_verified:
                self.message_user(
                    request, _("%(sender)s is already verified.") % {"sender": sender}
                )
                continue
            sender_verification_request(sender=sender)
            self.message_user(
                request, _("We sent the link to %(address)s again.") % {"address": sender.email}
            )

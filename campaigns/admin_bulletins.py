"""Admin of bulletins: what was announced, to which topic, and in which campaign of each
frequency. Read-only: items are recorded by `campaigns.bulletins` when content goes live."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from campaigns.models import BulletinItem, Campaign
from inbound.lib.admin import ReadOnlyAdmin


def _campaign_link(campaign: Campaign | None, done: Any) -> str:
    if campaign is not None:
        url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        return format_html('<a href="{}">{}</a>', url, campaign.get_status_display())
    return str(_("nobody to send it to")) if done else "—"


@admin.register(BulletinItem)
class BulletinItemAdmin(ReadOnlyAdmin):
    list_display = ("title", "topic", "published_at", "immediate", "daily", "weekly")
    list_filter = ("topic",)
    search_fields = ("title",)
    date_hierarchy = "published_at"
    list_select_related = ("topic", "immediate_campaign", "daily_campaign", "weekly_campaign")

    @admin.display(description=_("at once"))
    def immediate(self, item: BulletinItem) -> str:
        return _campaign_link(item.immediate_campaign, item.immediate_at)

    @admin.display(description=_("daily digest"))
    def daily(self, item: BulletinItem) -> str:
        return _campaign_link(item.daily_campaign, item.daily_at)

    @admin.display(description=_("weekly digest"))
    def weekly(self, item: BulletinItem) -> str:
        return _campaign_link(item.weekly_campaign, item.weekly_at)

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("E-mail campaigns")

    def ready(self) -> None:
        # The ESP's webhooks reach us through anymail's signals (campaigns.webhooks).
        from anymail.signals import inbound, tracking

        from campaigns import webhooks

        tracking.connect(webhooks.tracking_received, dispatch_uid="campaigns.webhooks.tracking")
        inbound.connect(webhooks.inbound_received, dispatch_uid="campaigns.webhooks.inbound")


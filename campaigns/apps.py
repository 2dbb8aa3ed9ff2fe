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

        # Interactions enrol contacts in workflows (campaigns.workflow_triggers); a saved
        # workflow makes this process read the triggers again.
        from django.db.models.signals import post_delete, post_save

        from campaigns import workflow_triggers as triggers
        from campaigns.models import Workflow
        from contacts.signals import touchpoint_recorded

        touchpoint_recorded.connect(triggers.touchpoint_enrol, dispatch_uid="campaigns.triggers")
        forget = triggers.touchpoint_triggers_forget
        post_save.connect(forget, sender=Workflow, dispatch_uid="campaigns.triggers.saved")
        post_delete.connect(forget, sender=Workflow, dispatch_uid="campaigns.triggers.deleted")

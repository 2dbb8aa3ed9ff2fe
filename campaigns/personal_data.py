"""What `campaigns` holds about citizens, declared in the personal-data registry
(`inbound.lib.personal_data`): deliveries. Workflows' are in `workflows.personal_data`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from inbound.lib.personal_data import (
    Erase,
    Holder,
    Identity,
    Retention,
    exempt_field,
    exempt_models,
    register,
)


def _deliveries_cancel(rows: QuerySet[Any], identity: Identity) -> None:
    from campaigns.models import Delivery

    rows.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, claimed_until=None, error="erased"
    )


def _deliveries_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    def iso(value: Any) -> Any:
        return value.isoformat() if value else None

    return [
        {
            "campaign": d.campaign.name,
            "subject": (d.email or d.campaign.email).subject,
            "status": d.status,
            "sent_at": iso(d.sent_at),
            "opened_at": iso(d.opened_at),
            "clicked_at": iso(d.clicked_at),
            "language": d.language,
        }
        for d in rows.select_related("campaign__email", "email").order_by("sent_at", "pk")
    ]


register(
    Holder(
        model="campaigns.Delivery",
        contact="contact",
        fields=(),
        scrub=("error",),
        erase=Erase.REDACT,
        cancel=_deliveries_cancel,
        export="deliveries",
        exporter=_deliveries_export,
        retention=(Retention("deliveries", "next_attempt_at"),),
        note="Rows stay for campaign reports; pending ones are skipped, never sent after "
        "erasure; SMTP errors quoting the address are scrubbed.",
    ),
)

exempt_field("campaigns.Sender.email", why="the institution's own sending address")
exempt_field("campaigns.Email.reply_to", why="the institution's reply address")
exempt_models(
    {
        "campaigns.Sender": "the institution's verified senders",
        "campaigns.Email": "e-mail templates",
        "campaigns.Campaign": "campaign definitions",
        "campaigns.CampaignLink": "tracked links of a campaign",
        "campaigns.BulletinItem": "published content announced in bulletins",
    }
)

"""What staff do to a campaign from its page, and the progress they watch.

Sending now and scheduling both pass the quality gate (`campaigns.gate`): errors refuse, and
warnings must be confirmed by the person sending. A scheduled campaign is checked again when its
time comes; if something broke meanwhile (a link, the audience) it goes back to draft with the
reason, instead of going out. Pause, resume and cancel take effect before the next chunk of 500
messages (about a second of sending). Every one of these is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.gate import Gate, campaign_gate
from campaigns.models import Campaign, Delivery
from campaigns.sending import CampaignNotSendable, campaign_start
from inbound.audit import audit_record

RATE_WINDOW = dt.timedelta(seconds=60)


class GateNotPassed(CampaignNotSendable):
    """The checklist refused the send (errors), or has warnings nobody confirmed."""

    def __init__(self, message: str, *, gate: Gate, code: str) -> None:
        super().__init__(message, code=code)
        self.gate = gate


def _gate_enforce(campaign: Campaign, *, confirmed: bool) -> Gate:
    gate = campaign_gate(campaign=campaign)
    if gate.errors:
        raise GateNotPassed(
            _("The checklist found errors: fix them before sending."), gate=gate, code="gate"
        )
    if gate.warnings and not confirmed:
        raise GateNotPassed(
            _("The checklist has warnings: confirm that you want to send anyway."),
            gate=gate,
            code="warnings",
        )
    return gate


def campaign_send_now(
    *, campaign: Campaign, by: Any, confirmed: bool = False, request: Any = None
) -> int:
    """Start sending at once, through the gate; the number of recipients."""
    gate = _gate_enforce(campaign, confirmed=confirmed)
    recipients = campaign_start(campaign=campaign, by=by)
    audit_record(
        action="campaigns.campaign_sent",
        actor=by,
        obj=campaign,
        request=request,
        detail={"recipients": recipients, "warnings": [c.code for c in gate.warnings]},
    )
    return recipients


@transaction.atomic
def campaign_schedule(
    *,
    campaign: Campaign,
    at: dt.datetime,
    local_time: bool,
    by: Any,
    confirmed: bool = False,
    request: Any = None,
) -> None:
    """Send at `at` (and, with `local_time`, Canary Islands contacts at the same clock time)."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}:
        raise CampaignNotSendable(
            _("This campaign has already been sent or is being sent."), code="started"
        )
    if at <= timezone.now():
        raise CampaignNotSendable(_("Choose a time in the future."), code="past")
    gate = _gate_enforce(locked, confirmed=confirmed)
    locked.status = Campaign.Status.SCHEDULED
    locked.scheduled_at = at
    locked.local_time = local_time
    locked.started_by = by if getattr(by, "pk", None) else None
    locked.pause_reason = ""
    locked.save()
    _copy(locked, campaign)
    audit_record(
        action="campaigns.campaign_scheduled",
        actor=by,
        obj=campaign,
        request=request,
        detail={
            "at": at.isoformat(),
            "local_time": local_time,
            "warnings": [c.code for c in gate.warnings],
        },
    )


def _transition(
    campaign: Campaign, *, allowed: set[str], to: str, action: str, by: Any, request: Any
) -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in allowed:
        raise CampaignNotSendable(
            _("This cannot be done to a campaign that is %(status)s.")
            % {"status": locked.get_status_display()},
            code="status",
        )
    locked.status = to
    audit_record(action=action, actor=by, obj=locked, request=request)
    return locked


@transaction.atomic
def campaign_pause(*, campaign: Campaign, by: Any, request: Any = None) -> None:
    locked = _transition(
        campaign,
        allowed={Campaign.Status.SENDING},
        to=Campaign.Status.PAUSED,
        action="campaigns.campaign_paused",
        by=by,
        request=request,
    )
    locked.pause_reason = _("Paused by %(user)s.") % {"user": by.get_username()}
    locked.save(update_fields=["status", "pause_reason", "updated_at"])
    _copy(locked, campaign)


@transaction.atomic
def campaign_resume(*, campaign: Campaign, by: Any, request: Any = None) -> None:
    locked = _transition(
        campaign,
        allowed={Campaign.Status.PAUSED},
        to=Campaign.Status.SENDING,
        action="campaigns.campaign_resumed",
        by=by,
        request=request,
    )
    locked.pause_reason = ""
    locked.save(update_fields=["status", "pause_reason", "updated_at"])
    _copy(locked, campaign)


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by: Any, request: Any = None) -> int:
    """Stop for good: messages not sent yet are skipped. The number skipped."""
    locked = _transition(
        campaign,
        allowed={Campaign.Status.SCHEDULED, Campaign.Status.SENDING, Campaign.Status.PAUSED},
        to=Campaign.Status.CANCELLED,
        action="campaigns.campaign_cancelled",
        by=by,
        request=request,
    )
    locked.finished_at = timezone.now()
    locked.pause_reason = ""
    locked.save(update_fields=["status", "finished_at", "pause_reason", "updated_at"])
    _copy(locked, campaign)
    # A sender holding a lease may still send the message in flight; the rest are skipped.
    return Delivery.objects.filter(campaign=locked, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, error=_("cancelled"), claimed_until=None
    )


def _copy(source: Campaign, target: Campaign) -> None:
    for name in ("status", "scheduled_at", "local_time", "pause_reason", "finished_at"):
        setattr(target, name, getattr(source, name))


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int  # refused or bounced
    skipped: int
    pending: int
    waiting: int  # pending but not due yet (retries with backoff, Canary local time)
    per_minute: int  # sent in the last minute
    eta: dt.timedelta | None

    @property
    def done(self) -> int:
        return self.total - self.pending

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def campaign_progress(*, campaign: Campaign, now: dt.datetime | None = None) -> Progress:
    """Where a send stands, from its deliveries (one aggregate query)."""
    now = now or timezone.now()
    # A complaint came from a delivered message; a bounce means it never arrived.
    sent = [Delivery.Status.SENT, Delivery.Status.COMPLAINED]
    failed = [Delivery.Status.FAILED, Delivery.Status.BOUNCED]
    counts = Delivery.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(status__in=sent)),
        failed=Count("pk", filter=Q(status__in=failed)),
        skipped=Count("pk", filter=Q(status=Delivery.Status.SKIPPED)),
        pending=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
        waiting=Count("pk", filter=Q(status=Delivery.Status.PENDING, next_attempt_at__gt=now)),
        recent=Count("pk", filter=Q(status=Delivery.Status.SENT, sent_at__gte=now - RATE_WINDOW)),
    )
    per_minute = int(counts["recent"])
    eta = None
    if per_minute and counts["pending"] and campaign.status == Campaign.Status.SENDING:
        eta = dt.timedelta(seconds=round(60 * counts["pending"] / per_minute))
    return Progress(
        total=counts["total"],
        sent=counts["sent"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        pending=counts["pending"],
        waiting=counts["waiting"],
        per_minute=per_minute,
        eta=eta,
    )

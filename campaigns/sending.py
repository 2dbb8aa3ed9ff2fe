"""The sending engine: a campaign's audience frozen into deliveries, sent in leased chunks.

1. `campaign_start` locks the campaign, writes one `Delivery` per recipient with one
   INSERT…SELECT (`unique(campaign, contact)`: a second start, or a double click, adds nothing)
   and marks it SENDING; an empty audience or a campaign already started is refused.
2. Beat's tick (`campaigns_send_due`, every 2 s on the `email` queue) leases chunks of due
   deliveries (`FOR UPDATE SKIP LOCKED`, then `claimed_until`, committed before anything is
   sent), renders each message from the campaign's e-mail compiled once per language
   (`campaigns.rendering`), sends it over one reused SMTP connection and marks the row SENT with
   its Message-ID in one short statement right after it left. A sender killed mid-chunk loses
   nothing (its lease expires and the rows are taken again) and sends at most the message in
   flight twice; a row marked SENT is never sent again.
3. SMTP answers: 4xx (and a dropped connection) are retried with backoff; 5xx marks the
   delivery FAILED with the server's reason, except a recipient refused as non-existent
   ("550 5.1.1"): that delivery is BOUNCED and the address suppressed (`campaigns.suppression`,
   as Mautic does). A contact who may no longer be e-mailed for the
   campaign's purpose when their turn comes (unsubscribed, bounced, erased) is SKIPPED.
4. When no delivery is left pending the campaign is SENT.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.abtests import ab_assign, ab_testing, abtests_decide_due
from campaigns.audience import campaign_audience
from campaigns.gate import campaign_gate
from campaigns.models import Campaign, Delivery
from campaigns.rendering import CampaignRenderer
from campaigns.suppression import address_is_gone, bounce_record
from campaigns.tracking import email_sent_record
from contacts.selectors import contacts_emailable
from inbound.lib.errors import DomainError
from inbound.lib.leases import lease_claim
from inbound.lib.mailing import send_prepared
from inbound.lib.throttle import Throttle

logger = logging.getLogger(__name__)

CHUNK = 500
TICK_BUDGET_SECONDS = 20.0
MAX_ATTEMPTS = 5
# Below this many messages in a tick, a few failures say nothing about the provider.
PAUSE_MIN_ATTEMPTS = 50


def _lease() -> dt.timedelta:
    # Far longer than a chunk takes; only a sender that died lets it run out.
    return dt.timedelta(seconds=getattr(settings, "CAMPAIGNS_LEASE_SECONDS", 120))


class CampaignNotSendable(DomainError):
    status = 409


# --- Audience ---------------------------------------------------------------------------------


def deliveries_materialise(*, campaign: Campaign, due: dt.datetime | None = None) -> int:
    """One INSERT…SELECT of the audience into deliveries; returns how many rows it added.

    Each delivery is due at `due` (now by default); with `campaign.local_time`, contacts of the
    Canary Islands (postal codes 35 and 38) are due at the same clock time in Atlantic/Canary.
    """
    due = due or timezone.now()
    due_there: Any = Value(due)
    if campaign.local_time:
        due_there = Case(
            When(CANARY_ISLANDS, then=Value(canary_time(due))),
            default=Value(due),
            output_field=DateTimeField(),
        )
    audience = (
        campaign_audience(campaign=campaign)
        .order_by()
        .annotate(recipient=F("pk"), recipient_language=F("language"), recipient_due=due_there)
        .values("recipient", "recipient_language", "recipient_due")
    )
    select_sql, select_params = audience.query.sql_with_params()
    ops = connection.ops
    table = ops.quote_name(Delivery._meta.db_table)
    columns = (
        "campaign_id, contact_id, language, status, attempts, next_attempt_at, message_id, "
        "error, in_ab_test"
    )
    insert = ops.insert_statement(on_conflict=OnConflict.IGNORE)
    suffix = ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], []) or ""
    sql = (
        f"{insert} {table} ({columns}) "  # noqa: S608 (our table; the audience is a compiled queryset)
        f"SELECT %s, audience.recipient, audience.recipient_language, %s, 0, "
        f"audience.recipient_due, '', '', %s FROM ({select_sql}) audience {suffix}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk, Delivery.Status.PENDING, False, *select_params])
        return max(cursor.rowcount, 0)


CANARY_ISLANDS = Q(postal_code__startswith="35") | Q(postal_code__startswith="38")


def canary_time(at: dt.datetime) -> dt.datetime:
    """The moment the clocks of the Canary Islands show what Madrid's show at `at`."""
    wall = at.astimezone(ZoneInfo("Europe/Madrid")).replace(tzinfo=None)
    return wall.replace(tzinfo=ZoneInfo("Atlantic/Canary"))


@transaction.atomic
def campaign_start(*, campaign: Campaign, by: Any = None) -> int:
    """Freeze the audience and start sending; returns the number of recipients.

    Raises CampaignNotSendable when the campaign was already started (a double click sends
    once) or nobody in its audience may receive it. The quality gate is the caller's
    (`campaigns.control`).
    """
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}:
        raise CampaignNotSendable(
            _("This campaign has already been sent or is being sent."), code="started"
        )
    due = locked.scheduled_at if locked.status == Campaign.Status.SCHEDULED else None
    recipients = deliveries_materialise(campaign=locked, due=due)
    if recipients == 0:
        raise CampaignNotSendable(
            _("Nobody in this audience may receive this e-mail: nothing was sent."),
            code="empty",
        )
    if locked.variants.exists():
        ab_assign(campaign=locked, recipients=recipients, now=due or timezone.now())
    locked.status = Campaign.Status.SENDING
    locked.started_at = timezone.now()
    locked.started_by = by if getattr(by, "pk", None) else locked.started_by
    locked.pause_reason = ""
    locked.save(update_fields=["status", "started_at", "started_by", "pause_reason", "updated_at"])
    campaign.status, campaign.started_at = locked.status, locked.started_at
    return recipients


# --- Sending ----------------------------------------------------------------------------------


def deliveries_claim(*, campaign: Campaign, limit: int, now: dt.datetime) -> list[int]:
    """Lease up to `limit` due deliveries of the campaign; their ids. While an A/B test is
    undecided, only the deliveries in the test are due."""
    due = Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    )
    if campaign.ab_decided_at is None and ab_testing(campaign):
        due = due.filter(email__isnull=False)
    return lease_claim(due, limit=limit, lease=_lease())


def deliveries_send(
    *,
    campaign: Campaign,
    ids: Iterable[int],
    connection: BaseEmailBackend,
    renderer: CampaignRenderer,
    now: dt.datetime,
    throttle: Throttle | None = None,
) -> int:
    """Send the leased deliveries `ids`; returns how many were sent."""
    deliveries = list(
        Delivery.objects.filter(pk__in=list(ids)).select_related("contact").order_by("pk")
    )
    # Still allowed now? (An unsubscribe or a bounce since the start wins.)
    allowed = set(
        contacts_emailable(purpose=campaign.purpose, topic=campaign.topic)
        .filter(pk__in=[d.contact_id for d in deliveries])
        .values_list("pk", flat=True)
    )
    sent = 0
    with _commits_without_waiting_for_disk():
        try:
            for delivery in deliveries:
                if throttle is not None and delivery.contact_id in allowed:
                    throttle.wait()
                sent += _deliver(delivery, allowed, connection, renderer, now=now)
        finally:
            # One INSERT for the chunk, not one per message: a sender killed mid-chunk leaves
            # its sent messages without this touchpoint (their deliveries still say SENT).
            email_sent_record(
                campaign=campaign,
                deliveries=[d for d in deliveries if d.status == Delivery.Status.SENT],
            )
    return sent


@contextlib.contextmanager
def _commits_without_waiting_for_disk() -> Iterator[None]:
    """PostgreSQL's asynchronous commit for the rows marked sent, one commit per message.

    Waiting for the disk on each of them would bound a send to a few hundred messages a second.
    A killed worker loses nothing this way (PostgreSQL has the commit); only a crash of the
    database server itself could forget the last fraction of a second of marks, and those
    messages would be sent again, never lost.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _deliver(
    delivery: Delivery,
    allowed: set[int],
    connection: BaseEmailBackend,
    renderer: CampaignRenderer,
    *,
    now: dt.datetime,
) -> int:
    """Send one delivery and record what happened; 1 when it was sent."""
    if delivery.contact_id not in allowed:
        _finish(delivery, Delivery.Status.SKIPPED, error=_("no longer allowed to e-mail"))
        return 0
    message = renderer.message(delivery.contact, email_id=delivery.email_id)
    try:
        send_prepared(message, connection)
    except smtplib.SMTPResponseException as error:  # the server answered 4xx or 5xx
        _failed(delivery, error.smtp_code, _reason(error.smtp_error), now=now)
        return 0
    except smtplib.SMTPRecipientsRefused as error:
        code, reason = next(iter(error.recipients.values()), (550, b""))
        if address_is_gone(code, _reason(reason)):  # "550 5.1.1 user unknown": never again
            error_text = f"{code} {_reason(reason)}"
            bounce_record(
                contact=delivery.contact, delivery=delivery, reason=error_text, source="smtp"
            )
            return 0
        _failed(delivery, code, _reason(reason), now=now)
        return 0
    except (smtplib.SMTPException, OSError) as error:
        connection.close()  # dropped or refused: the next message opens a new one
        _failed(delivery, 421, f"{type(error).__name__}: {error}", now=now)
        return 0
    _sent(delivery.pk, message.message_id)
    delivery.status, delivery.message_id = Delivery.Status.SENT, message.message_id
    return 1


def _reason(reason: bytes | str) -> str:
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _sent(delivery_id: int, message_id: str) -> None:
    # One plain statement, committed at once: this row is never sent again, whatever happens to
    # the rest of the chunk. (The ORM's UPDATE costs ten times more Python per message.)
    table = connection.ops.quote_name(Delivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, sent_at = %s, "  # noqa: S608 (our table)
            "message_id = %s, claimed_until = NULL WHERE id = %s",
            [Delivery.Status.SENT, timezone.now(), message_id[:255], delivery_id],
        )


def _finish(delivery: Delivery, status: str, *, error: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, error=error[:500], claimed_until=None
    )


def _failed(delivery: Delivery, code: int, reason: str, *, now: dt.datetime) -> None:
    """5xx: failed for good with the server's reason; 4xx: again later, with backoff."""
    error = f"{code} {reason}".strip()[:500]
    attempts = delivery.attempts + 1
    if code >= 500 or attempts >= MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, attempts=attempts, error=error, claimed_until=None
        )
        return
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        error=error,
        claimed_until=None,
        # 1, 2, 4, 8 minutes between attempts.
        next_attempt_at=now + dt.timedelta(minutes=2 ** (attempts - 1)),
    )
    logger.warning("delivery %s: attempt %s failed: %s", delivery.pk, attempts, error)


def campaign_send(
    *, campaign: Campaign, connection: BaseEmailBackend, deadline: float, now: dt.datetime
) -> int:
    """Send the campaign's due deliveries until none is left, `deadline` (monotonic) passes,
    or staff pause or cancel it (checked before each chunk). Pauses it on its own when too many
    messages fail: a provider refusing everything should not burn the whole audience."""
    renderer = CampaignRenderer(campaign)
    throttle = sending_throttle(connection)
    sent = attempted = errors = 0
    while time.monotonic() < deadline:
        if not Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).exists():
            return sent
        ids = deliveries_claim(campaign=campaign, limit=CHUNK, now=now)
        if not ids:
            break
        chunk_sent = deliveries_send(
            campaign=campaign,
            ids=ids,
            connection=connection,
            renderer=renderer,
            now=now,
            throttle=throttle,
        )
        sent += chunk_sent
        attempted += len(ids)
        errors += (
            Delivery.objects.filter(pk__in=ids)
            .exclude(status__in=[Delivery.Status.SENT, Delivery.Status.SKIPPED])
            .count()
        )
        if _too_many_errors(attempted, errors):
            _pause_for_errors(campaign, attempted, errors)
            return sent
    _finish_if_done(campaign)
    return sent


def sending_throttle(connection: BaseEmailBackend) -> Throttle | None:
    """The provider's shared rate limit (`CAMPAIGNS_RATE_PER_SECOND`; 0: none)."""
    rate = float(getattr(settings, "CAMPAIGNS_RATE_PER_SECOND", 0) or 0)
    if rate <= 0:
        return None
    backend = type(connection)
    provider = f"{backend.__module__}.{backend.__qualname__}:{getattr(connection, 'host', '')}"
    return Throttle(provider, rate)


def _too_many_errors(attempted: int, errors: int) -> bool:
    percent = int(getattr(settings, "CAMPAIGNS_PAUSE_ERROR_PERCENT", 20))
    return attempted >= PAUSE_MIN_ATTEMPTS and errors * 100 > percent * attempted


def _pause_for_errors(campaign: Campaign, attempted: int, errors: int) -> None:
    reason = _(
        "Paused on its own: %(errors)d of the last %(attempted)d messages failed. Check the "
        "errors of the deliveries and the mail server, then resume."
    ) % {"errors": errors, "attempted": attempted}
    Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
        status=Campaign.Status.PAUSED, pause_reason=reason[:300], updated_at=timezone.now()
    )
    logger.error("campaign %s paused: %s of %s messages failed", campaign.pk, errors, attempted)


def _finish_if_done(campaign: Campaign) -> None:
    if campaign.deliveries.filter(status=Delivery.Status.PENDING).exists():
        return
    # A workflow's e-mail step keeps its campaign open: the next enrollment adds a delivery.
    Campaign.objects.filter(
        pk=campaign.pk, status=Campaign.Status.SENDING, workflow_step__isnull=True
    ).update(status=Campaign.Status.SENT, finished_at=timezone.now(), updated_at=timezone.now())


def campaign_start_scheduled(*, campaign: Campaign) -> int:
    """Beat's start of a scheduled campaign whose time has come; 0 when it went back to draft."""
    try:
        campaign_gate_errors = campaign_gate(campaign=campaign).errors
        if campaign_gate_errors:
            raise CampaignNotSendable(
                _("The checklist found errors when its time came: %(errors)s")
                % {"errors": " ".join(check.message for check in campaign_gate_errors)},
                code="gate",
            )
        return campaign_start(campaign=campaign, by=campaign.started_by)
    except CampaignNotSendable as error:
        logger.warning("scheduled campaign %s not sent: %s", campaign.pk, error)
        reason = _("The scheduled send did not start: %(reason)s") % {"reason": error}
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SCHEDULED).update(
            status=Campaign.Status.DRAFT, pause_reason=reason[:300], updated_at=timezone.now()
        )
        return 0


def campaigns_send_due(now: dt.datetime | None = None) -> SendResult:
    """Beat's tick: start scheduled campaigns whose time has come, then send what is due of
    every campaign being sent, within the tick's budget."""
    now = now or timezone.now()
    abtests_decide_due(now)
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
    ).select_related("email"):
        campaign_start_scheduled(campaign=campaign)
    deadline = time.monotonic() + TICK_BUDGET_SECONDS
    backend = mail.get_connection()
    sent = 0
    try:
        for campaign in Campaign.objects.filter(status=Campaign.Status.SENDING).select_related(
            "email"
        ):
            sent += campaign_send(campaign=campaign, connection=backend, deadline=deadline, now=now)
    finally:
        backend.close()
    return SendResult(sent=sent, more=time.monotonic() >= deadline)


@dataclass(frozen=True)
class SendResult:
    sent: int
    more: bool  # the budget ran out with work left: the task goes on at once

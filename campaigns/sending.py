"""The sending engine: a campaign's audience frozen into deliveries, sent in leased chunks.

1. `campaign_start` locks the campaign, writes one `Delivery` per recipient with one
   INSERT…SELECT (`unique(campaign, contact)`: a second start, or a double click, adds nothing)
   and marks it SENDING; an empty audience or a campaign already started is refused.
2. Beat's tick (`campaigns_send_due`, every 2 s on the `email` queue) leases chunks of due
   deliveries (`FOR UPDATE SKIP LOCKED`, then `claimed_until`, committed before anything is
   sent), renders each message from the campaign's e-mail compiled once per language
   (`campaigns.rendering`: the compiled bytes joined with the recipient's values) and hands it
   to the mail server over one reused, pipelined SMTP connection (`inbound.lib.courier`: one
   round trip per message, overlapped with rendering the next). Every `GROUP` messages, the
   ones the server took are marked SENT with their Message-IDs in one statement. The group's
   ids go to the `campaigns.sending.journal` log before the first of them leaves. A sender
   killed mid-chunk loses nothing (its lease expires and the rows are taken again) and sends
   again at most the group in flight, whose ids its journal names; a row marked SENT is never
   sent again.
3. SMTP answers: 4xx (and a dropped connection) are retried with backoff; 5xx marks the
   delivery FAILED with the server's reason, except a recipient refused as non-existent
   ("550 5.1.1"): that delivery is BOUNCED and the address suppressed (`campaigns.suppression`,
   as Mautic does). A contact who may no longer be e-mailed for the
   campaign's purpose when their turn comes (unsubscribed, bounced, erased) is SKIPPED.
4. When no delivery is left pending the campaign is SENT.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Iterable
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
from campaigns.merge import CONTACT_FIELDS
from campaigns.models import Campaign, Delivery
from campaigns.rendering import CampaignRenderer
from campaigns.suppression import address_is_gone, bounce_record
from campaigns.tracking import email_sent_record
from contacts.models import Contact
from contacts.selectors import contacts_emailable
from inbound.lib.courier import Courier, Outcome
from inbound.lib.errors import DomainError
from inbound.lib.leases import commits_unflushed, lease_claim, pk_in
from inbound.lib.throttle import Throttle

logger = logging.getLogger(__name__)
# Each group's delivery ids before they leave: after a crash, what may have gone twice.
journal = logging.getLogger("campaigns.sending.journal")

CHUNK = 500
# Messages handed to the server between two records of what was sent: the most a sender killed
# with SIGKILL may send twice (recording each message alone costs a statement per message).
GROUP = 100
# What sending reads of a delivery and its recipient (merge tags, signed links, the language):
# a whole contact row costs four times as much to load, most of it dates nobody reads here.
DELIVERY_FIELDS = ("id", "contact_id", "email_id", "attempts", "status", "campaign_id")
RECIPIENT_FIELDS = ("id", "language", "properties", "anonymised_at", *CONTACT_FIELDS)
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
    # In the order of the due index (campaign, status, next_attempt_at): the scan stops at
    # `limit` rows. Ordered by id, every claim would sort all the campaign's pending rows.
    return lease_claim(due, limit=limit, lease=_lease(), order_by=("next_attempt_at",))


def deliveries_send(
    *,
    campaign: Campaign,
    ids: Iterable[int],
    connection: BaseEmailBackend,
    renderer: CampaignRenderer,
    now: dt.datetime,
    throttle: Throttle | None = None,
) -> int:
    """Send the leased deliveries `ids`, a group of `GROUP` at a time; how many were sent."""
    return _chunk_send(campaign, ids, connection, renderer, now=now, throttle=throttle).sent


@dataclass(frozen=True)
class ChunkResult:
    sent: int
    refused: int  # refused, bounced or to be tried again: what counts towards a pause


def _chunk_send(
    campaign: Campaign,
    ids: Iterable[int],
    connection: BaseEmailBackend,
    renderer: CampaignRenderer,
    *,
    now: dt.datetime,
    throttle: Throttle | None,
) -> ChunkResult:
    deliveries = list(
        Delivery.objects.filter(pk_in(list(ids)))
        .select_related("contact")
        .only(*DELIVERY_FIELDS, *(f"contact__{name}" for name in RECIPIENT_FIELDS))
        .order_by("pk")
    )
    # Still allowed now? (An unsubscribe or a bounce since the start wins.)
    allowed = set(
        contacts_emailable(purpose=campaign.purpose, topic=campaign.topic)
        .filter(pk_in([d.contact_id for d in deliveries]))
        .order_by()
        .values_list("pk", flat=True)
    )
    courier = Courier(connection)
    refused = 0
    with commits_unflushed():
        try:
            for start in range(0, len(deliveries), GROUP):
                group = deliveries[start : start + GROUP]
                refused += _group_send(
                    group, allowed, courier, renderer, now=now, throttle=throttle
                )
        finally:
            # One INSERT for the chunk, not one per message: a sender killed mid-chunk leaves
            # its sent messages without this touchpoint (their deliveries still say SENT).
            sent = [d for d in deliveries if d.status == Delivery.Status.SENT]
            email_sent_record(campaign=campaign, deliveries=sent)
    return ChunkResult(sent=len(sent), refused=refused)


def _group_send(
    group: list[Delivery],
    allowed: set[int],
    courier: Courier,
    renderer: CampaignRenderer,
    *,
    now: dt.datetime,
    throttle: Throttle | None,
) -> int:
    """Hand a group of deliveries to the mail server, then record in one statement the ones it
    took; how many it refused. The group's ids are written to the journal before the first one
    leaves: if the sender is killed before the record, those are the messages that may go twice
    (none is lost: their lease runs out and they are sent again)."""
    handed: dict[int, Delivery] = {}
    for delivery in group:
        if delivery.contact_id in allowed:
            handed[delivery.pk] = delivery
        else:
            _finish(delivery, Delivery.Status.SKIPPED, error=_("no longer allowed to e-mail"))
    if not handed:
        return 0
    journal.info(
        "campaign %s: %d deliveries handed to the mail server: %s",
        renderer.campaign.pk,
        len(handed),
        ",".join(map(str, handed)),
    )
    outcomes: list[Outcome] = []
    try:
        for delivery in handed.values():
            if throttle is not None:
                throttle.wait()
            contact, email_id = delivery.contact, delivery.email_id
            if courier.smtp:
                outcomes += courier.hand(delivery.pk, renderer.outgoing(contact, email_id))
            else:
                outcomes += courier.hand(delivery.pk, renderer.message(contact, email_id))
    finally:
        outcomes += courier.collect()
        accepted, refused = [], 0
        for outcome in outcomes:
            delivery = handed[outcome.key]
            if outcome.error is None:
                delivery.status, delivery.message_id = Delivery.Status.SENT, outcome.message_id
                accepted.append(delivery)
            else:
                refused += 1
                _refused(delivery, outcome.error, now=now)
        _sent_record(accepted)
    return refused


def _refused(delivery: Delivery, error: Exception, *, now: dt.datetime) -> None:
    """What the server's answer (or a lost connection) means for the delivery."""
    if isinstance(error, smtplib.SMTPResponseException):  # the server answered 4xx or 5xx
        _failed(delivery, error.smtp_code, _reason(error.smtp_error), now=now)
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reason = next(iter(error.recipients.values()), (550, b""))
        if address_is_gone(code, _reason(reason)):  # "550 5.1.1 user unknown": never again
            error_text = f"{code} {_reason(reason)}"
            contact = Contact.objects.get(pk=delivery.contact_id)  # all of it: it changes
            bounce_record(contact=contact, delivery=delivery, reason=error_text, source="smtp")
        else:
            _failed(delivery, code, _reason(reason), now=now)
    else:  # dropped or refused connection: the courier opens a new one for the next message
        _failed(delivery, 421, f"{type(error).__name__}: {error}", now=now)


def _reason(reason: bytes | str) -> str:
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _sent_record(deliveries: list[Delivery]) -> None:
    """Mark the deliveries SENT with their Message-IDs: one statement, committed at once, so
    none of them is ever sent again whatever happens to the rest of the chunk."""
    if not deliveries:
        return
    table = connection.ops.quote_name(Delivery._meta.db_table)
    sent_at = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS d SET status = %s, attempts = d.attempts + 1, "  # noqa: S608 (our table)
                "sent_at = %s, message_id = v.message_id, claimed_until = NULL "
                "FROM unnest(%s::bigint[], %s::varchar[]) AS v(id, message_id) WHERE d.id = v.id",
                [
                    Delivery.Status.SENT,
                    sent_at,
                    [d.pk for d in deliveries],
                    [d.message_id[:255] for d in deliveries],
                ],
            )
            return
        cursor.executemany(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, sent_at = %s, "  # noqa: S608 (our table)
            "message_id = %s, claimed_until = NULL WHERE id = %s",
            [(Delivery.Status.SENT, sent_at, d.message_id[:255], d.pk) for d in deliveries],
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
        chunk = _chunk_send(campaign, ids, connection, renderer, now=now, throttle=throttle)
        sent += chunk.sent
        attempted += len(ids)
        errors += chunk.refused
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

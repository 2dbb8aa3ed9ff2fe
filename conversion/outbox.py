"""The outbox relay: the side effects of submissions, sent after the submission committed.

`submission_create` writes a `SideEffect` row per e-mail or webhook in the submission's own
transaction. Once it commits, the request wakes the relay (`conversion.wake`: one relay task, at
most one per process every half second), and beat runs `effects_due` every 2 s on the `email`
queue as the safety net. A broker outage can neither slow nor fail a submission: the rows wait.

How a relay takes rows: `effects_claim` leases a batch (`inbound.lib.leases`: `claimed_until`
under `SELECT … FOR UPDATE SKIP LOCKED`, committed before anything is sent), so two relays
never take the same row. Each row is marked done in its own short statement right after it was
sent: a relay killed mid-batch loses nothing (its lease expires and another relay takes the
rest) and sends at most the message in flight twice. A failure is recorded on the row and
retried with backoff, then marked FAILED; it never stops the batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from conversion.models import SideEffect, Submission
from inbound.lib.leases import commits_unflushed, lease_claim, relay_sweep

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# A sweep drains everything due in batches, within this budget (beat ticks every 2 s; a tick
# that finds a sweep still running takes other rows, never the same ones).
SWEEP_BATCH = 500
SWEEP_BUDGET_SECONDS = 20.0
# Longer than any batch takes to send: a lease only ever expires when its relay died.
LEASE = dt.timedelta(minutes=5)

# Per batch, by kind, what a sender looks up or renders once for many rows
# (`effects.OptinBatch`: contacts, per-address counts, e-mail templates).
BatchCache = dict[Any, Any]


class Withheld(Exception):
    """A side effect that must never be sent (over the per-address limit, the address erased):
    the row is CANCELLED with the reason, not retried."""


Sender = Callable[[Submission, BaseEmailBackend | None, BatchCache], None]


def effects_claim(*, now: dt.datetime, limit: int, submission_id: int | None = None) -> list[int]:
    """Lease up to `limit` due side effects to this relay; returns their ids, oldest first."""
    due = SideEffect.objects.filter(status=SideEffect.Status.PENDING, next_attempt_at__lte=now)
    if submission_id is not None:
        due = due.filter(submission_id=submission_id)
    return lease_claim(due, limit=limit, lease=LEASE, order_by=("next_attempt_at", "pk"))


def effects_due(now: dt.datetime | None = None) -> int:
    """Send every pending side effect whose time has come; returns how many were sent.

    One SMTP connection serves the whole sweep, opened at the first message (most ticks find
    nothing); a failure closes it and the next message opens another.
    """
    # Each claim looks at the clock anew: applying a submission queues its opt-in e-mail, which
    # the same sweep then sends.
    with commits_unflushed():
        return relay_sweep(
            claim=lambda limit: effects_claim(now=now or timezone.now(), limit=limit),
            send=lambda ids, backend: effects_send(
                ids, now=now or timezone.now(), connection=backend
            ),
            batch=SWEEP_BATCH,
            budget=SWEEP_BUDGET_SECONDS,
        )


def effects_process(submission_id: int) -> int:
    """Send the due side effects of one submission now (applying it first queues its opt-in
    e-mail, sent in the next round); returns how many were sent."""
    sent = 0
    for _round in range(len(SideEffect.Kind)):
        ids = effects_claim(
            now=timezone.now(), limit=len(SideEffect.Kind), submission_id=submission_id
        )
        if not ids:
            break
        sent += effects_send(ids, now=timezone.now())
    return sent


def effects_send(
    ids: list[int], *, now: dt.datetime, connection: BaseEmailBackend | None = None
) -> int:
    """Send the leased side effects `ids`; returns how many were sent."""
    effects = list(
        SideEffect.objects.filter(pk__in=ids)
        .select_related("submission__form", "submission__contact", "submission__landing_page")
        .order_by("next_attempt_at", "pk")
    )
    cache: BatchCache = {}
    optin = [e.submission for e in effects if e.kind == SideEffect.Kind.OPTIN_EMAIL]
    if optin:
        from conversion.effects import optin_batch

        cache[SideEffect.Kind.OPTIN_EMAIL] = optin_batch(optin)
    applying = [e for e in effects if e.kind == SideEffect.Kind.APPLY]
    applied = _apply_batch(applying) if applying else set()
    sent = len(applied)
    for effect in effects:
        if effect.pk in applied:
            continue
        try:
            SENDERS[effect.kind](effect.submission, connection, cache)
        except Withheld as reason:  # never to be sent (a limit, an erased address)
            _effect_withheld(effect, str(reason))
            continue
        except Exception as error:  # any failure is recorded on the row and retried
            if connection is not None:
                connection.close()  # maybe broken: the next message opens a new one
            _effect_failed(effect, error, now=now)
            continue
        _effect_done(effect.pk)
        sent += 1
    return sent


def _apply_batch(effects: list[SideEffect]) -> set[int]:
    """Apply the batch's submissions together (`applying.submissions_apply`) and mark their rows
    done in the same transaction; the ids done. On any failure nothing of the batch is kept and
    the rows go one by one instead, so one bad submission holds up no other."""
    from conversion.applying import submissions_apply

    try:
        with transaction.atomic():
            submissions_apply(submission_ids=[e.submission_id for e in effects])
            SideEffect.objects.filter(pk__in=[e.pk for e in effects]).update(
                status=SideEffect.Status.DONE,
                attempts=F("attempts") + 1,
                done_at=timezone.now(),
                last_error="",
                claimed_until=None,
            )
    except Exception:
        logger.exception("applying a batch of %s submissions failed; one by one", len(effects))
        return set()
    return {e.pk for e in effects}


def effect_retry_now(effects: QuerySet[SideEffect]) -> int:
    """Staff asked to retry: failed or waiting rows become due now."""
    return effects.filter(~Q(status=SideEffect.Status.DONE)).update(
        status=SideEffect.Status.PENDING, next_attempt_at=timezone.now()
    )


def _effect_done(effect_id: int) -> None:
    # One plain statement, committed at once: this row is never sent again, whatever happens
    # to the rest of the batch. (The ORM's UPDATE costs ten times more Python here.)
    table = connection.ops.quote_name(SideEffect._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, done_at = %s, "  # noqa: S608 (the table name is ours)
            "last_error = '', claimed_until = NULL WHERE id = %s",
            [SideEffect.Status.DONE, timezone.now(), effect_id],
        )


def _effect_withheld(effect: SideEffect, reason: str) -> None:
    SideEffect.objects.filter(pk=effect.pk).update(
        status=SideEffect.Status.CANCELLED,
        attempts=effect.attempts + 1,
        last_error=reason[:500],
        claimed_until=None,
        done_at=timezone.now(),
    )
    logger.info("side effect %s (%s) withheld: %s", effect.pk, effect.kind, reason)


def _effect_failed(effect: SideEffect, error: Exception, *, now: dt.datetime) -> None:
    effect.attempts += 1
    effect.last_error = f"{type(error).__name__}: {error}"[:500]
    effect.claimed_until = None
    if effect.attempts >= MAX_ATTEMPTS:
        effect.status = SideEffect.Status.FAILED
        logger.error(
            "side effect %s (%s, submission %s) failed for good: %s",
            effect.pk,
            effect.kind,
            effect.submission_id,
            effect.last_error,
        )
    else:
        # 1, 2, 4, 8, 16 minutes between attempts.
        effect.next_attempt_at = now + dt.timedelta(minutes=2 ** (effect.attempts - 1))
        logger.warning(
            "side effect %s (%s) attempt %s failed: %s",
            effect.pk,
            effect.kind,
            effect.attempts,
            effect.last_error,
        )
    effect.save(
        update_fields=["attempts", "last_error", "status", "next_attempt_at", "claimed_until"]
    )


def _apply(submission: Submission, connection: BaseEmailBackend | None, cache: BatchCache) -> None:
    from conversion.applying import submission_apply

    submission_apply(submission_id=submission.pk)


def _send_optin(
    submission: Submission, connection: BaseEmailBackend | None, cache: BatchCache
) -> None:
    from conversion.effects import optin_email_send

    optin_email_send(
        submission, connection=connection, batch=cache.get(SideEffect.Kind.OPTIN_EMAIL)
    )


def _send_staff(
    submission: Submission, connection: BaseEmailBackend | None, cache: BatchCache
) -> None:
    from conversion.effects import staff_notification_send

    staff_notification_send(submission, connection=connection)


def _send_webhook(
    submission: Submission, connection: BaseEmailBackend | None, cache: BatchCache
) -> None:
    from conversion.effects import webhook_send

    webhook_send(submission)


SENDERS: dict[str, Sender] = {
    SideEffect.Kind.APPLY: _apply,
    SideEffect.Kind.OPTIN_EMAIL: _send_optin,
    SideEffect.Kind.STAFF_NOTIFICATION: _send_staff,
    SideEffect.Kind.WEBHOOK: _send_webhook,
}

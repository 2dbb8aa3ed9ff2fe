"""Leases: how a worker takes rows of a queue in the database (outbox, deliveries, workflows).

`lease_claim` takes up to `limit` rows under `SELECT … FOR UPDATE SKIP LOCKED`, sets their
`claimed_until` and commits before the caller does anything with them. Two workers never take
the same row; a worker that dies leaves its rows to be taken again once the lease has run out.
The caller marks each row done as soon as its work is done (one short statement), so a killed
worker repeats at most the row it was working on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone


def lease_claim(
    due: QuerySet[Any], *, limit: int, lease: dt.timedelta, order_by: tuple[str, ...] = ("pk",)
) -> list[int]:
    """Lease up to `limit` rows of `due` that no live lease holds; their ids, in `order_by`.

    The model needs a nullable `claimed_until` DateTimeField.
    """
    clock = timezone.now()
    free = due.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=clock))
    with transaction.atomic():
        ids = list(
            free.select_for_update(skip_locked=True)
            .order_by(*order_by)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            due.model._default_manager.filter(pk_in(ids)).update(claimed_until=clock + lease)
    return ids


@contextlib.contextmanager
def commits_unflushed() -> Iterator[None]:
    """This connection's commits stop waiting for the WAL flush while the block runs (PostgreSQL
    `synchronous_commit = off`; elsewhere nothing changes).

    For a relay's bookkeeping, where each row is marked done by its own commit right after its
    message left: that wait was most of a message's time. A committed mark is visible at once to
    every other relay, so a relay that dies still repeats at most the message in flight; only a
    crash of the database server itself can forget the marks of its last fraction of a second
    (at most three `wal_writer_delay`s), whose messages are then sent again.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def pk_in(ids: list[int]) -> Q:
    """`pk__in=ids` for a batch of a queue: on PostgreSQL one array parameter instead of one
    placeholder per id, so that psycopg reuses the statement's parsing instead of parsing a
    statement of hundreds of placeholders (a millisecond) at every batch."""
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (list(ids),)))


def relay_sweep(
    *,
    claim: Callable[[int], list[int]],
    send: Callable[[list[int], BaseEmailBackend], int],
    batch: int,
    budget: float,
    settle: int = 2,
) -> int:
    """An outbox relay's sweep: claim batches and send them until `settle` claims in a row
    come back short of `batch` (or empty), or `budget` seconds have passed; the sum of what
    `send` reports. One mail connection serves the whole sweep, opened by the backend at its
    first message (most sweeps find nothing).

    A short claim took everything due; the next one takes what sending it queued (a
    submission applied queues its opt-in e-mail). Past that, rows arriving one by one are left
    to the next wake or tick: a sweep chasing them would send batches of a few rows, each
    paying the whole batch's look-ups (under 300 submissions a second, twice the CPU a
    submission).
    """
    started = time.monotonic()
    done = 0
    short = 0
    backend = mail.get_connection()
    try:
        while short < settle and time.monotonic() - started < budget:
            ids = claim(batch)
            if not ids:
                break
            short = short + 1 if len(ids) < batch else 0
            done += send(ids, backend)
    finally:
        backend.close()
    return done

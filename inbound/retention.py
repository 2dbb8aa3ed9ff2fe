"""Retention: every kind of personal data is kept for a set time (`settings.RETENTION`, days),
then deleted or redacted by one nightly beat job, in batches.

The kinds and what happens to each are declared with the models in the personal-data registry
(`inbound.lib.personal_data`, `Holder.retention`); two kinds live outside it: the lockout logs
of django-axes (`login_attempts`) and the staff audit log (`audit`, append-only in PostgreSQL:
the purge is the one writer allowed to delete from it, past its long period).
docs/operations.md lists the kinds and their defaults.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import FileField, QuerySet
from django.utils import timezone

from inbound.lib.personal_data import (
    Erase,
    Holder,
    Retention,
    field_blank,
    files_delete,
    retention_redact,
    retention_rows,
    retention_rules,
)

logger = logging.getLogger(__name__)

BATCH = 1000


def _cutoff(kind: str, now: dt.datetime) -> dt.datetime | None:
    days = settings.RETENTION.get(kind)
    return None if days is None else now - dt.timedelta(days=days)


def _in_batches(rows: QuerySet[Any], apply: Any) -> int:
    """Apply `apply` to `rows` a batch of ids at a time, each batch its own transaction: a long
    purge never holds locks for long, and one interrupted resumes where it stopped."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by().values_list("pk", flat=True)[:BATCH])
            if not ids:
                return done
            apply(rows.model._default_manager.filter(pk__in=ids))
            done += len(ids)
        if len(ids) < BATCH:
            return done


def _purge_rule(holder: Holder, rule: Retention, cutoff: dt.datetime) -> int:
    rows = retention_rows(holder, rule, cutoff=cutoff)
    if rule.action == Erase.DELETE:
        return _in_batches(rows, lambda batch: _delete(holder, batch))
    model = rows.model
    blanks = {
        name: model._meta.get_field(name)
        for name in (*holder.fields, *holder.scrub)
        if not model._meta.get_field(name).is_relation
    }
    done_already = {name: field_blank(f) for name, f in blanks.items()}
    pending = rows.exclude(**done_already) if done_already else rows
    return _in_batches(pending, lambda batch: retention_redact(holder, batch))


def _delete(holder: Holder, rows: QuerySet[Any]) -> None:
    model = rows.model
    files_delete(
        rows, [n for n in holder.fields if isinstance(model._meta.get_field(n), FileField)]
    )
    rows.delete()


def _audit_purge(cutoff: dt.datetime) -> int:
    from inbound.models import AuditEntry

    def delete(batch: QuerySet[Any]) -> None:
        if connection.vendor != "postgresql":
            batch._raw_delete(batch.db)  # the model refuses deletes; its own retention may
            return
        # The append-only trigger lets this statement, and nothing after it, delete old entries
        # (switched off again at once: this may run inside a caller's longer transaction).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL inbound.retention_purge = 'on'")
            try:
                batch._raw_delete(batch.db)
            finally:
                cursor.execute("SET LOCAL inbound.retention_purge = 'off'")

    return _in_batches(AuditEntry.objects.filter(at__lt=cutoff), delete)


def _login_attempts_purge(cutoff: dt.datetime) -> int:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    done = _in_batches(AccessLog.objects.filter(attempt_time__lt=cutoff), _plain_delete)
    done += _in_batches(AccessFailureLog.objects.filter(attempt_time__lt=cutoff), _plain_delete)
    return done + _in_batches(AccessAttempt.objects.filter(attempt_time__lt=cutoff), _plain_delete)


def _plain_delete(rows: QuerySet[Any]) -> None:
    rows.delete()


def retention_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete or redact everything kept past its period; {kind: rows handled}."""
    now = now or timezone.now()
    report: dict[str, int] = {}
    for holder, rule in retention_rules():
        cutoff = _cutoff(rule.kind, now)
        if cutoff is not None:
            handled = _purge_rule(holder, rule, cutoff)
            report[rule.kind] = report.get(rule.kind, 0) + handled
    if (cutoff := _cutoff("login_attempts", now)) is not None:
        report["login_attempts"] = _login_attempts_purge(cutoff)
    if (cutoff := _cutoff("audit", now)) is not None:
        report["audit"] = _audit_purge(cutoff)
    logger.info("retention purge: %s", report)
    return report

"""Celery tasks of the contact import: ids in, the services do the work."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from contacts import imports
from contacts.imports import import_job_run
from contacts.models import ImportJob


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def import_header_read(self, job_id: int) -> None:  # type: ignore[no-untyped-def]
    """Read the column names of an uploaded XLSX: the request never opens one."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    try:
        imports.import_header_read(job=job)
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error) from error


@shared_task
def imports_headers_sweep() -> int:
    """Read the headers a lost broker message left unread (the upload's task never ran)."""
    return imports.import_headers_sweep()


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def import_run(self, job_id: int) -> None:  # type: ignore[no-untyped-def]
    """Import one uploaded file. A retry resumes after the batches already committed."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    try:
        import_job_run(job=job)
    except (OperationalError, InterfaceError) as error:
        if self.request.retries >= self.max_retries:
            # Out of retries: say so on the progress page instead of "running" for ever.
            ImportJob.objects.filter(pk=job_id).update(
                status=ImportJob.Status.FAILED, finished_at=timezone.now())
            raise
        raise self.retry(exc=error) from error


@shared_task
def imports_abandoned_purge() -> int:
    """Delete uploads left at the mapping step for a day: they hold personal data."""
    stale = ImportJob.objects.filter(
        status=ImportJob.Status.PENDING, created_at__lt=timezone.now() - timedelta(days=1)
    ).exclude(file="")
    purged = 0
    for job in stale:
        job.file.delete(save=False)
        job.status = ImportJob.Status.FAILED
        job.header = []  # the first row of a file without column names is a person's data
        job.save(update_fields=["file", "status", "header"])
        purged += 1
    return purged

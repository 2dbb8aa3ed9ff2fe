"""The Celery app. Configuration lives in settings (CELERY_*), schedules included."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inbound.settings")

app = Celery("inbound")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _filesystem_broker_folders(sender: Celery, **kwargs: object) -> None:
    # kombu's filesystem transport (the no-server default) expects its folders to exist.
    # Read Django's settings, not `sender.conf`: the app is still being configured here, and
    # reading its conf would configure it again (endless recursion).
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _yield_to_requests(**kwargs: object) -> None:
    """Background work yields the CPU to citizens' requests on a machine both share.

    Every task of a worker can wait (the outbox relay, a campaign, an import); a citizen waiting
    for the next page cannot. Raised once in the worker's main process, before its pool forks,
    so every pool process (and an embedded beat) inherits it. Alone on its machine, or in a
    container of its own, a worker runs as fast as before: niceness only orders who runs first
    when both want the same core.
    """
    from django.conf import settings

    if settings.WORKER_NICENESS > 0:
        os.nice(settings.WORKER_NICENESS)

"""The Celery app. Configuration lives in settings (CELERY_*), schedules included."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inbound.settings")

app = Celery("inbound")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

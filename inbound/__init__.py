"""Inbound: the project package (settings, URLs, Celery app) and the staff/audit app."""

from inbound.celery import app as celery_app

__all__ = ["celery_app"]

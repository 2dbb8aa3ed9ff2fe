"""Fixtures of the conversion tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Celery publishes to a port where nothing listens (the connection is refused)."""
    from inbound.celery import app as celery_app

    celery_app.conf.broker_url  # noqa: B018 -- load the configuration before changing it
    monkeypatch.setattr(celery_app, "_pool", None)  # the next publish connects anew
    # ... and so does the producer pool, which would otherwise keep the refused broker for the
    # tests after this one.
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})

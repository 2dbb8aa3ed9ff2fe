"""Waking the outbox relay when a submission commits, so its e-mails leave within seconds.

Beat's tick (`conversion.tasks.effects_sweep`, every 2 s) is the safety net; this is the fast
path. After the submission's transaction commits, the request publishes one relay task to the
`email` queue. What the request may pay for it is bounded:

- no database statement: the dedupe is a clock in this process, not a row or a cache key;
- at most one publish per process per WAKE_INTERVAL seconds: the sweep a wake starts takes every
  row due at the time it claims (and what applying them queues), so 300 submissions a second
  publish a few tasks a second, not 300, each applying a batch of them;
- a broker that refuses the publish costs the request nothing but a logged warning (one attempt,
  never a wait: `inbound.lib.broker.request_publish`), and the next attempt of this process
  waits WAKE_BACKOFF seconds: the rows wait in the outbox for the tick, which nothing here
  replaces.

The task is published by name so that this module imports neither the relay nor the services
that call it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction

from inbound.lib.broker import request_publish

logger = logging.getLogger(__name__)

RELAY_TASK = "conversion.tasks.effects_sweep"
WAKE_INTERVAL = 0.5
WAKE_BACKOFF = 10.0
# A wake still queued this long after it was sent is worth nothing the tick does not do.
WAKE_EXPIRES = 60

_next_wake_at = 0.0  # monotonic clock; a race between threads costs one extra wake, no more


def effects_wake() -> None:
    """Once the current transaction commits, ask a worker to run the outbox relay now."""
    if settings.CONVERSION_RELAY_WAKE:
        transaction.on_commit(_relay_enqueue)


def _relay_enqueue() -> None:
    global _next_wake_at
    now = time.monotonic()
    if now < _next_wake_at:
        return  # a wake sent moments ago will take this submission's rows too
    _next_wake_at = now + WAKE_INTERVAL
    try:
        request_publish(RELAY_TASK, queue="email", expires=WAKE_EXPIRES)
    except Exception as error:
        # Whatever the broker does (refused, reset mid-command, a client error of the
        # transport's own), the stored submission is answered: a wake is never worth an error
        # page. Seen: a Redis stopped under load reset pooled connections with an error that is
        # not kombu's OperationalError, and answered eight stored submissions with a 500.
        _next_wake_at = now + WAKE_BACKOFF
        logger.warning("outbox relay not woken (the tick will take the rows): %r", error)

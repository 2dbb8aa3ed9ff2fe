"""Where Celery's messages go: Redis in production, kombu's filesystem transport otherwise."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any


def celery_broker(redis_url: str, folder: Path, namespace: str = "") -> tuple[str, dict[str, Any]]:
    """The broker URL and transport options; `namespace` isolates runs sharing one broker."""
    if redis_url:
        options: dict[str, Any] = {
            # A task not acknowledged within this time is handed to another worker. It must
            # exceed the longest a task can run: we keep no long countdowns (schedules live in
            # the database), so one hour is safe. See docs/operations.md.
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            "socket_timeout": 5,
        }
        if namespace:
            options["global_keyprefix"] = f"{namespace}:"
        return redis_url, options
    base = folder / namespace if namespace else folder
    return "filesystem://", {
        "data_folder_in": str(base / "queue"),
        "data_folder_out": str(base / "queue"),
        "processed_folder": str(base / "processed"),
        "store_processed": False,
        "control_folder": str(base / "control"),
    }


# One connection per process for what a request publishes (`request_publish`), made on first use
# (and anew when the broker URL changes), with the URL it was made for.
_request_connection: tuple[str, Any] | None = None
_request_lock = threading.Lock()


def request_publish(
    task: str,
    *,
    kwargs: dict[str, Any] | None = None,
    queue: str | None = None,
    expires: float | None = None,
) -> None:
    """Publish `task` from a web request: one attempt to reach the broker, never a wait.

    Celery's pooled connections retry a broker that went away for their whole connect timeout,
    so the first publish after a failed one waited about 6 s before raising: in an outage each
    web process held a citizen's stored submission that long, past any client's patience. This
    process's connection for requests tries once (`max_retries` 0) and raises kombu's error at
    once; the caller logs it and serves the page. It reconnects at the next publish. Routed as
    any task (CELERY_TASK_ROUTES) unless `queue` says otherwise.
    """
    from celery import current_app

    global _request_connection
    with _request_lock:  # a kombu connection serves one thread at a time
        url = str(current_app.conf.broker_url)
        if _request_connection is None or _request_connection[0] != url:
            if _request_connection is not None:
                _request_connection[1].release()
            transport = {**current_app.conf.broker_transport_options, "max_retries": 0}
            connection = current_app.connection_for_write(url, transport_options=transport)
            _request_connection = (url, connection)
        options: dict[str, Any] = {
            "expires": expires,
            "retry": False,
            "connection": _request_connection[1],
        }
        if queue:
            options["queue"] = queue
        registered = current_app.tasks.get(task)
        if registered is not None:  # runs in place where tasks run eagerly (tests, scripts)
            registered.apply_async(kwargs=kwargs, **options)
        else:
            current_app.send_task(task, kwargs=kwargs, **options)

"""Where Celery's messages go: Redis in production, kombu's filesystem transport otherwise."""

from __future__ import annotations

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

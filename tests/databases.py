"""Databases for the processes tests start, and throwaway copies of the test database.

A bench migrates, seeds and fills the database it is given, so its smoke tests must never give
it the configured DATABASE_URL (a developer's data, or another run's). They give it a copy of a
snapshot of the test database taken just after pytest-django migrated it, before any test wrote
to it: a copy costs a fraction of a second (a PostgreSQL template, a file copy for SQLite) where
migrating a new database costs half a minute.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_copies = itertools.count(1)


def database_url(settings_dict: dict[str, Any]) -> str:
    """DATABASE_URL for the database `settings_dict` names (Django's DATABASES entry)."""
    from urllib.parse import quote

    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = quote(settings_dict.get("USER") or "")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"])
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


@dataclass(frozen=True)
class Snapshot:
    """The migrated, empty test database, kept under another name (a file for SQLite)."""

    settings_dict: dict[str, Any]  # the test database's, with NAME the snapshot's

    @property
    def is_sqlite(self) -> bool:
        return str(self.settings_dict["ENGINE"]).endswith("sqlite3")

    def copy(self, folder: Path) -> tuple[str, str]:
        """A new database with the snapshot's content: its URL and its name, for `drop`."""
        if self.is_sqlite:
            target = str(folder / f"bench-{next(_copies)}.sqlite3")
            shutil.copyfile(self.settings_dict["NAME"], target)
        else:
            target = f"{self.settings_dict['NAME']}_{next(_copies)}"
            _postgres_admin(f"DROP DATABASE IF EXISTS {_quoted(target)} WITH (FORCE)")
            _postgres_admin(
                f"CREATE DATABASE {_quoted(target)} TEMPLATE {_quoted(self.settings_dict['NAME'])}"
            )
        return database_url({**self.settings_dict, "NAME": target}), target

    def drop(self, name: str | None = None) -> None:
        """Remove a copy, or the snapshot itself when no name is given."""
        name = name or self.settings_dict["NAME"]
        if self.is_sqlite:
            Path(name).unlink(missing_ok=True)
        else:
            # FORCE: a bench killed by a timeout may leave a server behind still connected.
            _postgres_admin(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")


def snapshot_take() -> Snapshot:
    """Snapshot the test database as it is now; call it before any test writes to it."""
    from django.db import connection

    source = dict(connection.settings_dict)
    name = f"{source['NAME']}_bench"
    snapshot = Snapshot({**source, "NAME": name})
    if snapshot.is_sqlite:
        connection.close()
        shutil.copyfile(source["NAME"], name)
    else:
        connection.close()  # a template database must have no other session
        snapshot.drop()
        _postgres_admin(f"CREATE DATABASE {_quoted(name)} TEMPLATE {_quoted(source['NAME'])}")
    return snapshot


def _quoted(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def _postgres_admin(statement: str) -> None:
    from django.db import connection

    # Connected to the server's "postgres" database, as Django's test database creation is.
    with connection._nodb_cursor() as cursor:
        cursor.execute(statement)

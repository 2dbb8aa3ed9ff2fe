"""Databases for the processes tests start, throwaway copies of the test database, and the
template every pytest-xdist worker's test database is copied from.

A bench migrates, seeds and fills the database it is given, so its smoke tests must never give
it the configured DATABASE_URL (a developer's data, or another run's). They give it a copy of a
snapshot of the test database taken just after pytest-django migrated it, before any test wrote
to it: a copy costs a fraction of a second (a PostgreSQL template, a file copy for SQLite) where
migrating a new database costs half a minute.

The same holds for the test databases themselves: on PostgreSQL under pytest-xdist, the first
worker to need one migrates a template database for the whole run, and every worker's test
database is created from it (Django's TEST["TEMPLATE"]), instead of each worker running every
migration at the same moment on the same cores. The controller names the template and drops it
when the run ends (tests/conftest.py).
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


def template_name() -> str:
    """A name for this run's template of the test database, next to the test database's."""
    import uuid

    from django.db import connection

    return f"{connection.creation._get_test_db_name()}_template_{uuid.uuid4().hex[:8]}"


def template_use(name: str) -> None:
    """Create the test database from the template `name`, migrating the template first unless
    another process of the run already has (PostgreSQL; on SQLite each worker migrates)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection._nodb_cursor() as cursor:
        # One worker migrates while the others wait for it; a session-level lock, so it is
        # released even if this process dies while migrating.
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
        try:
            if not connection.creation._database_exists(cursor, name):
                _template_migrate(name)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [name])
    connection.settings_dict["TEST"]["TEMPLATE"] = name


def _template_migrate(name: str) -> None:
    """Migrate a new database and only then give it the template's name: a worker dying
    halfway leaves no template for the others to copy."""
    from django.core.management import call_command
    from django.db import connection

    building = f"{name}_new"
    _postgres_admin(f"DROP DATABASE IF EXISTS {_quoted(building)} WITH (FORCE)")
    _postgres_admin(f"CREATE DATABASE {_quoted(building)}")
    configured = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = building
    try:
        call_command(
            "migrate", verbosity=0, interactive=False, database=connection.alias, run_syncdb=True
        )
    finally:
        connection.close()  # a template database must have no other session
        connection.settings_dict["NAME"] = configured
    _postgres_admin(f"ALTER DATABASE {_quoted(building)} RENAME TO {_quoted(name)}")


def template_drop(name: str) -> None:
    """Drop the run's template (and a half-migrated one a dead worker left)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    for database in (name, f"{name}_new"):
        _postgres_admin(f"DROP DATABASE IF EXISTS {_quoted(database)} WITH (FORCE)")

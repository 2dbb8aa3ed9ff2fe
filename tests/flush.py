"""Emptying the database after a transactional test (live server, real worker) in a tenth of the
time Django's flush takes.

Django's TransactionTestCase ends each test with `flush`: TRUNCATE of every table (on PostgreSQL
a new file for each table and index, each synced to disk), then the post_migrate signal, which
writes the content types, permissions and role groups again. That is three to four seconds a
test on a busy machine, for tests that wrote to a handful of tables. Here only the tables that
hold rows are emptied, and the rows migrate left (the reference data: content types,
permissions, role groups) are kept: when a test changed them, Django's own flush runs instead
and the reference is taken again.

A module of browser tests can keep more: once its live site is seeded, `layer_keep()` makes the
seeded rows part of the reference, so each test starts from the seeded site without seeding it
again; `layer_drop()` empties them when the module is done (or a test of another kind runs).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import connections, transaction
from django.test import TransactionTestCase

# Per database alias: the tables that hold rows as migrated (_base) or as seeded (_reference,
# the same object when no layer is kept), with a digest of those rows.
_base: dict[str, dict[str, str]] = {}
_reference: dict[str, dict[str, str]] = {}
_tables: dict[str, list[str]] = {}
_triggered: dict[str, set[str]] = {}


def _quoted(connection: Any, table: str) -> str:
    return str(connection.ops.quote_name(table))


def _digest(connection: Any, table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {_quoted(connection, table)}")  # noqa: S608 -- a table name
        rows = sorted(repr(row) for row in cursor.fetchall())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _tables_with_rows(connection: Any) -> list[str]:
    tables = _tables[connection.alias]
    query = " UNION ALL ".join(
        f"SELECT %s WHERE EXISTS (SELECT 1 FROM {_quoted(connection, table)})"  # noqa: S608
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        return [row[0] for row in cursor.fetchall()]


def _tables_with_triggers(connection: Any) -> set[str]:
    """Tables guarded by triggers of our own (append-only ledgers refuse DELETE, not TRUNCATE)."""
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
        )
        return {row[0].strip('"') for row in cursor.fetchall()}


def _rows_now(connection: Any) -> dict[str, str]:
    return {table: _digest(connection, table) for table in _tables_with_rows(connection)}


def reference_take(alias: str = "default") -> None:
    """Remember the tables that hold rows now, as migrate left them, and what they hold."""
    connection = connections[alias]
    _tables[alias] = connection.introspection.django_table_names(
        only_existing=True, include_views=False
    )
    _triggered[alias] = _tables_with_triggers(connection)
    _base[alias] = _reference[alias] = _rows_now(connection)


def layer_kept(alias: str = "default") -> bool:
    return alias in _base and _reference[alias] is not _base[alias]


def layer_keep(alias: str = "default") -> None:
    """Keep the rows written since the reference (a seeded site) after each test from now on."""
    _reference[alias] = _rows_now(connections[alias])


def layer_drop(alias: str = "default") -> None:
    """Empty the kept layer: back to the database as migrated."""
    if not layer_kept(alias):
        return
    _reference[alias] = _base[alias]
    if not tables_empty(alias):
        _django_flush(alias)


def tables_empty(alias: str = "default") -> bool:
    """Empty the tables tests wrote to; False (nothing done) when the reference data changed."""
    if alias not in _reference:
        return False
    connection = connections[alias]
    reference = _reference[alias]
    if any(_digest(connection, table) != digest for table, digest in reference.items()):
        return False
    written = [table for table in _tables_with_rows(connection) if table not in reference]
    if not written:
        return True
    truncated = [table for table in written if table in _triggered[alias]]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's foreign keys are deferrable: checked at commit, once every row is gone.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in written:
            if table not in truncated:
                cursor.execute(f"DELETE FROM {_quoted(connection, table)}")  # noqa: S608
        if truncated:
            cursor.execute(f"TRUNCATE {', '.join(_quoted(connection, t) for t in truncated)}")
    return True


def _django_flush(alias: str) -> None:
    """Django's flush; post_migrate writes the reference data again, under new ids."""
    from django.core.management import call_command

    call_command("flush", verbosity=0, interactive=False, database=alias)
    reference_take(alias)


_django_fixture_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown(self: TransactionTestCase) -> None:
    aliases = list(self._databases_names(include_mirrors=False))  # type: ignore[attr-defined]
    if (
        self.available_apps is None
        and not self.serialized_rollback
        and all(tables_empty(alias) for alias in aliases)
    ):
        return
    _django_fixture_teardown(self)  # type: ignore[no-untyped-call]
    for alias in aliases:  # post_migrate wrote the reference data again, under new ids
        reference_take(alias)


def install() -> None:
    """Empty the database this way after every transactional test of the run."""
    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]

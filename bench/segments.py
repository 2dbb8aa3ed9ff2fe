"""`python -m bench segments`: counting and materialising segments, and importing contacts.

The bench builds its own database (`inbound_bench` on the PostgreSQL server of the URL, dropped
and created afresh; a temporary file on SQLite), migrates it and bulk-loads N contacts with
about ten touchpoints each, their subscriptions and consent records (PostgreSQL: `COPY` with
indexes rebuilt afterwards, as a restore does; SQLite: `executemany`). Then, medians of
`--rounds` runs: counting and materialising a segment of seven conditions (two contact fields,
a topic, a custom property, a behaviour window, a survey score and the email status), the same
for a segment of that segment plus one condition, and the import engine's rows per second on a
CSV file of `--import-rows` rows (a fifth of them updating existing contacts). Last, without a
goal, the nightly jobs over every contact: the lifecycle refresh and persona assignment (the
four demo personas).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import os
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from bench import harness
from bench.harness import BenchError, Figure, Report, Target, at_least, at_most, progress

BENCH = "segments"
BENCH_DATABASE_PREFIX = "inbound_bench_segments"
COUNT_GOAL_S = 1.0
MATERIALISE_GOAL_S = 10.0
IMPORT_GOAL_RPS = 3000.0
SEED = 20260601
TIMESTAMP_POOL = 50_000  # distinct touchpoint times drawn from (formatting each row costs)
DAYS = 180

TOPICS = [
    "movilidad",
    "medio-ambiente",
    "cultura",
    "empleo",
    "servicios-sociales",
    "urbanismo",
    "deportes",
    "educacion",
]
DISTRICTS = [
    "Centro",
    "Ensanche",
    "Ribera",
    "Los Olivos",
    "San Roque",
    "El Prado",
    "La Estación",
    "Las Eras",
    "Valdelobos",
    "Fuente Vieja",
]
SITUATIONS = ["empleado", "autonomo", "desempleado", "estudiante", "jubilado"]
FIRST_NAMES = [
    "María",
    "Antonio",
    "Laura",
    "José",
    "Lucía",
    "Javier",
    "Carmen",
    "Manuel",
    "Ana",
    "David",
    "Marta",
    "Pablo",
    "Elena",
    "Sergio",
    "Paula",
    "Raúl",
]
SURNAMES = [
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
]
KINDS = [
    ("page_view", "attract", 38),
    ("search", "attract", 9),
    ("email_open", "serve", 20),
    ("email_click", "serve", 10),
    ("cta_click", "convert", 6),
    ("form_submit", "convert", 9),
    ("survey_response", "delight", 8),
]
EMAIL_STATUSES = [("active", 88), ("unconfirmed", 4), ("unsubscribed", 5), ("bounced", 3)]

SEGMENT_RULES: dict[str, Any] = {
    "all": [
        {"field": "age", "op": "between", "value": [25, 65]},
        {"field": "language", "op": "eq", "value": "es"},
        {"topic": "movilidad"},
        {"property": "situacion_laboral", "op": "in", "value": ["empleado", "autonomo"]},
        {"behaviour": {"kind": "email_click", "days": 30, "min": 1}},
        {
            "touchpoint_property": {
                "kind": "survey_response",
                "key": "score",
                "op": "lte",
                "value": 6,
            }
        },
        {"field": "email_status", "op": "ne", "value": "unsubscribed"},
    ]
}
NESTED_EXTRA: dict[str, Any] = {
    "field": "district",
    "op": "in",
    "value": ["Centro", "Ensanche", "Ribera", "San Roque"],
}
IMPORT_MAPPING = {
    "0": "email",
    "1": "first_name",
    "2": "last_name",
    "3": "postal_code",
    "4": "district",
    "5": "birth_year",
    "6": "property:situacion_laboral",
    "7": "topic:movilidad",
}


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = harness.parser_for(BENCH, __doc__.splitlines()[0] if __doc__ else BENCH)
    harness.add_database_argument(parser)
    harness.add_size_argument(parser, default=1_000_000, unit="contacts (~10 touchpoints each)")
    parser.add_argument(
        "--rounds", type=harness.positive_int, default=3, help="runs per figure (default: 3)"
    )
    parser.add_argument(
        "--import-rows",
        type=harness.positive_int,
        default=100_000,
        metavar="N",
        help="rows of the CSV file imported (default: 100000)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the bench database afterwards (to read query plans)",
    )
    return parser.parse_args(argv)


# --- The bench database --------------------------------------------------------------------


@dataclass
class BenchDatabase:
    url: str
    vendor: str
    cleanup: Callable[[], None]


def _postgres_server(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }


def create_database(database_url: str) -> BenchDatabase:
    """A fresh, empty database for the bench on the server the URL names."""
    vendor = harness.database_vendor(database_url)
    if vendor == "sqlite":
        directory = tempfile.mkdtemp(prefix="bench-segments-")
        path = os.path.join(directory, "bench.sqlite3")
        return BenchDatabase(
            f"sqlite:///{path}", vendor, lambda: shutil.rmtree(directory, ignore_errors=True)
        )
    if vendor != "postgresql":
        raise BenchError(f"unsupported database {vendor!r}: use PostgreSQL or SQLite")
    import psycopg

    server = _postgres_server(database_url)

    def admin(statement: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
            connection.execute(statement)

    # A name of this run's own: two runs on one server (CI and a developer, two checkouts)
    # never drop each other's database.
    name = f"{BENCH_DATABASE_PREFIX}_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        admin(f"CREATE DATABASE {name}")
    except psycopg.Error as error:
        raise BenchError(f"could not create the database {name}: {error}") from error
    parts = urlsplit(database_url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    # FORCE: the name is this run's, so nobody else's session can be cut.
    return BenchDatabase(url, vendor, lambda: admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def django_setup(url: str) -> None:
    from bench.server import production_environ

    # This bench runs Django in its own process: with the settings production runs with, as
    # the other benches' servers and workers do.
    os.environ.update(production_environ(url))
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log growing with millions of rows
    from django.core.management import call_command

    progress("migrating the bench database")
    with contextlib.redirect_stdout(io.StringIO()):
        call_command("migrate", interactive=False, verbosity=0)


# --- Data -----------------------------------------------------------------------------------


def _weighted(rng: random.Random, items: Sequence[tuple[Any, ...]], k: int) -> list[Any]:
    return rng.choices(items, weights=[item[-1] for item in items], k=k)


class Loader:
    """Streams generated rows into one table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, vendor: str) -> None:
        from django.db import connection

        self.connection = connection
        self.postgres = vendor == "postgresql"

    def timestamp(self, moment: dt.datetime) -> str:
        if self.postgres:
            return moment.strftime("%Y-%m-%d %H:%M:%S+00")
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        with self.connection.cursor() as cursor:
            if self.postgres:
                statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(statement) as copy:
                    chunk: list[str] = []
                    for row in rows:
                        chunk.append("\t".join(r"\N" if v is None else str(v) for v in row) + "\n")
                        count += 1
                        if len(chunk) >= 10_000:
                            copy.write("".join(chunk))
                            chunk = []
                    copy.write("".join(chunk))
            else:
                marks = ", ".join("?" * len(columns))
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                batch: list[Sequence[Any]] = []
                for row in rows:
                    batch.append(row)
                    count += 1
                    if len(batch) >= 10_000:
                        cursor.executemany(statement, batch)
                        batch = []
                if batch:
                    cursor.executemany(statement, batch)
        return count

    @contextlib.contextmanager
    def fast(self, tables: Sequence[str]) -> Iterator[None]:
        """On PostgreSQL, load without secondary indexes or FK triggers, then rebuild them."""
        if not self.postgres:
            yield
            return
        definitions: list[str] = []
        with self.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                    "AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                    [table],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f"DROP INDEX {name}")
                    definitions.append(definition)
            with contextlib.suppress(Exception):
                cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
                progress(f"rebuilding {len(definitions)} indexes")
                cursor.execute("SET maintenance_work_mem = '256MB'")
                for definition in definitions:
                    cursor.execute(definition)


def load_data(vendor: str, size: int) -> dict[str, Figure]:
    from django.db import connection, transaction

    from contacts.models import ContactProperty, Topic

    rng = random.Random(SEED)
    for order, slug in enumerate(TOPICS):
        Topic.objects.create(
            slug=slug, name=slug.capitalize(), name_es=slug.capitalize(), order=order
        )
    topic_ids = dict(Topic.objects.values_list("slug", "pk"))
    ContactProperty.objects.create(
        key="situacion_laboral",
        label="Situación laboral",
        type=ContactProperty.Type.CHOICE,
        choices=SITUATIONS,
    )
    ContactProperty.objects.create(
        key="tiene_hijos", label="Tiene hijos", type=ContactProperty.Type.BOOLEAN
    )
    loader = Loader(vendor)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    year = now.year
    stamps = [
        loader.timestamp(now - dt.timedelta(seconds=rng.randrange(DAYS * 86400)))
        for _n in range(TIMESTAMP_POOL)
    ]
    created = loader.timestamp(now - dt.timedelta(days=DAYS + 1))
    statuses = [s for s, _w in EMAIL_STATUSES]
    status_weights = [w for _s, w in EMAIL_STATUSES]
    kinds = [(k, s) for k, s, _w in KINDS]
    kind_weights = [w for _k, _s, w in KINDS]
    survey_properties = [json.dumps({"score": n, "nps": n}) for n in range(11)]

    def contacts() -> Iterator[tuple[Any, ...]]:
        for pk in range(1, size + 1):
            properties: dict[str, Any] = {"situacion_laboral": rng.choice(SITUATIONS)}
            if rng.random() < 0.8:
                properties["tiene_hijos"] = rng.random() < 0.45
            yield (
                pk,
                f"c{pk}@bench.example",
                rng.choice(FIRST_NAMES),
                f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}",
                "",
                "es" if rng.random() < 0.86 else "en",
                f"2899{pk % 10}",
                DISTRICTS[pk % 10],
                year - rng.randint(16, 90),
                "import",
                "contact",
                rng.choices(statuses, status_weights)[0],
                json.dumps(properties),
                created,
                created,
                rng.choice(stamps),
                1,
            )

    def subscriptions() -> Iterator[tuple[Any, ...]]:
        for pk in range(1, size + 1):
            for slug in rng.sample(TOPICS, rng.choice((0, 1, 1, 2, 2, 3))):
                yield (
                    pk,
                    topic_ids[slug],
                    "active" if rng.random() < 0.9 else "unsubscribed",
                    "immediate",
                    created,
                    created,
                )

    def consents() -> Iterator[tuple[Any, ...]]:
        text = "Acepto recibir información del Ayuntamiento."
        for pk in range(1, size + 1):
            if rng.random() < 0.45:
                yield (
                    pk,
                    "newsletter",
                    None,
                    "consent",
                    "granted",
                    text,
                    "v1",
                    "form",
                    created,
                    "",
                )
            for slug in rng.sample(TOPICS, rng.choice((0, 1, 2))):
                yield (
                    pk,
                    "topic",
                    topic_ids[slug],
                    "consent",
                    "granted",
                    text,
                    "v1",
                    "form",
                    created,
                    "",
                )

    def touchpoints() -> Iterator[tuple[Any, ...]]:
        for pk in range(1, size + 1):
            n = rng.randint(5, 15)
            for (kind, stage), stamp in zip(
                rng.choices(kinds, kind_weights, k=n), rng.choices(stamps, k=n), strict=True
            ):
                properties = (
                    survey_properties[rng.randint(0, 10)] if kind == "survey_response" else "{}"
                )
                yield (stamp, kind, stage, pk, "", "", properties)

    tables = [
        "contacts_contact",
        "contacts_subscription",
        "contacts_consentrecord",
        "contacts_touchpoint",
    ]
    figures: dict[str, Figure] = {}
    started = time.monotonic()
    with transaction.atomic(), loader.fast(tables):
        progress(f"loading {size:,} contacts")
        loader.load(
            "contacts_contact",
            [
                "id",
                "email",
                "first_name",
                "last_name",
                "phone",
                "language",
                "postal_code",
                "district",
                "birth_year",
                "source",
                "lifecycle",
                "email_status",
                "properties",
                "created_at",
                "updated_at",
                "last_activity_at",
                "version",
            ],
            contacts(),
        )
        progress("loading subscriptions and consent records")
        figures["subscriptions"] = loader.load(
            "contacts_subscription",
            ["contact_id", "topic_id", "status", "frequency", "created_at", "updated_at"],
            subscriptions(),
        )
        figures["consent_records"] = loader.load(
            "contacts_consentrecord",
            [
                "contact_id",
                "purpose",
                "topic_id",
                "legal_basis",
                "action",
                "text",
                "text_version",
                "source",
                "occurred_at",
                "ip_hash",
            ],
            consents(),
        )
        progress("loading touchpoints")
        figures["touchpoints"] = loader.load(
            "contacts_touchpoint",
            [
                "occurred_at",
                "kind",
                "stage",
                "contact_id",
                "visitor_key",
                "subject_id",
                "properties",
            ],
            touchpoints(),
        )
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('contacts_contact', 'id'), %s)", [size]
            )
            progress("vacuum analyze")
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    figures["load_s"] = round(time.monotonic() - started, 2)
    return figures


# --- Measurements ---------------------------------------------------------------------------


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def measure_segment(segment: Any, rounds: int) -> tuple[float, float, int]:
    """(median seconds to count, median seconds to materialise, members)."""
    from contacts.segments import segment_count, segment_snapshot_take

    counts = [timed(lambda: segment_count(segment=segment)) for _n in range(rounds)]
    snapshots = [timed(lambda: segment_snapshot_take(segment=segment)) for _n in range(rounds)]
    members = counts[-1][1]
    if snapshots[-1][1].size != members:
        raise BenchError(f"snapshot of {snapshots[-1][1].size} rows for {members} members")
    return (
        round(harness.median(t for t, _r in counts), 4),
        round(harness.median(t for t, _r in snapshots), 4),
        members,
    )


def import_csv(rows: int, size: int) -> bytes:
    rng = random.Random(SEED + 1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "email",
            "nombre",
            "apellidos",
            "codigo_postal",
            "distrito",
            "ano_nacimiento",
            "situacion_laboral",
            "movilidad",
        ]
    )
    year = dt.date.today().year  # noqa: DTZ011 -- a birth year, any zone will do
    # Distinct existing contacts: a repeated email is a reported row, not what we measure.
    updates = iter(rng.sample(range(1, size + 1), min(size, rows // 5)))
    for n in range(rows):
        existing = next(updates, None) if rng.random() < 0.2 else None
        email = f"c{existing}@bench.example" if existing else f"i{n}@import.example"
        writer.writerow(
            [
                email,
                rng.choice(FIRST_NAMES),
                rng.choice(SURNAMES),
                f"2899{n % 10}",
                DISTRICTS[n % 10],
                year - rng.randint(16, 90),
                rng.choice(SITUATIONS),
                "sí" if rng.random() < 0.3 else "",
            ]
        )
    return out.getvalue().encode()


def measure_import(rows: int, size: int) -> dict[str, Figure]:
    try:
        from contacts.imports import file_records, import_rows
    except ImportError as error:
        return {"import_rows_per_s": None, "import_note": f"import engine missing: {error}"}
    data = import_csv(rows, size)
    progress(f"importing {rows:,} CSV rows")

    def run() -> Any:
        records = (record for _number, record in file_records(io.BytesIO(data), "bench.csv"))
        return import_rows(
            rows=records,
            mapping=IMPORT_MAPPING,
            legal_basis="consent",
            consent_text="Formulario en papel de la feria de empleo 2026.",
        )

    seconds, result = timed(run)
    return {
        "import_rows": rows,
        "import_s": round(seconds, 2),
        "import_rows_per_s": round(rows / seconds, 1),
        "import_created": result.created,
        "import_updated": result.updated,
        "import_errors": result.error_count,
    }


def measure_derived() -> dict[str, Figure]:
    """The nightly jobs over every contact: lifecycle stages and persona assignment (no goal)."""
    from contacts.demo import PERSONAS
    from contacts.lifecycle import contacts_lifecycle_refresh
    from contacts.models import Persona
    from contacts.personas import personas_assign

    for spec in PERSONAS:
        Persona.objects.create(**spec)
    progress("refreshing lifecycle stages and assigning personas")
    lifecycle_s, changed = timed(contacts_lifecycle_refresh)
    personas_s, assigned = timed(personas_assign)
    return {
        "lifecycle_refresh_s": round(lifecycle_s, 2),
        "lifecycle_changed": changed,
        "personas_assign_s": round(personas_s, 2),
        "personas_changed": assigned,
    }


def measure(options: argparse.Namespace) -> Report:
    database = create_database(options.database_url)
    try:
        django_setup(database.url)
        from django.db import connection

        from contacts.models import Segment

        figures: dict[str, Figure] = {"database": database.vendor, "size": options.size}
        figures.update(load_data(database.vendor, options.size))
        segment = Segment.objects.create(name="Bench: seven conditions", rules=SEGMENT_RULES)
        nested = Segment.objects.create(
            name="Bench: segment of segment",
            rules={"all": [{"segment": segment.pk}, NESTED_EXTRA]},
        )
        progress("counting and materialising the segments")
        count_s, materialise_s, members = measure_segment(segment, options.rounds)
        nested_count_s, nested_materialise_s, nested_members = measure_segment(
            nested, options.rounds
        )
        figures.update(
            segment_conditions=len(SEGMENT_RULES["all"]),
            segment_members=members,
            segment_count_s=count_s,
            segment_materialise_s=materialise_s,
            nested_members=nested_members,
            nested_count_s=nested_count_s,
            nested_materialise_s=nested_materialise_s,
        )
        figures.update(measure_import(options.import_rows, options.size))
        figures.update(measure_derived())
        targets: dict[str, Target] = {
            "segment_count_s": at_most(count_s, COUNT_GOAL_S),
            "segment_materialise_s": at_most(materialise_s, MATERIALISE_GOAL_S),
            "nested_count_s": at_most(nested_count_s, COUNT_GOAL_S),
            "nested_materialise_s": at_most(nested_materialise_s, MATERIALISE_GOAL_S),
        }
        rate = figures.get("import_rows_per_s")
        if isinstance(rate, float | int):
            targets["import_rows_per_s"] = at_least(float(rate), IMPORT_GOAL_RPS)
        connection.close()
        return Report(figures=figures, targets=targets)
    finally:
        if options.keep:
            progress(f"kept the bench database: {database.url}")
        else:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            database.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))

"""Importing contacts from a CSV or XLSX file: column mapping and the batched upsert.

Files are read by `contacts.import_files`. An XLSX's column names are read in the worker
(`import_header_read`) before the mapping step. The import reads the file twice, both times
streaming: once to check it is well formed and count its rows (a malformed file imports
nothing), once to import. Rows are validated one by one with `contacts.validation` and written
in batches of BATCH_SIZE, each batch in one transaction with a handful of queries, so a
million-row file runs at thousands of rows per second. A bad row is skipped and reported with
its row number; it never stops the rows around it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.import_files import (
    ImportFileError,
    cell_text,
    file_check,
    file_header,
    file_records,
)
from contacts.models import (
    ConsentRecord,
    Contact,
    ContactProperty,
    ImportJob,
    Subscription,
    Tag,
    Tombstone,
    Topic,
)
from contacts.validation import EDITABLE_FIELDS, contact_fields_clean, email_hash, email_normalise
from inbound.audit import audit_record

BATCH_SIZE = 1000
HEADER_WAIT = dt.timedelta(seconds=30)  # then the sweep reads the header the task did not
MAX_REPORTED_ERRORS = 10_000  # the report stays a readable size even for a hopeless file

IGNORE = "ignore"
TAGS = "tags"
PROPERTY_PREFIX = "property:"
TOPIC_PREFIX = "topic:"
FIELD_TARGETS = ("email", *EDITABLE_FIELDS)
TRUTHY = {"1", "x", "true", "yes", "y", "sí", "si", "s"}

# Header names seen in the institution's spreadsheets, compared without accents, case or
# punctuation.
HEADER_GUESSES: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "e-mail",
        "mail",
        "correo",
        "correo electronico",
        "email address",
        "direccion de correo",
        "correu",
        "correu electronic",
        "posta elektronikoa",
    ),
    "first_name": ("nombre", "first name", "firstname", "given name", "name", "nom", "izena"),
    "last_name": (
        "apellidos",
        "apellido",
        "last name",
        "lastname",
        "surname",
        "family name",
        "cognoms",
        "abizenak",
    ),
    "phone": ("telefono", "phone", "movil", "mobile", "tel", "telf", "telephone", "celular"),
    "language": ("idioma", "language", "lengua", "lang", "llengua", "hizkuntza"),
    "postal_code": (
        "cp",
        "c p",
        "codigo postal",
        "postal code",
        "postcode",
        "zip",
        "zip code",
        "codi postal",
    ),
    "district": ("distrito", "district", "barrio", "districte", "barrutia"),
    "birth_year": (
        "ano de nacimiento",
        "ano nacimiento",
        "birth year",
        "year of birth",
        "nacimiento",
        "any de naixement",
    ),
    TAGS: ("etiquetas", "etiqueta", "tags", "tag", "labels"),
}


@dataclass
class ImportResult:
    processed: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0


@dataclass
class _Row:
    number: int
    email: str
    fields: dict[str, Any]
    properties: dict[str, Any]
    tags: set[str]
    topic_ids: set[int]


# --- Reading files: contacts.import_files ---------------------------------------------------


def _fold(text: str) -> str:
    """Lowercase, without accents or punctuation: "Código postal" → "codigo postal"."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


# --- Mapping ---------------------------------------------------------------------------------


def mapping_choices() -> list[tuple[str, str]]:
    """Every target a column can be mapped to, as (value, label) for a select."""
    choices = [
        (IGNORE, _("Ignore this column")),
        ("email", _("Email")),
        ("first_name", _("First name")),
        ("last_name", _("Last name")),
        ("phone", _("Phone")),
        ("language", _("Language")),
        ("postal_code", _("Postal code")),
        ("district", _("District")),
        ("birth_year", _("Birth year")),
        (TAGS, _("Tags (comma-separated)")),
    ]
    choices += [
        (f"{PROPERTY_PREFIX}{p.key}", _("Custom property: %(label)s") % {"label": p.label})
        for p in ContactProperty.objects.order_by("key")
    ]
    choices += [
        (f"{TOPIC_PREFIX}{t.slug}", _("Subscribe to topic: %(name)s") % {"name": t.name})
        for t in Topic.objects.order_by("order", "slug")
    ]
    return choices


def mapping_guess(header: list[str]) -> dict[str, str]:
    """{column index: target} guessed from the header names; unknown columns are ignored."""
    known: dict[str, str] = {}
    for target, names in HEADER_GUESSES.items():
        for name in names:
            known.setdefault(_fold(name), target)
    for prop in ContactProperty.objects.all():
        known.setdefault(_fold(prop.key), f"{PROPERTY_PREFIX}{prop.key}")
        known.setdefault(_fold(prop.label), f"{PROPERTY_PREFIX}{prop.key}")
    for topic in Topic.objects.all():
        known.setdefault(_fold(topic.slug), f"{TOPIC_PREFIX}{topic.slug}")
        known.setdefault(_fold(topic.name), f"{TOPIC_PREFIX}{topic.slug}")
    guessed: dict[str, str] = {}
    used: set[str] = set()
    for index, name in enumerate(header):
        target = known.get(_fold(name), IGNORE)
        # One column per contact field: a second "Nombre" column is left for staff to decide.
        if target != IGNORE and target in used and not target.startswith(TOPIC_PREFIX):
            target = IGNORE
        used.add(target)
        guessed[str(index)] = target
    return guessed


def mapping_check(mapping: Mapping[str, str]) -> None:
    targets = [t for t in mapping.values() if t != IGNORE]
    if "email" not in targets:
        raise ImportFileError(_("Choose which column holds the email address."))
    repeated = {t for t in targets if targets.count(t) > 1 and not t.startswith(TOPIC_PREFIX)}
    if repeated:
        raise ImportFileError(
            _("Each field can come from one column only: %(fields)s.")
            % {"fields": ", ".join(sorted(repeated))}
        )


# --- Importing -------------------------------------------------------------------------------


UPDATED_FIELDS = (*EDITABLE_FIELDS, "properties", "updated_at")


def _contacts_update(contacts: list[Contact]) -> None:
    """Save UPDATED_FIELDS of `contacts` and bump their version, in one statement.

    bulk_update() builds a CASE per field and row, which costs seconds for 1,000 rows; on
    PostgreSQL one UPDATE … FROM (VALUES …) does the same in milliseconds.
    """
    if not contacts:
        return
    if connection.vendor != "postgresql":
        for contact in contacts:
            contact.version = F("version") + 1  # type: ignore[assignment]
        Contact.objects.bulk_update(contacts, [*UPDATED_FIELDS, "version"])
        return
    quote = connection.ops.quote_name
    fields = [
        cast("models.Field[Any, Any]", Contact._meta.get_field(name))
        for name in ("id", *UPDATED_FIELDS)
    ]
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
    params: list[Any] = []
    for contact in contacts:
        params += [f.get_db_prep_save(getattr(contact, f.attname), connection) for f in fields]
    columns = [quote(str(f.column)) for f in fields]
    table, version = quote(Contact._meta.db_table), quote("version")
    assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    values = ", ".join([row] * len(contacts))
    # Identifiers come from the model and every value is a parameter.
    sql = f"UPDATE {table} AS c SET {assignments}, {version} = c.{version} + 1 FROM (VALUES {values}) AS v({', '.join(columns)}) WHERE c.{columns[0]} = v.{columns[0]}"  # noqa: E501, S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert(model: type[models.Model], objs: list[Any]) -> None:
    """INSERT `objs` (ids are not read back).

    On PostgreSQL through COPY: bulk_create() spends more time preparing each value in Python
    than the database spends storing it.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    from psycopg.types.json import Jsonb

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    json = {f.attname for f in fields if isinstance(f, models.JSONField)}
    dated = {f.attname: f for f in fields if isinstance(f, models.DateField)}
    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
        "FROM STDIN"
    )
    # wrap_database_errors: a unique violation must surface as Django's IntegrityError.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        for obj in objs:
            row = []
            for f in fields:
                if f.attname in dated:
                    value = dated[f.attname].pre_save(obj, add=True)  # auto_now(_add)
                else:
                    value = getattr(obj, f.attname)
                row.append(Jsonb(value) if f.attname in json else value)
            copy.write_row(row)


class _Importer:
    def __init__(
        self,
        *,
        mapping: Mapping[str, str],
        legal_basis: str,
        consent_text: str,
        topics: Iterable[Topic],
        job: ImportJob | None,
    ) -> None:
        mapping_check(mapping)
        if legal_basis not in ConsentRecord.LegalBasis.values:
            raise ImportFileError(_("Choose the legal basis for holding these contacts."))
        if legal_basis == ConsentRecord.LegalBasis.CONSENT and not consent_text.strip():
            raise ImportFileError(
                _("Give the consent text or the reference of the consent the people gave.")
            )
        self.mapping = {k: v for k, v in mapping.items() if v != IGNORE}
        self.legal_basis = legal_basis
        self.consent_text = consent_text.strip() or str(ConsentRecord.LegalBasis(legal_basis).label)
        self.job = job
        self.text_version = f"import:{job.pk}" if job is not None else "import"
        self.recorded_by = job.created_by if job is not None else None
        self.topics = {t.pk: t for t in topics}
        # Definitions are read once per job, not once per row.
        self.properties = {p.key: p for p in ContactProperty.objects.all()}
        self.column_topics = {
            t.slug: t.pk
            for t in Topic.objects.filter(
                slug__in=[
                    v[len(TOPIC_PREFIX) :]
                    for v in self.mapping.values()
                    if v.startswith(TOPIC_PREFIX)
                ]
            )
        }
        self.seen: dict[str, int] = {}
        self.result = ImportResult()
        self.reported = 0

    # One row: validated into a _Row, or a report entry.

    def parse(self, number: int, record: Mapping[str, Any]) -> _Row | dict[str, Any]:
        data: dict[str, Any] = {}
        raw_properties: dict[str, Any] = {}
        tags: set[str] = set()
        topic_ids = set(self.topics)
        errors: dict[str, list[str]] = {}
        raw_email = ""
        for column, target in self.mapping.items():
            value = cell_text(record.get(column))
            if target == "email":
                raw_email = value
            elif target == TAGS:
                tags |= {t.strip()[:64] for t in value.split(",") if t.strip()}
            elif target.startswith(PROPERTY_PREFIX):
                raw_properties[target[len(PROPERTY_PREFIX) :]] = value
            elif target.startswith(TOPIC_PREFIX):
                topic_id = self.column_topics.get(target[len(TOPIC_PREFIX) :])
                if topic_id is not None and value.strip().lower() in TRUTHY:
                    topic_ids.add(topic_id)
            else:
                data[target] = value
        email = ""
        try:
            email = email_normalise(raw_email)
        except ValidationError as error:
            errors["email"] = error.messages
        try:
            fields = contact_fields_clean(data)
        except ValidationError as error:
            errors.update(error.message_dict)
            fields = {}
        properties: dict[str, Any] = {}
        for key, value in raw_properties.items():
            definition = self.properties.get(key)
            if definition is None:
                continue
            try:
                coerced = definition.coerce(value)
            except ValidationError as error:
                errors.setdefault(key, []).extend(error.messages)
                continue
            if coerced is not None:
                properties[key] = coerced
        if errors:
            return {"row": number, "email": email or raw_email[:254], "errors": errors}
        return _Row(number, email, fields, properties, tags, topic_ids)

    def report(self, entry: dict[str, Any]) -> None:
        self.result.error_count += 1
        if len(self.result.errors) < MAX_REPORTED_ERRORS:
            self.result.errors.append(entry)

    # One batch: one transaction, a handful of queries.

    def write(self, rows: list[_Row]) -> tuple[int, int]:
        """Returns (created, updated). Retried once if a concurrent insert took an email."""
        try:
            return self._write(rows)
        except IntegrityError:
            return self._write(rows)

    @transaction.atomic
    def _write(self, rows: list[_Row]) -> tuple[int, int]:
        if not rows:
            return 0, 0
        emails = [r.email for r in rows]
        existing = {
            c.email_lower: c
            for c in Contact.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=emails
            )
        }
        new: list[Contact] = []
        changed: list[Contact] = []
        now = timezone.now()
        for row in rows:
            contact = existing.get(row.email)
            if contact is None:
                new.append(
                    Contact(
                        email=row.email,
                        source=Contact.Source.IMPORT,
                        properties=row.properties,
                        created_at=now,
                        **row.fields,
                    )
                )
                continue
            properties = {**contact.properties, **row.properties}
            if properties != contact.properties or any(
                getattr(contact, name) != value for name, value in row.fields.items()
            ):
                for name, value in row.fields.items():
                    setattr(contact, name, value)
                contact.properties = properties
                contact.updated_at = now
                changed.append(contact)
        _insert(Contact, new)
        _contacts_update(changed)
        contact_ids = {c.email_lower: c.pk for c in existing.values()}  # type: ignore[attr-defined]
        if new:
            contact_ids.update(
                Contact.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=[c.email for c in new])
                .values_list("email_lower", "pk")
            )
        self._write_tags(rows, contact_ids, {c.pk for c in existing.values()})
        self._write_subscriptions(rows, contact_ids, now)
        return len(new), len(existing)

    def _write_tags(
        self, rows: list[_Row], contact_ids: dict[str, int], existing_ids: set[int]
    ) -> None:
        names = {name for row in rows for name in row.tags}
        if not names:
            return
        Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        through = Contact.tags.through
        tagged = (
            set(
                through.objects.filter(
                    contact_id__in=existing_ids, tag_id__in=tag_ids.values()
                ).values_list("contact_id", "tag_id")
            )
            if existing_ids
            else set()
        )
        pairs = {(contact_ids[row.email], tag_ids[name]) for row in rows for name in row.tags}
        _insert(
            through,
            [through(contact_id=c, tag_id=t) for c, t in sorted(pairs - tagged)],
        )

    def _write_subscriptions(
        self, rows: list[_Row], contact_ids: dict[str, int], now: dt.datetime
    ) -> None:
        wanted = {(contact_ids[r.email], topic_id) for r in rows for topic_id in r.topic_ids}
        ids = {contact_ids[r.email] for r in rows}
        current = {
            (contact_id, topic_id): status
            for contact_id, topic_id, status in Subscription.objects.filter(
                contact_id__in=ids
            ).values_list("contact_id", "topic_id", "status")
        }
        # Someone who unsubscribed told us so themselves: a spreadsheet never overrides that.
        subscribe = sorted(
            pair for pair in wanted if current.get(pair) != Subscription.Status.UNSUBSCRIBED
        )
        _insert(
            Subscription,
            [
                Subscription(
                    contact_id=c, topic_id=t, status=Subscription.Status.ACTIVE, created_at=now
                )
                for c, t in subscribe
                if (c, t) not in current
            ],
        )
        pending = [pair for pair in subscribe if current.get(pair) == Subscription.Status.PENDING]
        for contact_id, topic_id in pending:
            Subscription.objects.filter(contact_id=contact_id, topic_id=topic_id).update(
                status=Subscription.Status.ACTIVE, updated_at=now
            )
        records = [
            self._consent(contact_id, ConsentRecord.Purpose.SERVICE, None, now)
            for contact_id in sorted(ids)
        ]
        records += [
            self._consent(contact_id, ConsentRecord.Purpose.TOPIC, topic_id, now)
            for contact_id, topic_id in subscribe
        ]
        _insert(ConsentRecord, records)

    def _consent(
        self, contact_id: int, purpose: str, topic_id: int | None, now: dt.datetime
    ) -> ConsentRecord:
        return ConsentRecord(
            contact_id=contact_id,
            purpose=purpose,
            topic_id=topic_id,
            action=ConsentRecord.Action.GRANTED,
            legal_basis=self.legal_basis,
            text=self.consent_text,
            text_version=self.text_version,
            source=ConsentRecord.Source.IMPORT,
            recorded_by=self.recorded_by,
            occurred_at=now,
        )

    # The whole stream.

    def run(self, records: Iterable[tuple[int, Mapping[str, Any]]], skip: int = 0) -> None:
        batch: dict[str, _Row] = {}
        pending = 0
        tombstone_check: list[_Row] = []
        for position, (number, record) in enumerate(records):
            if position < skip:
                continue
            pending += 1
            parsed = self.parse(number, record)
            if isinstance(parsed, dict):
                self.report(parsed)
            else:
                tombstone_check.append(parsed)
            if pending >= BATCH_SIZE:
                self._flush(tombstone_check, batch, pending)
                tombstone_check, batch, pending = [], {}, 0
        self._flush(tombstone_check, batch, pending)

    def _flush(self, rows: list[_Row], batch: dict[str, _Row], count: int) -> None:
        if not count:
            return
        erased = (
            set(
                Tombstone.objects.filter(
                    email_hash__in=[email_hash(r.email) for r in rows]
                ).values_list("email_hash", flat=True)
            )
            if rows
            else set()
        )
        for row in rows:
            if erased and email_hash(row.email) in erased:
                message = _(
                    "This person asked to be erased; they can only come back by signing up "
                    "themselves."
                )
                self.report({"row": row.number, "email": row.email,
                             "errors": {"email": [message]}})
                continue
            earlier = self.seen.get(row.email)
            if earlier is not None:
                self.report(
                    {
                        "row": earlier,
                        "email": row.email,
                        "errors": {
                            "email": [
                                _("The same email appears again in row %(row)s, which wins.")
                                % {"row": row.number}
                            ]
                        },
                    }
                )
            self.seen[row.email] = row.number
            if row.email in batch:  # last row wins, blanks keeping the earlier values
                first = batch.pop(row.email)
                row.fields = {**first.fields, **row.fields}
                row.properties = {**first.properties, **row.properties}
                row.tags |= first.tags
                row.topic_ids |= first.topic_ids
            batch[row.email] = row
        with transaction.atomic():
            created, updated = self.write(list(batch.values()))
            self.result.processed += count
            self.result.created += created
            self.result.updated += updated
            if self.job is not None:
                progress: dict[str, Any] = {
                    "processed_rows": F("processed_rows") + count,
                    "created_count": F("created_count") + created,
                    "updated_count": F("updated_count") + updated,
                    "error_count": self.result.error_count,
                }
                if len(self.result.errors) != self.reported:  # rewrite the report only if it grew
                    progress["errors"] = self.result.errors
                    self.reported = len(self.result.errors)
                ImportJob.objects.filter(pk=self.job.pk).update(**progress)


def import_rows(
    *,
    rows: Iterable[Mapping[str, Any]],
    mapping: Mapping[str, str],
    legal_basis: str,
    consent_text: str,
    topics: Iterable[Topic] = (),
    job: ImportJob | None = None,
    first_row: int = 2,
) -> ImportResult:
    """Validate and upsert contacts from `rows` ({column: value}), `mapping` {column: target}.

    Targets: "email", a contact field, "tags", "property:<key>", "topic:<slug>" or "ignore".
    Rows are numbered from `first_row` (2: the first row under a header) in the report.
    """
    importer = _Importer(
        mapping=mapping,
        legal_basis=legal_basis,
        consent_text=consent_text,
        topics=topics,
        job=job,
    )
    with translation.override(settings.LANGUAGE_CODE):
        importer.run(enumerate(rows, start=first_row))
    return importer.result


def import_header_read(*, job: ImportJob) -> ImportJob:
    """Read the column names of an uploaded XLSX for the mapping step, in the worker.

    A file that cannot be read fails the job with the reason, and is deleted: it holds personal
    data and will never be imported. Safe to run twice.
    """
    job = ImportJob.objects.get(pk=job.pk)
    if job.status != ImportJob.Status.PENDING or job.header or not job.file:
        return job
    with translation.override(settings.LANGUAGE_CODE):
        try:
            with job.file.open("rb") as stream:
                header = file_header(stream, job.original_name or job.file.name or "")
        except (ImportFileError, OSError) as error:
            message = (
                str(error.message)
                if isinstance(error, ImportFileError)
                else _("The uploaded file could not be read; upload it again.")
            )
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.FAILED,
                finished_at=timezone.now(),
                errors=[{"row": None, "email": "", "errors": {"file": [message]}}],
                error_count=1,
            )
            job.refresh_from_db()
            if job.file.name and job.file.storage.exists(job.file.name):
                job.file.storage.delete(job.file.name)
            return job
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PENDING).update(header=header)
    job.refresh_from_db()
    return job


def import_headers_sweep(*, limit: int = 20) -> int:
    """Read the column names of uploads that waited more than HEADER_WAIT for them: the task
    the upload enqueued was lost (a broker outage). Uploads older than a day are purged."""
    now = timezone.now()
    waiting = (
        ImportJob.objects.filter(
            status=ImportJob.Status.PENDING,
            header=[],
            created_at__lt=now - HEADER_WAIT,
            created_at__gt=now - dt.timedelta(days=1),
        )
        .exclude(file="")
        .order_by("created_at")
    )
    jobs = list(waiting[:limit])
    for job in jobs:
        import_header_read(job=job)
    return len(jobs)


def import_job_run(*, job: ImportJob) -> ImportJob:
    """Import the job's file; the job ends done or failed, with its report and counts.

    Safe to run again after a crash: batches already committed are skipped.
    """
    job = ImportJob.objects.get(pk=job.pk)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return job
    skip = job.processed_rows if job.status == ImportJob.Status.RUNNING else 0
    with translation.override(settings.LANGUAGE_CODE):
        try:
            with job.file.open("rb") as stream:
                total = file_check(stream, job.original_name or job.file.name or "")
                ImportJob.objects.filter(pk=job.pk).update(
                    status=ImportJob.Status.RUNNING, total_rows=total
                )
                importer = _Importer(
                    mapping=job.mapping,
                    legal_basis=job.legal_basis,
                    consent_text=job.consent_text,
                    topics=list(job.topics.all()),
                    job=job,
                )
                if skip:
                    importer.result.errors = list(job.errors)
                    importer.result.error_count = job.error_count
                    importer.reported = len(job.errors)
                importer.run(file_records(stream, job.original_name), skip=skip)
        except ImportFileError as error:
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.FAILED,
                finished_at=timezone.now(),
                errors=[{"row": None, "email": "", "errors": {"file": [str(error.message)]}}],
                error_count=1,
            )
        else:
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.DONE, finished_at=timezone.now()
            )
    # The file holds personal data: once imported (or refused) the report is all we keep. The
    # header too: a file without one has a person's data in its first row.
    ImportJob.objects.filter(pk=job.pk).update(header=[])
    job.refresh_from_db()
    if job.file.name and job.file.storage.exists(job.file.name):
        job.file.storage.delete(job.file.name)
    audit_record(
        action="contacts_imported",
        actor=job.created_by,
        obj=job,
        detail={
            "status": job.status,
            "rows": job.processed_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "errors": job.error_count,
        },
    )
    return job

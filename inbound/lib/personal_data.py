"""The personal-data registry: every model that holds a citizen's data, and what we do with it.

Each app declares its models in `<app>/personal_data.py`, imported by its `AppConfig.ready()`.
Erasure (RGPD art. 17), the access export (arts. 15 and 20) and retention walk this registry;
nothing else lists models. `tests/inbound/test_personal_data.py` walks every model of our apps
and fails when a field that can hold personal data is neither declared here nor exempted with a
reason, so a new model cannot slip past erasure.

A declaration says, per model:
- how to find a contact's rows (`contact`: a lookup path to `contacts.Contact`, or `rows`);
- which fields hold personal data, and how erasure treats the row: DELETE it (and its files),
  REDACT it (the row stays for aggregates; the fields are blanked, and `scrub` fields keep their
  text with every piece of the person's identity cut out), or KEEP it (evidence that must
  outlive the person, such as the consent ledger: it stays on the anonymised row);
- what pending work must stop first (`cancel`: outbox rows, deliveries, workflow actions);
- the section of the access export it fills, and the fields shown there;
- the retention kind (`settings.RETENTION`) and the date that starts its clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

ERASED = "[erased]"


class Erase(StrEnum):
    DELETE = "delete"
    REDACT = "redact"
    KEEP = "keep"


@dataclass(frozen=True)
class Identity:
    """Who is erased: the contact's id, the keyed hash of their address (to find rows not yet
    linked to the contact), and every piece of text that named them (cut out of free text and
    JSON on erasure)."""

    contact_id: int
    email: str
    email_hash: str
    pieces: tuple[str, ...]

    @classmethod
    def of(
        cls, contact_id: int, *, email: str, email_hash: str, values: Iterable[str | None]
    ) -> Identity:
        pieces = {v.strip().lower() for v in (email, *values) if v and len(v.strip()) >= 3}
        # The longest first, so "ana garcía" goes before "ana".
        return cls(contact_id, email, email_hash, tuple(sorted(pieces, key=len, reverse=True)))

    def mentioned_in(self, text: str) -> bool:
        lowered = text.lower()
        return any(piece in lowered for piece in self.pieces)

    def cut(self, text: str) -> str:
        """`text` with every piece of the identity replaced by ERASED (case-insensitive)."""
        for piece in self.pieces:
            text = re.sub(re.escape(piece), ERASED, text, flags=re.IGNORECASE)
        return text

    def scrub(self, value: Any) -> Any:
        """A JSON value with the identity cut out of every string, keys included."""
        if isinstance(value, str):
            return self.cut(value)
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {self.cut(str(k)): self.scrub(v) for k, v in value.items()}
        return value


@dataclass(frozen=True)
class Retention:
    """How long one kind of a holder's rows is kept (`settings.RETENTION[kind]`, in days),
    counted from the date field `since`, and what happens to rows past it: DELETE, or REDACT
    (the rows stay for aggregates, their personal fields blanked and files deleted)."""

    kind: str
    since: str = "created_at"
    filter: Mapping[str, Any] = field(default_factory=dict)
    action: Erase = Erase.DELETE


RowsOf = Callable[[Identity], QuerySet[Any]]
Step = Callable[[QuerySet[Any], Identity], None]
Exporter = Callable[[QuerySet[Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Holder:
    """One model that holds personal data, and how erasure, export and retention treat it."""

    model: str  # "app_label.ModelName"
    fields: tuple[str, ...]
    erase: Erase
    contact: str | None = None  # lookup from a row to its contact, e.g. "submission__contact"
    rows: RowsOf | None = None  # a contact's rows when no lookup path reaches them
    scrub: tuple[str, ...] = ()  # text/JSON fields kept with the identity cut out
    cancel: Step | None = None  # stop pending work before the rows are erased
    redact: Step | None = None  # extra erasure work on the rows (after the fields are blanked)
    export: str | None = None  # section of the access export; None says why in `note`
    export_fields: tuple[str, ...] = ()  # context shown with the personal fields (dates, status)
    exporter: Exporter | None = None
    retention: tuple[Retention, ...] = ()
    note: str = ""

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def rows_of(self, identity: Identity) -> QuerySet[Any]:
        if self.rows is not None:
            return self.rows(identity)
        if self.contact is None:
            return self.model_class._default_manager.none()
        lookup = "pk" if self.contact == "self" else f"{self.contact}_id"
        return self.model_class._default_manager.filter(**{lookup: identity.contact_id})


_holders: dict[str, Holder] = {}
_exempt_models: dict[str, str] = {}
_exempt_fields: dict[str, str] = {}


def register(*holders: Holder) -> None:
    for holder in holders:
        _holders[holder.model.lower()] = holder


def exempt_model(model: str, *, why: str) -> None:
    """A model that holds no citizen's data (configuration, content). Fields that can only hold
    personal data (e-mail, IP, files, JSON, phone…) must still be declared one by one."""
    _exempt_models[model.lower()] = why


def exempt_models(reasons: Mapping[str, str]) -> None:
    """`exempt_model` for each {model label: why} of an app."""
    for model, why in reasons.items():
        exempt_model(model, why=why)


def exempt_field(label: str, *, why: str) -> None:
    """`app_label.Model.field` looks personal but is not a citizen's data (say why)."""
    app_label, model, name = label.rsplit(".", 2)
    _exempt_fields[f"{app_label}.{model}.{name}".lower()] = why


def holders() -> list[Holder]:
    return list(_holders.values())


def holder(model: str) -> Holder | None:
    return _holders.get(model.lower())


def is_exempt_model(label: str) -> bool:
    return label.lower() in _exempt_models


def is_exempt_field(label: str) -> bool:
    return label.lower() in _exempt_fields


# --- Erasure ----------------------------------------------------------------------------------


def field_blank(model_field: models.Field[Any, Any]) -> Any:
    if isinstance(model_field, models.JSONField):
        default = model_field.default
        return default() if callable(default) else ({} if default is None else default)
    if model_field.null:
        return None
    if isinstance(model_field, models.CharField | models.TextField | models.FileField):
        return ""
    return model_field.get_default()


def files_delete(rows: QuerySet[Any], names: Iterable[str]) -> None:
    for name in names:
        for stored in rows.exclude(**{name: ""}).values_list(name, flat=True):
            if stored:
                storage = rows.model._meta.get_field(name).storage
                storage.delete(stored)


def holder_erase(holder: Holder, rows: QuerySet[Any], identity: Identity) -> None:
    """Erase `rows` of one holder as it declares (its pending work cancelled beforehand)."""
    model = rows.model
    file_fields = [
        n for n in holder.fields if isinstance(model._meta.get_field(n), models.FileField)
    ]
    if holder.erase == Erase.DELETE:
        files_delete(rows, file_fields)
        rows.delete()
        return
    if holder.erase == Erase.KEEP:
        if holder.redact is not None:
            holder.redact(rows, identity)
        return
    files_delete(rows, file_fields)
    blanks = {
        name: field_blank(model._meta.get_field(name))
        for name in holder.fields
        if not model._meta.get_field(name).is_relation
    }
    for name in holder.scrub:
        blanks.pop(name, None)
    if holder.scrub:
        for row in rows.only("pk", *holder.scrub):
            changed = {name: identity.scrub(getattr(row, name)) for name in holder.scrub}
            model._default_manager.filter(pk=row.pk).update(**changed)
    if blanks:
        rows.update(**blanks)
    if holder.redact is not None:
        holder.redact(rows, identity)


def personal_data_erase(*, identity: Identity, skip: Iterable[str] = ()) -> None:
    """Walk the registry for one person: first every holder's pending work is cancelled (nothing
    may leave in the middle of the erasure), then its rows are erased. Call inside the erasure's
    transaction; `skip` names holders the caller erases itself."""
    skipped = {s.lower() for s in skip}
    chosen = [h for h in holders() if h.model.lower() not in skipped]
    for h in chosen:
        if h.cancel is not None:
            h.cancel(h.rows_of(identity), identity)
    for h in chosen:
        holder_erase(h, h.rows_of(identity), identity)


# --- The access export ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return value


def holder_export(holder: Holder, rows: QuerySet[Any]) -> list[dict[str, Any]]:
    if holder.exporter is not None:
        return holder.exporter(rows)
    names = [*holder.export_fields, *holder.fields]
    names = list(dict.fromkeys(n for n in names if n != holder.contact))
    return [{k: _plain(v) for k, v in row.items()} for row in rows.values(*names)]


@dataclass(frozen=True)
class ExportedFile:
    section: str
    row_id: int
    name: str
    stored_name: str
    storage: Any


def personal_data_export(
    *, identity: Identity
) -> tuple[dict[str, list[dict[str, Any]]], list[ExportedFile]]:
    """Every section of the access export for one person, and the files the registry holds."""
    sections: dict[str, list[dict[str, Any]]] = {}
    files: list[ExportedFile] = []
    for h in holders():
        if h.export is None:
            continue
        rows = h.rows_of(identity)
        sections.setdefault(h.export, []).extend(holder_export(h, rows))
        model = h.model_class
        for name in h.fields:
            model_field = model._meta.get_field(name)
            if not isinstance(model_field, models.FileField):
                continue
            for pk, stored in rows.exclude(**{name: ""}).values_list("pk", name):
                name = stored.rsplit("/", 1)[-1]
                files.append(ExportedFile(h.export, pk, name, stored, model_field.storage))
    return sections, files


# --- Retention ----------------------------------------------------------------------------------


def retention_rows(holder: Holder, rule: Retention, *, cutoff: dt.datetime) -> QuerySet[Any]:
    """The holder's rows of one retention kind that are past their time."""
    rows = holder.model_class._default_manager.filter(**{f"{rule.since}__lt": cutoff})
    return rows.filter(**rule.filter) if rule.filter else rows


def retention_redact(holder: Holder, rows: QuerySet[Any]) -> None:
    """Rows past their time that stay for aggregates: every personal field blanked (free text
    and JSON included, with no identity to cut out), files deleted."""
    model = rows.model
    names = [*holder.fields, *holder.scrub]
    files_delete(rows, [n for n in names if isinstance(model._meta.get_field(n), models.FileField)])
    blanks = {
        name: field_blank(model._meta.get_field(name))
        for name in names
        if not model._meta.get_field(name).is_relation
    }
    if blanks:
        rows.update(**blanks)


def retention_rules() -> Iterator[tuple[Holder, Retention]]:
    return ((h, rule) for h in holders() for rule in h.retention)

"""Exporting contacts to CSV or XLSX: one row per contact, streamed, safe to open in Excel."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from contacts.models import Contact, ContactProperty, Segment
from inbound.lib.spreadsheets import cell_escape

CHUNK_SIZE = 2000
FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "language",
    "postal_code",
    "district",
    "birth_year",
    "lifecycle",
    "email_status",
)


def segment_contacts(*, segment: Segment) -> QuerySet[Contact]:
    from contacts.segments import segment_members

    return segment_members(segment=segment)


class ContactTable:
    """The header and rows of an export of `contacts`, read in chunks."""

    def __init__(self, contacts: QuerySet[Contact]) -> None:
        self.contacts = contacts
        self.properties = list(ContactProperty.objects.order_by("key"))

    def header(self) -> list[str]:
        labels = [
            str(getattr(Contact._meta.get_field(name), "verbose_name", name)) for name in FIELDS
        ]
        labels.append(str(_("tags")))
        labels += [p.label for p in self.properties]
        return [cell_escape(label) for label in labels]

    def rows(self) -> Iterator[list[Any]]:
        contacts = (
            self.contacts.filter(anonymised_at__isnull=True)
            .order_by("pk")
            .prefetch_related("tags")
        )
        for contact in contacts.iterator(chunk_size=CHUNK_SIZE):
            row: list[Any] = [getattr(contact, name) for name in FIELDS]
            row.append(", ".join(sorted(t.name for t in contact.tags.all())))
            row += [contact.properties.get(p.key) for p in self.properties]
            yield [cell_escape(value) for value in row]

    def count(self) -> int:
        return self.contacts.filter(anonymised_at__isnull=True).count()


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(table: ContactTable) -> Iterator[str]:
    """The export as CSV text, line by line; the BOM makes Excel read it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(table.header())
    for row in table.rows():
        yield writer.writerow(row)


def xlsx_file(table: ContactTable, *, title: str) -> IO[bytes]:
    """The export as an XLSX workbook in a temporary file (rewound), written row by row."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(row: list[Any]) -> list[Any]:
        # XML 1.0 forbids most control characters; a stray one must not abort the export.
        return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append(clean(table.header()))
    for row in table.rows():
        sheet.append(clean(row))
    output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response that sends it)
    workbook.save(output)
    output.seek(0)
    return output


def _sheet_title(title: str) -> str:
    cleaned = "".join(c for c in title if c not in "[]:*?/\\").strip()
    return (cleaned or "contacts")[:31]

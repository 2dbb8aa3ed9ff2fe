"""Reading the files of contact imports, CSV or XLSX: streamed, within limits, row by row.

Limits are checked before anything is parsed: the upload's size, and for XLSX (a zip of XML
files) the size the workbook would take once uncompressed and how much each part expands, so a
zip bomb is refused before openpyxl opens it (`xlsx_check`). Python's zipfile never inflates a
part beyond the size its directory declares (it stops there and fails the CRC check), so
checking the declared sizes bounds the work. XLSX files are only ever opened by the Celery
worker; the request reads the first row of a CSV at most.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import math
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from inbound.lib.errors import DomainError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
SNIFF_BYTES = 256 * 1024
# Parts smaller than this may expand as they like (a few kilobytes of styles, say); a bomb
# needs big ones.
RATIO_CHECK_FROM_BYTES = 1024 * 1024
MB = 1024 * 1024


class ImportFileError(DomainError):
    """The file cannot be imported at all; nothing of it is written."""


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _check_row(cells: list[str], number: int) -> list[str]:
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > MAX_COLUMNS:
        raise ImportFileError(
            _("Row %(row)s has more than %(max)s columns.") % {"row": number, "max": MAX_COLUMNS}
        )
    for cell in cells:
        if len(cell) > MAX_CELL_CHARS:
            raise ImportFileError(
                _("Row %(row)s has a cell longer than %(max)s characters.")
                % {"row": number, "max": number_format(MAX_CELL_CHARS, force_grouping=True)}
            )
    return cells


def file_is_xlsx(stream: IO[bytes], name: str) -> bool:
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    return head == b"PK\x03\x04" or name.lower().endswith(".xlsx")


def xlsx_check(stream: IO[bytes]) -> None:
    """Refuse, before anything is inflated, an XLSX that is not one or would expand too much.

    Reads the zip's central directory only (its end, a few kilobytes): the declared size of
    every part, compared with IMPORT_MAX_UNCOMPRESSED_MB for the whole and with
    IMPORT_MAX_COMPRESSION_RATIO for each big part.
    """
    not_a_spreadsheet = ImportFileError(_("The file is neither a CSV nor an XLSX spreadsheet."))
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise not_a_spreadsheet from None
    finally:
        stream.seek(0)
    if "[Content_Types].xml" not in {part.filename for part in parts}:
        raise not_a_spreadsheet  # a zip, but not an Office document
    limit = settings.IMPORT_MAX_UNCOMPRESSED_MB
    total = sum(part.file_size for part in parts)
    if total > limit * MB:
        raise ImportFileError(
            _(
                "Uncompressed, this spreadsheet would take %(size)s MB, more than the %(max)s MB "
                "allowed, so it was not opened. Split it into smaller files or save it as CSV."
            )
            % {"size": number_format(math.ceil(total / MB), force_grouping=True), "max": limit}
        )
    ratio_limit = settings.IMPORT_MAX_COMPRESSION_RATIO
    for part in parts:
        if part.file_size < RATIO_CHECK_FROM_BYTES:
            continue
        ratio = part.file_size / max(part.compress_size, 1)
        if ratio > ratio_limit:
            raise ImportFileError(
                _(
                    "This file expands %(ratio)s times when uncompressed, far more than a real "
                    "spreadsheet does (at most %(max)s times), so it was not opened. Save it "
                    "again from your spreadsheet program, or as CSV."
                )
                % {"ratio": number_format(int(ratio), force_grouping=True), "max": ratio_limit}
            )


def _csv_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # Not final: the sample may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"  # what Excel on Windows writes as "CSV"
    return "utf-8"


def _csv_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    stream.seek(0)
    sample = stream.read(SNIFF_BYTES)
    if b"\x00" in sample:
        raise ImportFileError(_("The file is neither a CSV nor an XLSX spreadsheet."))
    encoding = _csv_encoding(sample)
    first_line = sample.decode(encoding, errors="replace").splitlines()[0] if sample else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    if first_line.count("\t") > max(first_line.count(";"), first_line.count(",")):
        delimiter = "\t"
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        yield from reader
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file mixes text encodings; save it again as CSV UTF-8.")
        ) from None
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file is malformed near line %(line)s.") % {"line": reader.line_num}
        ) from error
    finally:
        # Leave the caller's file open (it may be read again); it may be closed already.
        with contextlib.suppress(ValueError):
            text.detach()


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    xlsx_check(stream)  # every opening, not only at upload: the limits may have been lowered
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportFileError(_("The file is neither a CSV nor an XLSX spreadsheet.")) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [cell_text(v) for v in values]
    finally:
        workbook.close()


def file_rows(stream: IO[bytes], name: str = "") -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every non-blank row, the header included, checked for limits."""
    rows = _xlsx_rows(stream) if file_is_xlsx(stream, name) else _csv_rows(stream)
    for number, raw in enumerate(rows, start=1):
        if number > MAX_ROWS + 1:
            raise ImportFileError(
                _("The file has more than %(max)s rows.")
                % {"max": number_format(MAX_ROWS, force_grouping=True)}
            )
        cells = _check_row([str(c).strip() for c in raw], number)
        if any(cells):
            yield number, cells


def file_header(stream: IO[bytes], name: str = "") -> list[str]:
    """The column names of the file (its first non-blank row)."""
    for _number, cells in file_rows(stream, name):
        return cells
    raise ImportFileError(_("The file is empty."))


def file_check(stream: IO[bytes], name: str = "") -> int:
    """Read the whole file once; the number of data rows, or ImportFileError."""
    stream.seek(0, io.SEEK_END)
    if stream.tell() > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(max)s MB.") % {"max": MAX_FILE_BYTES // (1024 * 1024)}
        )
    count = -1
    for _row in file_rows(stream, name):
        count += 1
    if count < 0:
        raise ImportFileError(_("The file is empty."))
    return count


def file_records(stream: IO[bytes], name: str = "") -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {column index: value}) for each data row, in file order."""
    rows = file_rows(stream, name)
    next(rows, None)  # the header
    for number, cells in rows:
        yield number, {str(i): value for i, value in enumerate(cells)}



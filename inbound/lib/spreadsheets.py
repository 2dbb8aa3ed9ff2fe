"""Cells that are safe to open in a spreadsheet: every CSV or XLSX export writes through here.

A cell whose text starts with `=`, `+`, `-` or `@` is run as a formula by Excel, LibreOffice and
Google Sheets (CSV injection, OWASP): `=HYPERLINK(...)` typed into a form becomes a live link
in a staff member's spreadsheet. Spreadsheets skip leading blanks and read the full-width forms
(`＝＋－＠`, typed by Japanese or Chinese input methods) as the ASCII ones, so the check looks
at the first visible character, after folding compatibility forms (NFKC). A leading tab or
carriage return is escaped too (OWASP lists them). Escaping prefixes a single quote: the text
is then shown as typed, never evaluated.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.utils.translation import gettext as _

FORMULA_STARTS = frozenset("=+-@")
CONTROL_STARTS = ("\t", "\r", "\n")
# Characters a spreadsheet skips before deciding whether a cell is a formula: whitespace
# (ASCII and Unicode), control characters and invisible format characters (zero-width space,
# byte-order mark).
_SKIPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _first_visible(text: str) -> str:
    for character in text:
        if character.isspace() or unicodedata.category(character) in _SKIPPED_CATEGORIES:
            continue
        return unicodedata.normalize("NFKC", character)[:1]
    return ""


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could run `text` as a formula."""
    return text.startswith(CONTROL_STARTS) or _first_visible(text) in FORMULA_STARTS


def cell_escape(value: Any) -> Any:
    """The value as an export cell: numbers as numbers, booleans as yes/no, None as blank, and
    text that a spreadsheet would run as a formula made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if formula_like(text) else text

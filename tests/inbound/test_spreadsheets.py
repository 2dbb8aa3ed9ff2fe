"""The formula escape every CSV and XLSX export writes its cells through."""

from __future__ import annotations

import pytest
from django.utils import translation

from inbound.lib.spreadsheets import cell_escape


@pytest.mark.parametrize(
    "text",
    [
        # The four starts spreadsheets read as a formula.
        "=1+1",
        "+34600123456",
        "-1",
        "@SUM(A1:A9)",
        # After leading blanks, which spreadsheets skip.
        " =HYPERLINK(\"http://evil.example\")",
        "   +1",
        "\t-1",
        "\r=1",
        "\n@A1",
        "\r\n=1",
        "\u00a0=1",  # no-break space
        "\u3000=1",  # ideographic space
        "\u200b=1",  # zero-width space
        "\ufeff=1",  # byte-order mark
        # The full-width forms, and after blanks.
        "＝1+1",
        "＋34600123456",
        "－1",
        "＠SUM(A1:A9)",
        "  ＝HYPERLINK(\"http://evil.example\")",
        "\u3000＠A1",
        # The small forms fold to the same characters.
        "﹦1",
        "﹢1",
        # A leading tab or carriage return alone (OWASP).
        "\tAna",
        "\rAna",
    ],
)
def test_text_a_spreadsheet_could_run_is_prefixed_with_a_quote(text: str) -> None:
    assert cell_escape(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["Ana", " Ana", "Núñez-Peñalver", "a=b", "ana@correo.example", "28013", "", "   ", "'=1"],
)
def test_plain_text_is_left_as_typed(text: str) -> None:
    assert cell_escape(text) == text


def test_numbers_stay_numbers_and_blanks_and_booleans_read_as_words() -> None:
    assert cell_escape(-5) == -5
    assert cell_escape(1980) == 1980
    assert cell_escape(2.5) == 2.5
    assert cell_escape(None) == ""
    with translation.override("es"):
        assert (cell_escape(True), cell_escape(False)) == ("sí", "no")

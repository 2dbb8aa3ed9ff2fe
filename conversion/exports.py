"""Submissions as CSV: one row per submission, streamed, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from conversion.models import FormField, Submission
from inbound.lib.spreadsheets import cell_escape

CHUNK_SIZE = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def _value_text(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("name", "")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def submissions_csv_lines(submissions: QuerySet[Submission]) -> Iterator[str]:
    """The CSV text, line by line: fixed columns, then one column per value key met (in the
    order of the forms' fields). Every cell goes through the formula escape."""
    rows = submissions.select_related("form", "contact").order_by("-created_at", "-id")
    form_ids = submissions.order_by().values_list("form_id", flat=True).distinct()
    keys: list[str] = []
    fields = FormField.objects.filter(form_id__in=form_ids).order_by("form_id", "order", "id")
    for key in fields.values_list("key", flat=True):
        if key not in keys:
            keys.append(key)
    writer = csv.writer(_Echo())
    header = [_("Sent"), _("Form"), _("E-mail"), _("Language"), _("Opt-in confirmed"), *keys]
    yield "\ufeff" + writer.writerow([cell_escape(label) for label in header])
    for submission in rows.iterator(chunk_size=CHUNK_SIZE):
        confirmed = submission.optin_confirmed_at
        row: list[Any] = [
            timezone.localtime(submission.created_at).strftime("%Y-%m-%d %H:%M"),
            submission.form.name,
            submission.contact.email if submission.contact else "",
            submission.language,
            timezone.localtime(confirmed).strftime("%Y-%m-%d %H:%M") if confirmed else "",
            *[_value_text(submission.values.get(key)) for key in keys],
        ]
        yield writer.writerow([cell_escape(value) for value in row])

"""Revision history: snapshots of the translatable fields, compared and restored in the admin."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.html import strip_tags
from modeltranslation.translator import translator

from content.models import LANGUAGES, Revision


def tracked_fields(model: type[models.Model]) -> list[str]:
    """Every language column of the model's translated fields (`title_es`, `title_ca`…)."""
    options = translator.get_options_for_model(model)
    return [f"{name}_{language}" for name in options.all_fields for language in LANGUAGES]


def revision_snapshot(obj: models.Model) -> dict[str, Any]:
    return {name: getattr(obj, name) or "" for name in tracked_fields(type(obj))}


def revision_record(*, obj: models.Model, author: Any = None, note: str = "") -> Revision:
    return Revision.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        snapshot=revision_snapshot(obj),
        author=author if getattr(author, "is_authenticated", False) else None,
        note=note,
    )


def revisions_for(obj: models.Model) -> models.QuerySet[Revision]:
    return Revision.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("author")


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    lines: list[tuple[str, str]]  # (" ", "-" or "+", text) — escaped when rendered


def revision_diff(older: Revision, newer: Revision) -> list[FieldDiff]:
    """Changed fields between two revisions, line by line (HTML tags split onto lines).

    The result is plain text; templates escape it, so stored markup is shown, never run.
    """
    model = older.content_type.model_class()
    diffs = []
    for name in sorted(set(older.snapshot) | set(newer.snapshot)):
        before, after = older.snapshot.get(name, ""), newer.snapshot.get(name, "")
        if before == after:
            continue
        lines = [
            (line[0], line[2:])
            for line in difflib.ndiff(_lines(before), _lines(after))
            if line[:1] in {" ", "-", "+"}
        ]
        diffs.append(FieldDiff(field=name, label=_label(model, name), lines=lines))
    return diffs


def _lines(value: str) -> list[str]:
    return [line for line in value.replace("><", ">\n<").splitlines() if line.strip()]


def _label(model: type[models.Model] | None, name: str) -> str:
    if model is None:
        return name
    try:
        return str(getattr(model._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:  # a field removed since the snapshot
        return strip_tags(name)


def revision_restore_fields(*, obj: models.Model, revision: Revision) -> models.Model:
    """Put the revision's text back on `obj` (unsaved: the caller saves through a service)."""
    for name in tracked_fields(type(obj)):
        if name in revision.snapshot:
            setattr(obj, name, revision.snapshot[name])
    return obj

"""The personal-data registry cannot be fooled by a new model: every field of our apps that can
hold a citizen's data is declared (erased, exported, retained) or exempted with a reason."""

from __future__ import annotations

import re

from django.apps import apps
from django.db import models

from inbound.lib import personal_data
from inbound.lib.personal_data import Erase

OUR_APPS = {"inbound", "contacts", "content", "conversion", "campaigns", "workflows"}
# Names that only ever hold data about a person: declared field by field, even on exempt models.
STRONG = re.compile(r"(^|_)(e_?mail|emails|phone|ip|address|comment|user_agent|visitor|referrer)")
# Names that may: a model exempt as a whole (configuration, content) covers them.
WEAK = re.compile(r"(^|_)(name|message|note|error|detail|payload|values?|text|body)(_|$)")
ALWAYS = (models.EmailField, models.GenericIPAddressField, models.FileField, models.JSONField)


def _our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def _personal_looking(field: models.Field) -> str | None:
    """Why a field looks as if it could hold personal data (None: it does not)."""
    if isinstance(field, ALWAYS):
        return type(field).__name__
    if isinstance(field, models.CharField | models.TextField):
        if STRONG.search(field.name):
            return "strong name"
        if WEAK.search(field.name):
            return "weak name"
    return None


def test_every_personal_looking_field_of_our_apps_is_declared_or_exempted() -> None:
    missing = []
    for model in _our_models():
        label = model._meta.label
        holder = personal_data.holder(label)
        declared = set(holder.fields + holder.scrub) if holder else set()
        for field in model._meta.concrete_fields:
            why = _personal_looking(field)
            if why is None or field.name in declared:
                continue
            if getattr(field, "translated_field", None) is not None:
                continue  # a language column of a translated field: declared with it
            if personal_data.is_exempt_field(f"{label}.{field.name}"):
                continue
            if why == "weak name" and (holder or personal_data.is_exempt_model(label)):
                continue
            missing.append(f"{label}.{field.name} ({why})")
    assert not missing, (
        "Declare these in the app's personal_data.py (a Holder's fields, or exempt_field with "
        "the reason they hold no citizen's data):\n" + "\n".join(missing)
    )


def test_every_model_of_our_apps_is_a_holder_or_exempt() -> None:
    unknown = [
        m._meta.label
        for m in _our_models()
        if personal_data.holder(m._meta.label) is None
        and not personal_data.is_exempt_model(m._meta.label)
        and any(f.is_relation and f.related_model is _contact() for f in m._meta.concrete_fields)
    ]
    assert not unknown, f"Models linked to a contact but not in the registry: {unknown}"


def test_declarations_name_real_fields_and_a_way_to_find_rows() -> None:
    for holder in personal_data.holders():
        model = holder.model_class
        for name in (*holder.fields, *holder.scrub, *holder.export_fields):
            model._meta.get_field(name.split("__")[0])  # raises for a typo
        assert holder.contact or holder.rows, holder.model
        assert holder.erase in Erase
        assert holder.export or holder.note, f"{holder.model}: say why it is not exported"


def test_the_detector_catches_the_fields_of_a_new_model() -> None:
    """The walker above is not vacuous: fields it has never seen are reported."""

    def named(field: models.Field, name: str) -> models.Field:
        field.set_attributes_from_name(name)
        return field

    assert _personal_looking(named(models.EmailField(), "signer")) == "EmailField"
    assert _personal_looking(named(models.FileField(), "scan")) == "FileField"
    assert _personal_looking(named(models.JSONField(), "answers")) == "JSONField"
    assert _personal_looking(named(models.TextField(), "comment")) == "strong name"
    assert _personal_looking(named(models.CharField(), "mobile_phone")) == "strong name"
    assert _personal_looking(named(models.CharField(), "signer_name")) == "weak name"
    assert _personal_looking(named(models.IntegerField(), "count")) is None
    assert _personal_looking(named(models.CharField(), "status")) is None
    assert personal_data.holder("contacts.Petition") is None
    assert not personal_data.is_exempt_model("contacts.Petition")


def _contact() -> type[models.Model]:
    return apps.get_model("contacts", "Contact")


def test_the_registry_counts_its_models() -> None:
    ours = [h for h in personal_data.holders() if h.model.split(".")[0] in OUR_APPS]
    assert len(ours) >= 14

"""Normalising and validating what citizens and staff type about a contact."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from contacts.models import CONTENT_LANGUAGES, ContactProperty, postal_code_validator

EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "language",
    "postal_code",
    "district",
    "birth_year",
)
MAX_LENGTHS = {"first_name": 100, "last_name": 150, "district": 100}


def email_normalise(raw: str) -> str:
    """Trimmed, lowercased and valid, or a ValidationError in the active language."""
    email = (raw or "").strip().lower()
    if not email:
        raise ValidationError(_("Enter an email address."), code="required")
    if len(email) > 254:
        raise ValidationError(_("The email address is too long."), code="max_length")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(_("Enter a valid email address."), code="invalid") from None
    return email


def email_hash(email: str) -> str:
    """A keyed hash of a normalised email (tombstones: recognise without keeping it; links).

    Keyed on PERSONAL_DATA_KEY, never SECRET_KEY: tombstones store this hash, so its key must
    outlive any rotation of SECRET_KEY. The derivation is the one SECRET_KEY had, so an
    installation that sets PERSONAL_DATA_KEY to its SECRET_KEY of before keeps its tombstones.
    """
    key = hashlib.sha256(b"contacts.email_hash:" + settings.PERSONAL_DATA_KEY.encode()).digest()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def email_fingerprint(email: str) -> str:
    """16 hex characters of a keyed hash of an address, bound into every signed link that names
    a contact or a sender: the link dies when the address changes or is erased.

    Keyed on PERSONAL_DATA_KEY, so rotating SECRET_KEY (with SECRET_KEY_FALLBACKS) voids no link
    already sent; and derived apart from `email_hash`, so a link (whose payload anyone holding
    it can read) tells nothing about the tombstones."""
    mac = _fingerprint_mac(settings.PERSONAL_DATA_KEY).copy()
    mac.update(email.strip().lower().encode())
    return mac.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _fingerprint_mac(personal_data_key: str) -> Any:
    # Keyed once per key: a campaign computes a fingerprint for every signed link it sends.
    key = hashlib.sha256(b"contacts.link_fingerprint:" + personal_data_key.encode())
    return hmac.new(key.digest(), digestmod=hashlib.sha256)


def phone_normalise(raw: str, region: str = "ES") -> str:
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number, e.g. 600 123 456 or +34 600 123 456."), code="invalid"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_fields_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated, normalised values for the editable fields present and non-blank in `data`.

    Blank values are dropped: writing a form or import row never erases what we knew.
    Raises ValidationError with a message per field.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in EDITABLE_FIELDS:
        value = data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            clean[field] = _clean_field(field, value)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_field(field: str, value: Any) -> Any:
    if field == "phone":
        return phone_normalise(str(value))
    if field == "postal_code":
        code = str(value).strip()
        if code.isdigit() and len(code) == 4:
            code = "0" + code  # spreadsheets drop the leading zero of 01000–09999
        postal_code_validator(code)
        return code
    if field == "language":
        code = str(value).strip().lower()[:2]
        if code not in dict(CONTENT_LANGUAGES):
            raise ValidationError(_("Choose one of the languages: es, ca, eu, gl, en."))
        return code
    if field == "birth_year":
        try:
            year = int(str(value).strip())
        except ValueError:
            raise ValidationError(_("Enter the year of birth as four digits.")) from None
        if not 1900 <= year <= 2100:
            raise ValidationError(_("Enter a year of birth between 1900 and today."))
        return year
    text = str(value).strip()
    if len(text) > MAX_LENGTHS[field]:
        raise ValidationError(
            _("This text is too long (%(max)s characters at most)."),
            params={"max": MAX_LENGTHS[field]},
        )
    return text


def properties_clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Custom property values typed by their ContactProperty; unknown keys are refused."""
    if not values:
        return {}
    definitions = {p.key: p for p in ContactProperty.objects.filter(key__in=list(values))}
    clean: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            errors.append(_("%(key)s is not a defined custom property.") % {"key": key})
            continue
        try:
            coerced = definition.coerce(value)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        if coerced is not None:
            clean[key] = coerced
    if errors:
        raise ValidationError({"properties": errors})
    return clean

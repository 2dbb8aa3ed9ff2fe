"""The citizen's form, built from the staff's FormFields for one language.

Everything a citizen sends is validated here, so that the service only ever sees clean values:
per-kind size limits, uploads checked by their content, contact fields and custom properties
through the CRM's own validators (their errors shown next to the field that filled them).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact, Topic
from contacts.validation import contact_fields_clean, phone_normalise, properties_clean
from conversion.models import Form as FormModel
from conversion.models import FormField

HONEYPOT_FIELD = "website"
STARTED_FIELD = "started"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
STARTED_SALT = "conversion.started"
# A form left open longer than this is simply sent again with a fresh timestamp.
STARTED_MAX_AGE = 24 * 3600

DEFAULT_MAX_LENGTHS: dict[str, int] = {FormField.Kind.TEXT: 200, FormField.Kind.TEXTAREA: 5000}
UTM_MAX_LENGTH = 200
# What the first bytes of an upload must be; the name and the browser's type are not trusted.
UPLOAD_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
AUTOCOMPLETE = {
    "email": "email",
    "first_name": "given-name",
    "last_name": "family-name",
    "phone": "tel",
    "postal_code": "postal-code",
    "birth_year": "bday-year",
    "language": "language",
}
TOO_FAST = _("Please take a moment to check your answers and send the form again.")
GROUP_KINDS = {FormField.Kind.RADIO, FormField.Kind.CHECKBOXES, FormField.Kind.TOPICS}


class _StartedSigner(signing.TimestampSigner):
    """Signs the time the form was shown; `at` lets tests show a form in the past."""

    def __init__(self, at: float | None = None) -> None:
        super().__init__(salt=STARTED_SALT)
        self.at = at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self.at if self.at is not None else time.time()))


def started_token(at: float | None = None, *, subject: str = "form") -> str:
    """The signed `started` value for a form shown at `at` (now by default); `subject` binds it
    to one form where that matters (conversion.embedding)."""
    return _StartedSigner(at).sign(subject)


def _started_at(token: str) -> float | None:
    """When a form was shown, from its signed `started` value; None if stale or tampered."""
    try:
        value = _StartedSigner().unsign(token, max_age=STARTED_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    # `unsign` checked the signature and age of "<subject>:<timestamp>"; the time is its tail.
    stamp = token[len(value) + 1 :].partition(":")[0]
    try:
        return float(signing.b62_decode(stamp))
    except ValueError:
        return None


def upload_content_type(upload: UploadedFile) -> str | None:
    """The accepted type an upload's first bytes show, or None."""
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(position)
    for content_type, signatures in UPLOAD_SIGNATURES.items():
        if any(head.startswith(signature) for signature in signatures):
            return content_type
    return None


def validate_upload(upload: UploadedFile) -> None:
    limit_mb = getattr(settings, "CONVERSION_MAX_UPLOAD_MB", 5)
    if upload.size is not None and upload.size > limit_mb * 1024 * 1024:
        raise ValidationError(
            _("The file is too large: %(limit)s MB at most."), params={"limit": limit_mb}
        )
    if upload_content_type(upload) is None:
        raise ValidationError(_("Send a PDF, JPEG or PNG file."))


class EmailField(forms.EmailField):
    """An address as the CRM keeps it: trimmed and lowercased."""

    def clean(self, value: Any) -> str:
        return str(super().clean(value) or "").lower()


class PhoneField(forms.CharField):
    """A phone number, normalised to E.164 like the CRM stores it."""

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        return phone_normalise(text) if text else ""


class CampaignField(forms.CharField):
    """A hidden UTM value carried from the address. The citizen can neither see nor correct it,
    so it never refuses the form: cut to size and without NUL (which PostgreSQL cannot store)."""

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            value = value.replace("\x00", "")
        return str(super().to_python(value))[:UTM_MAX_LENGTH]


def known_key(field: FormField) -> str:
    """The name under which a recognised contact's value for this field is `known`."""
    if field.target == FormField.Target.CONTACT:
        return field.target_key
    if field.target == FormField.Target.PROPERTY:
        return f"property:{field.target_key}"
    if field.target == FormField.Target.TOPIC:
        return f"topic:{field.target_key}"
    return ""


def contact_known_values(contact: Contact) -> dict[str, Any]:
    """What we already know about a recognised contact, keyed like `known_key`."""
    known: dict[str, Any] = {
        name: getattr(contact, name)
        for name in ("first_name", "last_name", "phone", "postal_code", "birth_year", "language")
        if getattr(contact, name) not in (None, "")
    }
    known.update(
        {f"property:{key}": value for key, value in contact.properties.items() if value != ""}
    )
    known.update(
        {
            f"topic:{slug}": True
            for slug in contact.subscriptions.filter(status="active").values_list(
                "topic__slug", flat=True
            )
        }
    )
    return known


def _public_topic_choices() -> list[tuple[str, str]]:
    return [(t.slug, t.name) for t in Topic.objects.filter(is_public=True)]


def _widget_attrs(field: FormField) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if field.kind == FormField.Kind.EMAIL:
        attrs["autocomplete"] = "email"
    elif field.target == FormField.Target.CONTACT and field.target_key in AUTOCOMPLETE:
        attrs["autocomplete"] = AUTOCOMPLETE[field.target_key]
    elif field.kind == FormField.Kind.PHONE:
        attrs["autocomplete"] = "tel"
    elif field.kind == FormField.Kind.POSTAL_CODE:
        attrs["autocomplete"] = "postal-code"
    if field.kind == FormField.Kind.POSTAL_CODE:
        attrs["inputmode"] = "numeric"
    return attrs


def _django_field(field: FormField) -> forms.Field:
    """One Django field for a FormField, labels in the active language."""
    kind = field.kind
    common: dict[str, Any] = {
        "label": field.label,
        "help_text": field.help_text,
        "required": field.required,
    }
    attrs = _widget_attrs(field)
    if kind == FormField.Kind.CONSENT or (
        field.target == FormField.Target.TOPIC and kind != FormField.Kind.TOPICS
    ):
        label = field.consent_text or field.label if kind == FormField.Kind.CONSENT else field.label
        return forms.BooleanField(**{**common, "label": label}, initial=False)
    if kind == FormField.Kind.TEXTAREA:
        return forms.CharField(
            **common,
            max_length=field.max_length or DEFAULT_MAX_LENGTHS[kind],
            widget=forms.Textarea(attrs={**attrs, "rows": "5"}),
        )
    if kind == FormField.Kind.EMAIL:
        return EmailField(**common, max_length=254, widget=forms.EmailInput(attrs=attrs))
    if kind == FormField.Kind.PHONE:
        return PhoneField(
            **common, max_length=30, widget=forms.TextInput(attrs={**attrs, "type": "tel"})
        )
    if kind == FormField.Kind.NUMBER:
        return forms.DecimalField(
            **common,
            max_digits=15,
            decimal_places=4,
            widget=forms.NumberInput(attrs={**attrs, "step": "any"}),
        )
    if kind == FormField.Kind.DATE:
        return forms.DateField(
            **common, widget=forms.DateInput(attrs={**attrs, "type": "date"}, format="%Y-%m-%d")
        )
    if kind == FormField.Kind.SELECT:
        return forms.ChoiceField(
            **common,
            choices=[("", "—"), *field.choice_pairs()],
            widget=forms.Select(attrs=attrs),
        )
    if kind == FormField.Kind.RADIO:
        return forms.ChoiceField(**common, choices=field.choice_pairs(), widget=forms.RadioSelect)
    if kind == FormField.Kind.CHECKBOXES:
        return forms.MultipleChoiceField(
            **common, choices=field.choice_pairs(), widget=forms.CheckboxSelectMultiple
        )
    if kind == FormField.Kind.TOPICS:
        return forms.MultipleChoiceField(
            **common, choices=_public_topic_choices(), widget=forms.CheckboxSelectMultiple
        )
    if kind == FormField.Kind.POSTAL_CODE:
        return forms.RegexField(
            **common,
            regex=r"^(0[1-9]|[1-4]\d|5[0-2])\d{3}$",
            max_length=5,
            error_messages={
                "invalid": _("Enter a valid Spanish postal code: five digits, starting 01–52.")
            },
            widget=forms.TextInput(attrs=attrs),
        )
    if kind == FormField.Kind.FILE:
        return forms.FileField(
            **common,
            max_length=255,
            validators=[validate_upload],
            widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        )
    return forms.CharField(
        **common,
        max_length=field.max_length or DEFAULT_MAX_LENGTHS[FormField.Kind.TEXT],
        widget=forms.TextInput(attrs=attrs),
    )


# Per process: form id -> ((updated_at, version), its fields in order). A form's fields are read
# on every view and submission of it and change rarely; any change moves `Form.updated_at`.
_FIELDS: dict[int, tuple[tuple[Any, int], list[FormField]]] = {}


def form_fields(form: FormModel) -> list[FormField]:
    """The form's fields in order, read once per process while the form is unchanged.

    Callers must not modify the instances: they are shared by the process's later requests.
    """
    key = (form.updated_at, form.version)
    cached = _FIELDS.get(form.pk)
    if cached is not None and cached[0] == key:
        return cached[1]
    fields = list(FormField.objects.filter(form_id=form.pk).order_by("order", "id"))
    _FIELDS[form.pk] = (key, fields)
    return fields


# Per process: slug -> (when it was checked, (id, updated_at, version), the published Form).
# Loading one costs ~80 columns of translated texts; a small row (id, updated_at, version) says
# whether it changed, and is read again only once CONVERSION_FORM_CHECK_SECONDS have passed
# since the last check, so a busy form costs no query at all on most requests.
_PUBLISHED: dict[str, tuple[float, tuple[int, Any, int], FormModel]] = {}


def form_published(slug: str) -> FormModel:
    """The published form with this slug (Http404 if none), loaded once per process while it is
    unchanged. A change (edited, unpublished) shows within CONVERSION_FORM_CHECK_SECONDS.
    Callers must not modify it: the process's later requests share it."""
    cached = _PUBLISHED.get(slug)
    now = time.monotonic()
    if cached is not None and now - cached[0] < settings.CONVERSION_FORM_CHECK_SECONDS:
        return cached[2]
    row = (
        FormModel.objects.filter(slug=slug, status=FormModel.Status.PUBLISHED)
        .values_list("pk", "updated_at", "version")
        .first()
    )
    if row is None:
        _PUBLISHED.pop(slug, None)
        raise Http404("No published form has this address.")
    unchanged = cached is not None and cached[1] == row
    form = cached[2] if cached is not None and unchanged else FormModel.objects.get(pk=row[0])
    _PUBLISHED[slug] = (now, (form.pk, form.updated_at, form.version), form)
    return form


def published_forms_forget() -> None:
    """Forget the published forms this process keeps (a test that recreates a form)."""
    _PUBLISHED.clear()


def visible_fields(form: FormModel, *, known: Mapping[str, Any] | None = None) -> list[FormField]:
    """The FormFields shown, in order: progressive profiling for a recognised contact.

    Anonymous visitors never see progressive fields. For a recognised contact, fields whose value
    we know are dropped (not prefilled: a forwarded link must not show their data), progressive
    fields are asked instead, and at most `progressive_max_fields` fields are shown. The e-mail,
    consent and UTM fields are always kept: they say who sends and what they agree to.
    """
    all_fields = form_fields(form)
    if known is None:
        return [f for f in all_fields if not f.progressive]
    always = {FormField.Kind.EMAIL, FormField.Kind.CONSENT, FormField.Kind.UTM}
    kept, candidates = [], []
    for field in all_fields:
        if field.kind in always:
            kept.append(field)
            continue
        key = known_key(field)
        if key and known.get(key) not in (None, "", False):
            continue
        candidates.append(field)
    # Unknown regular fields come first, then the progressive queue, within the limit.
    candidates.sort(key=lambda f: f.progressive)
    limit = form.progressive_max_fields
    if limit is not None:
        room = max(limit - sum(1 for f in kept if f.kind != FormField.Kind.UTM), 0)
        candidates = candidates[:room]
    chosen = {f.pk for f in kept + candidates}
    return [f for f in all_fields if f.pk in chosen]


class CitizenForm(forms.Form):
    """Base of every built form: the anti-abuse fields and the CRM validation."""

    conversion_form: FormModel
    form_fields: dict[str, FormField]
    language: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # When the form was shown, read once (a signature check is the dearest step of a POST).
        token = str(self.data.get(STARTED_FIELD, "")) if self.is_bound else ""
        self._started_at = _started_at(token) if self.is_bound else None
        if self.is_bound and self._started_at is None:
            # A stale or tampered timestamp: the page shown again carries a fresh one.
            data = cast(Any, self.data).copy()
            data[STARTED_FIELD] = started_token()
            self.data = data

    @property
    def honeypot_filled(self) -> bool:
        """A bot filled the hidden `website` field: answer like a success, store nothing."""
        return bool(self.is_bound and str(self.data.get(HONEYPOT_FIELD, "")).strip())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        minimum = getattr(settings, "CONVERSION_MIN_FILL_SECONDS", 3)
        if self._started_at is None or time.time() - self._started_at < minimum:
            raise ValidationError(TOO_FAST, code="too_fast")
        self._crm_clean(cleaned)
        return cleaned

    def _crm_clean(self, cleaned: Mapping[str, Any]) -> None:
        """Values for the contact go through the CRM's validators; errors by the field."""
        contact_keys: dict[str, str] = {}
        property_keys: dict[str, str] = {}
        for key, field in self.form_fields.items():
            if key not in cleaned or cleaned[key] in (None, "", []):
                continue
            if field.target == FormField.Target.CONTACT and field.target_key != "email":
                contact_keys[field.target_key] = key
            elif field.target == FormField.Target.PROPERTY:
                property_keys[field.target_key] = key
        try:
            contact_fields_clean(
                {target: _crm_value(cleaned[key]) for target, key in contact_keys.items()}
            )
        except ValidationError as error:
            for target, messages in _error_items(error):
                self._error_by_field(contact_keys.get(target or ""), messages)
        # One property at a time: the CRM reports property errors together, not by property.
        for target, key in property_keys.items():
            try:
                properties_clean({target: _crm_value(cleaned[key])})
            except ValidationError as error:
                self._error_by_field(key, error.messages)

    def _error_by_field(self, key: str | None, messages: list[str]) -> None:
        self.add_error(key if key and key in self.fields else None, messages)


def _crm_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json_value(value)


def _error_items(error: ValidationError) -> list[tuple[str | None, list[str]]]:
    if hasattr(error, "error_dict"):
        return [
            (name, ValidationError(errors).messages) for name, errors in error.error_dict.items()
        ]
    return [(None, error.messages)]


def json_value(value: Any) -> Any:
    """A cleaned value as stored in `Submission.values` (JSON-safe)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, UploadedFile):
        return {"name": value.name, "size": value.size}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


# Per process: the anonymous citizen form class per (form id, updated_at, version, language).
# Django copies `base_fields` into each instance, so one class serves every request.
_CLASSES: dict[tuple[int, Any, int, str], type[CitizenForm]] = {}


def form_class_for(
    form: FormModel, *, language: str, known: Mapping[str, Any] | None = None
) -> type[CitizenForm]:
    """The citizen form for `form` in `language`; `known` turns on progressive profiling."""
    if known is not None:
        return _form_class_build(form, language=language, known=known)
    key = (form.pk, form.updated_at, form.version, language)
    form_class = _CLASSES.get(key)
    if form_class is None:
        if len(_CLASSES) > 1000:  # forms edited many times in a long-lived process
            _CLASSES.clear()
        form_class = _CLASSES[key] = _form_class_build(form, language=language, known=None)
    return form_class


def _form_class_build(
    form: FormModel, *, language: str, known: Mapping[str, Any] | None
) -> type[CitizenForm]:
    attrs: dict[str, Any] = {}
    form_fields: dict[str, FormField] = {}
    with translation.override(language):
        for field in visible_fields(form, known=known):
            if field.kind == FormField.Kind.UTM:
                for name in UTM_FIELDS:
                    attrs[name] = CampaignField(
                        required=False, max_length=UTM_MAX_LENGTH, widget=forms.HiddenInput
                    )
                continue
            attrs[field.key] = _django_field(field)
            form_fields[field.key] = field
    attrs[HONEYPOT_FIELD] = forms.CharField(
        required=False,
        max_length=200,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    attrs[STARTED_FIELD] = forms.CharField(
        required=False, max_length=100, initial=started_token, widget=forms.HiddenInput
    )
    attrs["conversion_form"] = form
    attrs["form_fields"] = form_fields
    attrs["language"] = language
    return type(f"Form{form.pk}Citizen", (CitizenForm,), attrs)


@dataclass(frozen=True)
class TemplateField:
    """A visible field for the template: groups (radio, checkboxes) need fieldset/legend."""

    bound: forms.BoundField
    kind: str
    is_group: bool
    is_checkbox: bool


def fields_for_template(bound_form: CitizenForm) -> list[TemplateField]:
    """The citizen-visible fields in order (not the honeypot, `started` or hidden UTM fields)."""
    out = []
    for key, field in bound_form.form_fields.items():
        is_checkbox = field.kind == FormField.Kind.CONSENT or (
            field.target == FormField.Target.TOPIC and field.kind != FormField.Kind.TOPICS
        )
        out.append(
            TemplateField(
                bound=bound_form[key],
                kind=field.kind,
                is_group=field.kind in GROUP_KINDS and not is_checkbox,
                is_checkbox=is_checkbox,
            )
        )
    return out


def consent_purposes_ticked(bound_form: CitizenForm) -> set[str]:
    """Consent purposes the citizen ticked (e.g. TRACKING allows the recognition cookie)."""
    cleaned = getattr(bound_form, "cleaned_data", {})
    return {
        field.consent_purpose
        for key, field in bound_form.form_fields.items()
        if field.kind == FormField.Kind.CONSENT and cleaned.get(key)
    }

"""What the public form API reads and answers (conversion.api): a form's definition in one
language, a submission's envelope, and the answers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from conversion.embedding import form_token
from conversion.forms import UTM_FIELDS, UTM_MAX_LENGTH, CitizenForm
from conversion.models import Form, FormField

VALUE_TYPES = ("text", "number", "date", "boolean", "list", "file")
RIGHTS_TEXT = _(
    "You can access, rectify and erase your data, object to or restrict its use and take it "
    "elsewhere, from your email preferences or by writing to us."
)


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class FieldSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The name to use in `values` when sending.")
    kind = serializers.ChoiceField(choices=FormField.Kind.choices)
    value_type = serializers.ChoiceField(
        choices=VALUE_TYPES,
        help_text=(
            "What to send: text (a string), number, date (YYYY-MM-DD), boolean (true/false), "
            "list (of choice values). Files cannot be sent over JSON."
        ),
    )
    label = serializers.CharField()
    help = serializers.CharField(allow_blank=True)
    required = serializers.BooleanField()
    choices = ChoiceSerializer(many=True)
    max_length = serializers.IntegerField(allow_null=True)


class PrivacyNoticeSerializer(serializers.Serializer):
    """The first layer of the data-protection notice, to show next to the form (RGPD art. 13)."""

    controller = serializers.CharField()
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    rights = serializers.CharField()
    preferences_url = serializers.URLField()
    privacy_policy_url = serializers.URLField()


class FormDefinitionSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    language = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField(allow_blank=True)
    submit_label = serializers.CharField()
    fields = FieldSerializer(many=True)
    utm_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="Campaign keys accepted in `utm` (empty: the form records none).",
    )
    privacy = PrivacyNoticeSerializer()
    token = serializers.CharField(
        help_text="Send it back with the answers: it proves the form came from us, bound to "
        "this form, and carries the time it was loaded (minimum fill time). Valid 24 hours."
    )
    min_fill_seconds = serializers.IntegerField()
    submittable = serializers.BooleanField(
        help_text="False when a required file field means it can only be sent from its page."
    )
    submit_url = serializers.URLField()


class SubmissionRequestSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=300, help_text="The `token` of the definition.")
    values = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Answers by field key: strings, numbers, true/false, or lists of choices.",
    )
    utm = serializers.DictField(
        child=serializers.CharField(max_length=UTM_MAX_LENGTH, allow_blank=True),
        required=False,
        default=dict,
    )
    website = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text="Leave it empty: a field people never fill (a trap for bots).",
    )


class SubmissionReceivedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["received"])
    message = serializers.CharField(help_text="The form's success message, to show the citizen.")


class SubmissionErrorsSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages in the citizen's language by field key (`non_field_errors` for the "
        "whole form, `token`, `utm`).",
    )


class FormProblemSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- Building the definition ------------------------------------------------------------------


def value_type(field: forms.Field) -> str:
    if isinstance(field, forms.BooleanField):
        return "boolean"
    if isinstance(field, forms.MultipleChoiceField):
        return "list"
    if isinstance(field, forms.DecimalField):
        return "number"
    if isinstance(field, forms.DateField):
        return "date"
    if isinstance(field, forms.FileField):
        return "file"
    return "text"


def _choices(field: forms.Field) -> list[dict[str, str]]:
    pairs = getattr(field, "choices", None) or []
    return [{"value": str(value), "label": str(label)} for value, label in pairs if value != ""]


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def form_definition(form: Form, form_class: type[CitizenForm], *, language: str) -> dict[str, Any]:
    """The public definition of `form` as `form_class` builds it, in `language` (active)."""
    fields = []
    for key, model_field in form_class.form_fields.items():
        field = form_class.base_fields[key]
        fields.append(
            {
                "key": key,
                "kind": model_field.kind,
                "value_type": value_type(field),
                "label": str(field.label or ""),
                "help": str(field.help_text or ""),
                "required": field.required,
                "choices": _choices(field),
                "max_length": getattr(field, "max_length", None),
            }
        )
    with translation.override(language):
        preferences_url = _absolute(reverse("contacts_public:preferences-request"))
        privacy_url = _absolute(reverse("privacy"))
        submit_label = form.submit_label or str(_("Send"))
        privacy = {
            "controller": settings.INSTITUTION["name"],
            "purpose": form.purpose_notice,
            "legal_basis": capfirst(str(form.get_legal_basis_display())),
            "rights": str(RIGHTS_TEXT),
            "preferences_url": preferences_url,
            "privacy_policy_url": privacy_url,
        }
        definition = {
            "slug": form.slug,
            "language": language,
            "title": form.title,
            "intro": form.intro,
            "submit_label": submit_label,
        }
    return {
        **definition,
        "fields": fields,
        "utm_fields": [name for name in UTM_FIELDS if name in form_class.base_fields],
        "privacy": privacy,
        "token": form_token(form),
        "min_fill_seconds": int(getattr(settings, "CONVERSION_MIN_FILL_SECONDS", 3)),
        "submittable": not any(
            m.kind == FormField.Kind.FILE and m.required for m in form_class.form_fields.values()
        ),
        "submit_url": _absolute(
            reverse("conversion_api:form-submissions", kwargs={"slug": form.slug})
        ),
    }

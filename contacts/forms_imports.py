"""Forms of the contact import: the upload, then the column mapping and the legal basis."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contacts.import_files import (
    MAX_FILE_BYTES,
    ImportFileError,
    file_header,
    file_is_xlsx,
    xlsx_check,
)
from contacts.imports import IGNORE, mapping_check, mapping_choices
from contacts.models import ConsentRecord, Topic


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (comma or semicolon separated) or Excel XLSX, up to 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(_("The file is larger than 20 MB."))
        if not upload.name.lower().endswith((".csv", ".txt", ".xlsx")):
            raise ValidationError(_("Upload a CSV or XLSX file."))
        # Only what is cheap and bounded happens in the request: the zip directory of an XLSX
        # (its size once uncompressed), or the first row of a CSV. The worker opens an XLSX.
        self.header: list[str] = []
        try:
            if file_is_xlsx(upload, upload.name):
                xlsx_check(upload)
            else:
                self.header = file_header(upload, upload.name)
        except ImportFileError as error:
            raise ValidationError(str(error.message)) from None
        upload.seek(0)
        return upload


class ImportMappingForm(forms.Form):
    """One select per column of the file, then the legal basis and the topics."""

    legal_basis = forms.ChoiceField(
        label=_("Legal basis"),
        choices=ConsentRecord.LegalBasis.choices,
        widget=forms.RadioSelect,
        help_text=_("Why the institution may hold and contact these people (RGPD art. 6)."),
    )
    consent_text = forms.CharField(
        label=_("Consent text or reference"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For consent: the text the people agreed to, or where the signed forms are kept."
        ),
    )
    topics: forms.ModelMultipleChoiceField[Topic] = forms.ModelMultipleChoiceField(
        label=_("Subscribe everyone to"),
        queryset=Topic.objects.order_by("order", "slug"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, header: list[str], initial_mapping: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = mapping_choices()
        self.columns: list[tuple[str, str]] = []
        for index, name in enumerate(header):
            key = f"column_{index}"
            self.fields[key] = forms.ChoiceField(
                label=name or _("Column %(number)s") % {"number": index + 1},
                choices=choices,
                initial=initial_mapping.get(str(index), IGNORE),
            )
            self.columns.append((key, name))

    def column_fields(self) -> list[forms.BoundField]:
        return [self[key] for key, _name in self.columns]

    def mapping(self) -> dict[str, str]:
        return {
            key.removeprefix("column_"): self.cleaned_data.get(key, IGNORE)
            for key, _name in self.columns
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            mapping_check(self.mapping())
        except ImportFileError as error:
            raise ValidationError(str(error.message)) from None
        if cleaned.get("legal_basis") == ConsentRecord.LegalBasis.CONSENT and not (
            cleaned.get("consent_text") or ""
        ).strip():
            self.add_error(
                "consent_text",
                _("Give the consent text or the reference of the consent the people gave."),
            )
        return cleaned

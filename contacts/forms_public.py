"""Forms of the public preference centre and the data-request pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts.links import DATA_EXPORT, ERASURE
from contacts.models import CONTENT_LANGUAGES, Contact, Subscription, Topic
from contacts.rights import PAUSE_MONTHS, pause_until, public_topics


class EmailRequestForm(forms.Form):
    """Ask for a fresh link: the answer never says whether the address is known."""

    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class RadioGroup(forms.RadioSelect):
    """Radios whose field "label" is its first radio: the error summary's link lands on it."""

    def id_for_label(self, id_: str, index: str | None = "0") -> str:
        return super().id_for_label(id_, index or "0")


class DataRequestForm(EmailRequestForm):
    """Ask for a single-use link to download one's data or to erase it."""

    field_order = ["purpose", "email"]
    purpose = forms.ChoiceField(
        label=_("What do you want to do?"),
        choices=[
            (DATA_EXPORT, _("Download a copy of my data")),
            (ERASURE, _("Erase my personal data")),
        ],
        initial=DATA_EXPORT,
        widget=RadioGroup,
        error_messages={"required": _("Choose what you want to do.")},
    )


def frequency_choices() -> list[tuple[str, Any]]:
    """How often a topic's news may come (`Subscription.Frequency`), as the form offers it."""
    Frequency = Subscription.Frequency
    return [
        (Frequency.IMMEDIATE.value, _("As soon as it is published")),
        (Frequency.DAILY.value, _("Once a day, in a summary")),
        (Frequency.WEEKLY.value, _("Once a week, in a summary")),
    ]


class PreferencesForm(forms.Form):
    """Topics (each with how often its news comes), newsletter, language and a pause.

    One radio group per topic, `frequency_<topic id>`, shown under the topic's checkbox. Left
    out of a submission it keeps the current choice (or "as soon as it is published")."""

    topics: forms.ModelMultipleChoiceField[Topic] = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    newsletter = forms.BooleanField(label=_("General newsletter"), required=False)
    language = forms.ChoiceField(label=_("Preferred language"), choices=CONTENT_LANGUAGES)
    pause = forms.ChoiceField(
        label=_("Pause all email"),
        widget=forms.RadioSelect,
        initial="none",
    )
    pause_date = forms.DateField(
        label=_("Pause until this date"),
        required=False,
        help_text=_("Format: YYYY-MM-DD."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, contact: Contact, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = public_topics()  # type: ignore[attr-defined]
        self.topic_list = list(public_topics())
        current = dict(
            Subscription.objects.filter(contact=contact).values_list("topic_id", "frequency")
        )
        for topic in self.topic_list:
            self.fields[f"frequency_{topic.pk}"] = forms.ChoiceField(
                label=_("How often do you want news about %(topic)s?") % {"topic": topic.name},
                choices=frequency_choices(),
                required=False,
                widget=RadioGroup,
                initial=current.get(topic.pk, Subscription.Frequency.IMMEDIATE),
            )
        # Each topic's question right after the topics, as on the page (the error summary).
        self.order_fields(["topics", *(f"frequency_{topic.pk}" for topic in self.topic_list)])
        self.fields["pause"].choices = [  # type: ignore[attr-defined]
            ("none", _("Do not pause")),
            *[
                (str(m), ngettext("For %(count)s month", "For %(count)s months", m) % {"count": m})
                for m in PAUSE_MONTHS
            ],
            ("date", _("Until the date below")),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("pause") == "date":
            date = data.get("pause_date")
            if date is None:
                self.add_error("pause_date", _("Enter the date to pause email until."))
            elif date <= timezone.localdate():
                self.add_error("pause_date", _("Enter a date in the future."))
            elif date > timezone.localdate() + dt.timedelta(days=366):
                self.add_error("pause_date", _("Email can be paused for one year at most."))
        return data

    def topic_rows(self) -> list[tuple[Any, forms.BoundField]]:
        """Each topic's checkbox with its frequency radio group, in the topics' order."""
        checkboxes = {str(box.data["value"]): box for box in self["topics"]}
        return [
            (checkboxes[str(topic.pk)], self[f"frequency_{topic.pk}"])
            for topic in self.topic_list
            if str(topic.pk) in checkboxes
        ]

    def frequencies(self) -> dict[int, str]:
        """The frequency chosen for each topic (topics left without an answer are absent)."""
        return {
            topic.pk: self.cleaned_data[f"frequency_{topic.pk}"]
            for topic in self.topic_list
            if self.cleaned_data.get(f"frequency_{topic.pk}")
        }

    def paused_until(self) -> dt.date | None:
        return pause_until(
            choice=self.cleaned_data["pause"], date=self.cleaned_data.get("pause_date")
        )


class ConfirmForm(forms.Form):
    """The second step of an irreversible action: a box the citizen must tick."""

    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm.")},
    )

"""The form builder in the admin: fields inline, a new version when a seen form's fields
change, a preview link, read-only submissions and the outbox's "retry now"."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conversion.models import Form, SideEffect
from conversion.services import submission_create
from tests.conversion.factories import FormFactory, newsletter_form

pytestmark = pytest.mark.django_db


class FormInputs(HTMLParser):
    """The values a browser would post from the page's main form (the admin change form)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[name] = a.get("value") or "on"
            else:
                self.data[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += (
                data.lstrip("\n") if not self.data[self._textarea] else data
            )


def change_form_data(client: Client, url: str) -> dict[str, Any]:
    parser = FormInputs()
    parser.feed(client.get(url).content.decode())
    return {k: v for k, v in parser.data.items() if "__prefix__" not in k}


def submit(form: Form) -> None:
    submission_create(
        form=form,
        cleaned={"email": "ana@correo.example"},
        files={},
        language="es",
        page="",
        referrer="",
        visitor_key="",
    )


def test_a_marketer_sees_the_forms_with_fields_and_a_preview_link(
    client: Client, marketer: Any
) -> None:
    form = newsletter_form(status=Form.Status.DRAFT)
    client.force_login(marketer)
    listing = client.get(reverse("admin:conversion_form_changelist"))
    assert listing.status_code == 200 and form.name in listing.content.decode()
    page = client.get(reverse("admin:conversion_form_change", args=[form.pk])).content.decode()
    assert reverse("conversion:preview", kwargs={"slug": form.slug}) in page
    assert 'name="fields-0-key"' in page and 'value="email"' in page


def test_changing_a_published_form_fields_makes_a_new_version(
    client: Client, marketer: Any
) -> None:
    form = newsletter_form()
    client.force_login(marketer)
    url = reverse("admin:conversion_form_change", args=[form.pk])
    data = change_form_data(client, url)
    key = next(k for k, v in data.items() if k.endswith("-key") and v == "nombre")
    data[key.replace("-key", "-label_es")] = "Tu nombre"

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    form.refresh_from_db()
    assert form.version == 2
    assert form.fields.get(key="nombre").label_es == "Tu nombre"


def test_saving_a_published_form_unchanged_keeps_its_version(client: Client, marketer: Any) -> None:
    form = newsletter_form()
    client.force_login(marketer)
    url = reverse("admin:conversion_form_change", args=[form.pk])
    response = client.post(url, change_form_data(client, url))
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.version == 1


def test_a_draft_nobody_answered_keeps_its_version_while_fields_change(
    client: Client, marketer: Any
) -> None:
    form = newsletter_form(status=Form.Status.DRAFT)
    client.force_login(marketer)
    url = reverse("admin:conversion_form_change", args=[form.pk])
    data = change_form_data(client, url)
    key = next(k for k, v in data.items() if k.endswith("-key") and v == "nombre")
    data[key.replace("-key", "-label_es")] = "Tu nombre"
    assert client.post(url, data).status_code == 302
    form.refresh_from_db()
    assert form.version == 1


def test_an_analyst_reads_forms_and_submissions_but_cannot_change_them(
    client: Client, analyst: Any
) -> None:
    form = newsletter_form()
    submit(form)
    submission = form.submissions.get()
    client.force_login(analyst)
    assert client.get(reverse("admin:conversion_form_change", args=[form.pk])).status_code == 200
    url = reverse("admin:conversion_submission_change", args=[submission.pk])
    page = client.get(url)
    assert page.status_code == 200 and "ana@correo.example" in page.content.decode()
    assert client.post(url, {}).status_code == 403
    assert client.get(reverse("admin:conversion_form_add")).status_code == 403


def test_submissions_are_searched_by_email_and_filtered_by_form(
    client: Client, marketer: Any
) -> None:
    form = newsletter_form()
    other = FormFactory()
    submit(form)
    client.force_login(marketer)
    url = reverse("admin:conversion_submission_changelist")
    # The full address finds unconfirmed submissions too (by its keyed hash).
    assert "ana@correo.example" in client.get(url, {"q": "ana@correo.example"}).content.decode()
    assert "ana@correo.example" not in client.get(url, {"q": "luis@"}).content.decode()
    page = client.get(url, {"form__id__exact": other.pk}).content.decode()
    assert "0 submissions" in page or "ana@correo.example" not in page
    assert client.get(reverse("admin:conversion_submission_add")).status_code == 403


def test_retry_now_makes_failed_side_effects_due_again(client: Client, marketer: Any) -> None:
    form = newsletter_form(notify_emails="prensa@villaclara.example")
    submit(form)
    effect = SideEffect.objects.get(kind=SideEffect.Kind.STAFF_NOTIFICATION)
    SideEffect.objects.filter(pk=effect.pk).update(
        status=SideEffect.Status.FAILED, attempts=6, next_attempt_at=timezone.now()
    )
    client.force_login(marketer)

    response = client.post(
        reverse("admin:conversion_sideeffect_changelist"),
        {"action": "retry_now", "_selected_action": [effect.pk]},
    )

    assert response.status_code == 302
    effect.refresh_from_db()
    assert effect.status == SideEffect.Status.PENDING
    assert effect.next_attempt_at <= timezone.now()


def test_an_analyst_cannot_retry_side_effects(client: Client, analyst: Any) -> None:
    form = newsletter_form(notify_emails="prensa@villaclara.example")
    submit(form)
    effect = SideEffect.objects.get(kind=SideEffect.Kind.STAFF_NOTIFICATION)
    SideEffect.objects.filter(pk=effect.pk).update(status=SideEffect.Status.FAILED)
    client.force_login(analyst)
    client.post(
        reverse("admin:conversion_sideeffect_changelist"),
        {"action": "retry_now", "_selected_action": [effect.pk]},
    )
    effect.refresh_from_db()
    assert effect.status == SideEffect.Status.FAILED

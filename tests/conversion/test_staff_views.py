"""Staff pages of Convertir: conversion figures, the submissions list, one submission, CSV."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conversion.models import Submission
from conversion.services import submission_create
from inbound.models import AuditEntry
from tests.conversion.factories import newsletter_form

pytestmark = pytest.mark.django_db

LIST = "/en/staff/conversion/submissions/"
EXPORT = "/en/staff/conversion/submissions/export.csv"
OVERVIEW = "/en/staff/conversion/"


def submit(form: Any, email: str, nombre: str = "Ana", **cleaned: Any) -> Submission:
    submission, _created = submission_create(
        form=form,
        cleaned={"email": email, "nombre": nombre, "boletin": True, **cleaned},
        files={},
        language="es",
        page="/es/formularios/x/",
        referrer="",
        visitor_key="v",
    )
    return submission


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_people_are_sent_to_log_in_and_editors_are_refused(editor: Any) -> None:
    assert Client().get(LIST).status_code == 302
    assert logged_in(editor).get(LIST).status_code == 403
    assert logged_in(editor).get(OVERVIEW).status_code == 403


def test_the_list_filters_by_form_and_searches_any_value(marketer: Any) -> None:
    mobility = newsletter_form(name="Movilidad")
    housing = newsletter_form(name="Vivienda")
    submit(mobility, "ana@example.com", nombre="Ana")
    submit(housing, "luis@example.com", nombre="Zoraida")

    client = logged_in(marketer)
    by_form = client.get(LIST, {"form": housing.pk}).content.decode()
    by_value = client.get(LIST, {"q": "zorai"}).content.decode()

    assert "luis@example.com" in by_form and "ana@example.com" not in by_form
    assert "luis@example.com" in by_value and "ana@example.com" not in by_value
    assert "1 submission" in by_form


def test_the_list_shown_is_audited_with_the_search_typed(analyst: Any) -> None:
    housing = newsletter_form(name="Vivienda")
    shown = submit(housing, "luis@example.com", nombre="Zoraida")
    submit(housing, "ana@example.com", nombre="Ana")

    logged_in(analyst).get(LIST, {"q": "zorai", "form": housing.pk})

    entry = AuditEntry.objects.get(action="submission_list_viewed")
    assert entry.actor == analyst
    assert entry.detail["ids"] == [shown.pk]
    assert entry.detail["search"] == "zorai"
    assert entry.detail["filters"] == {"form": str(housing.pk)}


def test_bad_filters_answer_400_with_the_error(marketer: Any) -> None:
    response = logged_in(marketer).get(LIST, {"since": "2025-02-02", "until": "2025-01-01"})

    assert response.status_code == 400
    assert "The start date must be on or before the end date." in response.content.decode()


def test_opening_a_submission_shows_its_values_and_is_audited(analyst: Any) -> None:
    from conversion.outbox import effects_due
    from conversion.services import optin_confirm, optin_token

    submission = submit(newsletter_form(), "ana@example.com", nombre="Ana")
    effects_due()
    optin_confirm(optin_token(submission))

    response = logged_in(analyst).get(f"{LIST}{submission.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "ana@example.com" in page
    assert "Quiero recibir el boletín." in page  # the consent text shown, in es
    assert "opt-in e-mail" in page
    entry = AuditEntry.objects.get(action="submission_viewed")
    assert entry.object_id == str(submission.pk)


def test_the_csv_escapes_formulas_and_is_audited(marketer: Any) -> None:
    form = newsletter_form()
    submit(form, "ana@example.com", nombre='=HYPERLINK("http://evil")')

    response = logged_in(marketer).get(EXPORT, {"form": form.pk})

    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert "'=HYPERLINK" in body
    assert "ana@example.com" in body
    entry = AuditEntry.objects.get(action="submissions_exported")
    assert entry.detail["count"] == 1


def test_analysts_cannot_export_and_see_no_export_link(analyst: Any) -> None:
    submit(newsletter_form(), "ana@example.com")
    client = logged_in(analyst)

    assert client.get(EXPORT).status_code == 403
    assert "Download these submissions" not in client.get(LIST).content.decode()
    assert not AuditEntry.objects.filter(action="submissions_exported").exists()


def test_the_overview_shows_each_published_form_with_its_submissions(admin_user: Any) -> None:
    form = newsletter_form(name="Boletín de movilidad")
    submit(form, "ana@example.com")
    submit(form, "luis@example.com")

    response = logged_in(admin_user).get(OVERVIEW, {"period": "7"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Boletín de movilidad" in page
    assert "Figures for the last 7 days." in page
    forms_table = page.split('class="conversion-forms"')[1].split("</table>")[0]
    assert f'?form={form.pk}">Boletín de movilidad</a>' in forms_table
    assert "<td>2</td>" in forms_table  # two submissions
    assert "No landing pages yet." in page


def test_an_unknown_period_answers_400(admin_user: Any) -> None:
    assert logged_in(admin_user).get(OVERVIEW, {"period": "5"}).status_code == 400

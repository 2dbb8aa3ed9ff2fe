"""Staff pages of the CRM in a real browser: every one passes axe, in Spanish and English."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from contacts.services import touchpoint_record
from tests.contacts.factories import ContactFactory, TopicFactory
from tests.e2e.accessibility import assert_accessible
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Page, user: Any, language: str) -> None:
    with translation.override(language):
        login = reverse("admin:login")
        username, password, submit = (
            translation.gettext(t) for t in ("Username", "Password", "Log in")
        )
    page.goto(login)
    page.get_by_label(username).fill(user.username)
    page.get_by_label(password).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=submit).click()
    page.wait_for_url("**/admin/")


def _proposal_for(contact: Any) -> None:
    """A stranger's submission with other values for the contact, applied by the relay."""
    from conversion.outbox import effects_due
    from conversion.services import submission_create
    from tests.conversion.factories import newsletter_form

    submission_create(
        form=newsletter_form(double_opt_in=False),
        cleaned={"email": contact.email, "nombre": "Dolores", "cp": "28999"},
        files={}, language="es", page="", referrer="", visitor_key="",
    )  # fmt: skip
    effects_due()


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", ["es", "en"])
def test_crm_staff_pages_have_no_wcag_violations(
    page: Page, site: str, marketer: Any, language: str
) -> None:
    from contacts.models import Persona

    persona = Persona.objects.create(
        name="Antonio, jubilado",
        summary="Jubilado activo",
        background="Vive en el Centro.",
        rules={"all": [{"field": "district", "op": "eq", "value": "Centro"}]},
    )
    from contacts.models import ImportJob

    job = ImportJob.objects.create(
        legal_basis="consent",
        created_by=marketer,
        status="done",
        original_name="lista.csv",
        total_rows=3,
        processed_rows=3,
        created_count=2,
        error_count=1,
        errors=[
            {
                "row": 3,
                "email": "mal@",
                "errors": {"email": ["Introduce una dirección de correo electrónico válida."]},
            }
        ],
    )
    reading = ImportJob.objects.create(
        legal_basis="consent", created_by=marketer, original_name="padron.xlsx"
    )  # the worker has not read its columns yet
    contact = ContactFactory(first_name="Lola", district="Centro", email="lola@correo.example")
    TopicFactory(slug="movilidad")
    touchpoint_record(kind="email_click", contact=contact, properties={"url": "/es/"})
    _proposal_for(contact)  # the page shows its "Proposed changes" panel
    sign_in(page, marketer, language)
    with translation.override(language):
        urls = [
            reverse("admin:contacts_contact_changelist"),
            reverse("admin:contacts_contact_change", args=[contact.pk]),
            reverse("admin:contacts_segment_add"),
            reverse("admin:contacts_topic_changelist"),
            reverse("contacts_imports:import-upload"),
            reverse("contacts_imports:import-detail", args=[job.pk]),
            reverse("contacts_imports:import-mapping", args=[reading.pk]),
            reverse("contacts_personas:persona-list"),
            reverse("contacts_personas:persona-detail", args=[persona.pk]),
            reverse("admin:contacts_persona_changelist"),
        ]
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_segment_member_count_follows_the_rules_as_they_are_typed(
    page: Page, site: str, marketer: Any
) -> None:
    ContactFactory(district="Centro")
    ContactFactory(district="Centro")
    ContactFactory(district="Norte")
    sign_in(page, marketer, "en")
    page.goto(reverse("admin:contacts_segment_add").replace("/es/", "/en/", 1))
    rules = page.locator("#id_rules")
    count = page.locator("#segment-live-count")
    rules.fill('{"field": "district", "op": "eq", "value": "Centro"}')
    expect(count).to_contain_text("2")
    rules.fill('{"field": "district", "op": "eq", "value": "Norte"}')
    expect(count).to_contain_text("1")
    rules.fill('{"field": "district", "op": "gtx", "value": "Norte"}')
    expect(count).to_contain_text("gtx")
    assert_accessible(page)

"""Workflows in a real browser: the workflow's page (diagram, problems, test run), the list, the
editor and the contact's "Workflows" panel pass axe; the page works with JavaScript off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.contacts.factories import ContactFactory
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_staff_pages import sign_in
from tests.workflows.test_staff import enrolled, reader_series
from workflows.models import Workflow, WorkflowStep
from workflows.services import workflow_activate

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_workflow_pages_have_no_wcag_violations(page: Page, site: str, marketer: Any) -> None:
    workflow = reader_series()
    workflow_activate(workflow=workflow, by=None)
    lucia = ContactFactory(email="lucia@correo.example")
    enrolled(workflow, lucia)
    broken = reader_series(name="Con problemas")
    WorkflowStep.objects.filter(workflow=broken, key="tag").update(next_key="nowhere")
    sign_in(page, marketer, "es")

    page.goto(reverse("workflows_staff:workflow", kwargs={"pk": workflow.pk}))
    expect(page.get_by_role("img", name=re.compile("^Diagrama del flujo"))).to_be_visible()
    expect(page.get_by_role("table", name="Contactos por paso")).to_contain_text("Esperar")
    assert_accessible(page)

    page.get_by_label("Correo electrónico del contacto").fill("lucia@correo.example")
    page.get_by_role("button", name="Hacer la prueba").click()
    expect(page.get_by_role("table", name="Recorrido simulado")).to_contain_text("Fin")
    assert_accessible(page)

    for url in (
        reverse("workflows_staff:workflow", kwargs={"pk": broken.pk}),
        reverse("workflows_staff:list"),
        reverse("admin:workflows_workflow_change", args=[workflow.pk]),
        reverse("admin:workflows_enrollment_changelist"),
        reverse("admin:contacts_contact_change", args=[lucia.pk]),
    ):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert_accessible(page)
    expect(page.get_by_role("heading", name="Flujos")).to_be_visible()


def test_a_workflow_is_activated_and_tested_with_javascript_off(
    page_without_js: Page, site: str, marketer: Any
) -> None:
    page = page_without_js
    workflow = reader_series()
    ContactFactory(email="lucia@correo.example")
    sign_in(page, marketer, "es")
    page.goto(reverse("workflows_staff:workflow", kwargs={"pk": workflow.pk}))

    page.get_by_role("button", name="Activar", exact=True).click()

    expect(
        page.get_by_text("Activo: los contactos se inscriben cuando ocurre el disparador.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Pausar", exact=True)).to_be_visible()
    page.get_by_label("Correo electrónico del contacto").fill("lucia@correo.example")
    page.get_by_role("button", name="Hacer la prueba").click()
    expect(page.get_by_role("table", name="Recorrido simulado")).to_contain_text(
        "¿Abrió el correo?"
    )
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.ACTIVE

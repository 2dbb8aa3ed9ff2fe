"""Webhook secrets in the admin (forms and workflow steps): typed, never shown back, kept when
left blank; changes to where data goes (webhook URL, notification list) are audited with the
values before and after, and never with the secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from conversion.models import Form
from inbound.models import AuditEntry
from tests.conversion.factories import newsletter_form
from tests.conversion.test_admin import change_form_data
from tests.factories import StaffFactory
from workflows.models import Workflow, WorkflowStep

pytestmark = pytest.mark.django_db

SECRET = "s3creto-que-nadie-debe-ver"
HOOK = "http://127.0.0.1:9/hook"  # loopback: allowed below, never called here


@pytest.fixture(autouse=True)
def _loopback_webhooks() -> Iterator[None]:
    with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
        yield


@pytest.fixture
def form() -> Form:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    return newsletter_form(
        notify_emails="prensa@villaclara.example", webhook_url=HOOK, webhook_secret=SECRET
    )


def form_url(form: Form) -> str:
    return reverse("admin:conversion_form_change", args=[form.pk])


def test_the_secret_is_never_shown_back_to_the_marketer(
    client: Client, marketer: Any, form: Form
) -> None:
    client.force_login(marketer)
    page = client.get(form_url(form)).content.decode()
    assert SECRET not in page
    assert 'type="password" name="webhook_secret"' in page


def test_a_viewer_sees_that_a_secret_is_set_but_not_the_secret(
    client: Client, analyst: Any, form: Form
) -> None:
    client.force_login(analyst)
    with translation.override("en"):
        page = client.get(form_url(form).replace("/es/", "/en/")).content.decode()
    assert SECRET not in page
    assert "Set (hidden)" in page
    assert client.post(form_url(form), {"webhook_secret": "otro"}).status_code == 403
    form.refresh_from_db()
    assert form.webhook_secret == SECRET


def test_a_blank_secret_keeps_the_stored_one_and_a_typed_one_replaces_it(
    client: Client, marketer: Any, form: Form
) -> None:
    client.force_login(marketer)
    data = change_form_data(client, form_url(form))
    assert data["webhook_secret"] == ""  # what the browser posts back untouched

    assert client.post(form_url(form), data).status_code == 302
    form.refresh_from_db()
    assert form.webhook_secret == SECRET

    typed = {**data, "webhook_secret": "nuevo-secreto"}
    assert client.post(form_url(form), typed).status_code == 302
    form.refresh_from_db()
    assert form.webhook_secret == "nuevo-secreto"


def test_removing_the_webhook_removes_its_secret(
    client: Client, marketer: Any, form: Form
) -> None:
    client.force_login(marketer)
    data = change_form_data(client, form_url(form))
    assert client.post(form_url(form), {**data, "webhook_url": ""}).status_code == 302
    form.refresh_from_db()
    assert (form.webhook_url, form.webhook_secret) == ("", "")


def test_where_a_form_sends_data_is_audited_before_and_after_without_the_secret(
    client: Client, marketer: Any, form: Form
) -> None:
    StaffFactory(username="movilidad", email="movilidad@villaclara.example")
    client.force_login(marketer)
    data = change_form_data(client, form_url(form))
    data.update(
        {
            "webhook_url": "http://127.0.0.1:9/otro",
            "webhook_secret": "secreto-nuevo-y-largo",
            "notify_emails": "movilidad@villaclara.example",
        }
    )
    assert client.post(form_url(form), data).status_code == 302

    entry = AuditEntry.objects.get(action="conversion.form_outbound_changed")
    assert entry.actor == marketer and entry.object_id == str(form.pk)
    assert entry.detail["changes"] == {
        "webhook_url": {"before": HOOK, "after": "http://127.0.0.1:9/otro"},
        "notify_emails": {
            "before": "prensa@villaclara.example",
            "after": "movilidad@villaclara.example",
        },
        "webhook_secret": "changed",
    }
    everything = str(list(AuditEntry.objects.values()))
    assert SECRET not in everything and "secreto-nuevo-y-largo" not in everything


def test_saving_without_touching_them_audits_no_change(
    client: Client, marketer: Any, form: Form
) -> None:
    client.force_login(marketer)
    assert client.post(form_url(form), change_form_data(client, form_url(form))).status_code == 302
    assert not AuditEntry.objects.filter(action="conversion.form_outbound_changed").exists()


def test_notifications_to_an_address_that_is_no_staff_account_are_refused_in_spanish(
    client: Client, marketer: Any, form: Form
) -> None:
    client.force_login(marketer)
    data = change_form_data(client, form_url(form))
    response = client.post(form_url(form), {**data, "notify_emails": "vecina@correo.example"})
    assert response.status_code == 200
    assert (
        "vecina@correo.example: no es la dirección de una cuenta activa del personal."
        in response.content.decode()
    )
    form.refresh_from_db()
    assert form.notify_emails == "prensa@villaclara.example"


# --- Workflow steps ----------------------------------------------------------------------------


@pytest.fixture
def workflow() -> Workflow:
    workflow = Workflow.objects.create(name="Avisos al CRM")
    WorkflowStep.objects.create(
        workflow=workflow,
        key="crm",
        order=0,
        kind=WorkflowStep.Kind.WEBHOOK,
        name="Avisar al CRM",
        webhook_url=HOOK,
        webhook_secret=SECRET,
    )
    return workflow


def workflow_url(workflow: Workflow) -> str:
    return reverse("admin:workflows_workflow_change", args=[workflow.pk])


def test_a_steps_secret_is_masked_kept_and_its_url_change_audited(
    client: Client, marketer: Any, workflow: Workflow
) -> None:
    client.force_login(marketer)
    page = client.get(workflow_url(workflow)).content.decode()
    assert SECRET not in page
    data = change_form_data(client, workflow_url(workflow))
    assert data["steps-0-webhook_secret"] == ""
    data["steps-0-webhook_url"] = "http://127.0.0.1:9/nuevo"

    response = client.post(workflow_url(workflow), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    step = workflow.steps.get()
    assert (step.webhook_url, step.webhook_secret) == ("http://127.0.0.1:9/nuevo", SECRET)
    entry = AuditEntry.objects.get(action="campaigns.step_outbound_changed")
    assert entry.detail == {
        "step": "crm",
        "changes": {"webhook_url": {"before": HOOK, "after": "http://127.0.0.1:9/nuevo"}},
    }


def test_a_viewer_never_sees_a_steps_secret(
    client: Client, analyst: Any, workflow: Workflow
) -> None:
    client.force_login(analyst)
    response = client.get(workflow_url(workflow))
    assert response.status_code == 200
    assert SECRET not in response.content.decode()

"""Erasure reaches every row: a citizen goes through every path that stores data (a form with a
file upload, an import, a campaign e-mail refused by the SMTP server, a workflow with a webhook
and a staff e-mail, the preference centre, the API, a staff edit in the admin); then erasure
runs; then the whole database and the private file storage are dumped, and the citizen's
e-mail, name and phone are found zero times. Pending outbox rows and workflow actions are
cancelled, never sent after erasure."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from rest_framework.test import APIClient

from campaigns.control import campaign_start
from campaigns.models import Delivery
from campaigns.sending import campaigns_send_due
from contacts import rights
from contacts.imports import import_job_run
from contacts.models import Contact, ImportJob, Topic
from conversion.models import FormField, SideEffect, Submission, SubmissionFile
from conversion.outbox import effects_due
from conversion.services import optin_confirm, optin_token, submission_create
from tests.campaigns.test_sending import campaign_for
from tests.contacts.test_imports import job_for
from tests.conversion.factories import FormFieldFactory, newsletter_form
from tests.conversion.landing_factories import private_in_tmp  # noqa: F401 (a fixture)
from tests.factories import StaffFactory
from tests.smtp import SmtpSink
from tests.workflows.test_workflows import enrol, run_all
from workflows.models import Workflow, WorkflowAction, WorkflowStep

EMAIL = "amparo.valverde@correo.example"
FIRST, LAST = "Amparo", "Valverde"
PHONE_DIGITS = "611987654"
TRACES = [EMAIL, FIRST, LAST, PHONE_DIGITS]


def _everything_stored(private: Path) -> str:
    """Every table's data (pg_dump on PostgreSQL, the whole SQLite database otherwise) and every
    file in the private storage, as one lowercase text."""
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        dump = subprocess.run(
            ["pg_dump", "--data-only", "-h", settings["HOST"] or "127.0.0.1",
             "-p", str(settings["PORT"] or 5432), "-U", settings["USER"] or "postgres",
             settings["NAME"]],
            capture_output=True, check=True, text=True,
        ).stdout  # fmt: skip
    else:
        dump = "\n".join(connection.connection.iterdump())
    files = [p.read_bytes().decode("utf-8", "replace") for p in private.rglob("*") if p.is_file()]
    return "\n".join([dump, *files]).lower()


def _traces(text: str) -> dict[str, int]:
    return {trace: text.count(trace.lower()) for trace in TRACES}


def _form_with_a_file() -> Any:
    staff = StaffFactory(email="registro@villaclara.example")
    form = newsletter_form(
        name="Solicitud de ayuda", notify_emails=staff.email,
        webhook_url="https://crm.villaclara.example/hook", webhook_secret="s3cret-de-prueba",
    )  # fmt: skip
    FormFieldFactory(form=form, key="apellidos", target=FormField.Target.CONTACT,
                     target_key="last_name")  # fmt: skip
    FormFieldFactory(form=form, key="telefono", kind=FormField.Kind.PHONE,
                     target=FormField.Target.CONTACT, target_key="phone")  # fmt: skip
    FormFieldFactory(form=form, key="dni", kind=FormField.Kind.FILE)
    return form


@pytest.mark.usefixtures("private_in_tmp")
@pytest.mark.django_db(transaction=True)
def test_erasure_leaves_the_citizens_email_name_and_phone_nowhere(
    smtp_sink: SmtpSink, marketer: Any, settings: Any
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    private = Path(SubmissionFile._meta.get_field("file").storage.location)
    Topic.objects.create(slug="vivienda", name="Vivienda")

    # 1. A form with a file upload, confirmed from the opt-in e-mail.
    submission, _created = submission_create(
        form=_form_with_a_file(),
        cleaned={"email": EMAIL, "nombre": FIRST, "apellidos": LAST, "telefono": "+34611987654",
                 "temas": ["vivienda"], "boletin": True, "seguimiento": False},
        files={"dni": SimpleUploadedFile("dni.pdf", f"%PDF- {FIRST} {LAST} {EMAIL}".encode())},
        language="es", page="/es/formularios/ayuda/", referrer="", visitor_key="",
    )  # fmt: skip
    effects_due()  # applied; the opt-in e-mail and the staff note sent; the webhook fails
    optin_confirm(optin_token(submission))
    contact = Contact.objects.get(email=EMAIL)
    assert SideEffect.objects.filter(submission=submission, status="pending").exists()

    # 2. An import: one good row, one refused (its report quotes the address).
    import_job_run(
        job=job_for(
            f"email,nombre,telefono\n{EMAIL},{FIRST},+34611987654\n{EMAIL},{FIRST},no-es\n".encode(),
            mapping={"0": "email", "1": "first_name", "2": "phone"},
            user=marketer,
        )
    )
    assert EMAIL in str(ImportJob.objects.get().errors)

    # 3. A campaign e-mail the SMTP server refuses, quoting the address.
    smtp_sink.answers[EMAIL] = f"550 5.1.1 <{EMAIL}>: user unknown ({FIRST} {LAST})"
    campaign = campaign_for(contact)
    campaign_start(campaign=campaign)
    campaigns_send_due()
    assert EMAIL in Delivery.objects.get(contact=contact).error

    # 4. A workflow whose webhook and staff e-mail are still pending.
    workflow = Workflow.objects.create(name="Aviso", status=Workflow.Status.ACTIVE,
                                       trigger=Workflow.Trigger.MANUAL)  # fmt: skip
    WorkflowStep.objects.create(workflow=workflow, order=0, key="crm", kind="webhook",
                                webhook_url="https://crm.villaclara.example/w",
                                webhook_secret="otro-s3cret")  # fmt: skip
    WorkflowStep.objects.create(workflow=workflow, order=1, key="aviso", kind="notify_staff",
                                notify_emails="registro@villaclara.example",
                                notify_subject="Nueva solicitud")  # fmt: skip
    enrol(workflow, contact, context={"kind": "form_submit", "nombre": FIRST})
    run_all()
    assert WorkflowAction.objects.filter(status="pending").count() == 2

    # 5. The preference centre.
    contact.refresh_from_db()
    rights.preferences_update(
        contact=contact,
        data=rights.PreferencesIn(topics=[], newsletter=True, language="es",
                                  email_paused_until=None),
    )  # fmt: skip

    # 6. The API, and 7. a staff edit in the admin.
    api = APIClient()
    api.force_authenticate(marketer)
    detail = api.get(f"/api/v1/contacts/{contact.pk}/").json()
    assert api.patch(f"/api/v1/contacts/{contact.pk}/",
                     {"district": "Centro", "version": detail["version"]},
                     format="json").status_code == 200  # fmt: skip
    request = RequestFactory().get("/")
    request.user = marketer
    admin.site._registry[Contact].log_change(request, contact, "Cambiado el distrito")

    before = _traces(_everything_stored(private))
    assert all(before.values()), before  # every path did store the citizen's data

    rights.contact_anonymise(contact=Contact.objects.get(pk=contact.pk), reason="Solicitud 77")
    rights.contact_anonymise(contact=Contact.objects.get(pk=contact.pk), reason="otra vez")

    stored = _everything_stored(private)
    surviving = _traces(stored)
    lines = [line for line in stored.splitlines() if any(t.lower() in line for t in TRACES)]
    assert sum(surviving.values()) == 0, (surviving, lines[:5])
    # Nothing pending leaves after erasure: cancelled, not sent later.
    assert not SideEffect.objects.filter(status="pending").exists()
    assert not WorkflowAction.objects.filter(status="pending").exists()
    sent_before = len(smtp_sink.messages)
    assert effects_due() == 0
    assert len(smtp_sink.messages) == sent_before
    assert not SubmissionFile.objects.exists()
    assert Submission.objects.filter(pk=submission.pk).exists()  # counted, about no one

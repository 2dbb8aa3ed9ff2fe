"""The relay of workflow actions (workflows.actions): signed webhook calls to a real
local server, backoff then failure, SSRF refusals, and e-mails to active staff only."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from conversion.models import Form
from tests.contacts.factories import ContactFactory
from tests.conversion.factories import FormFactory
from tests.factories import StaffFactory
from tests.http_receiver import Receiver, running_receiver, signature_is_valid
from workflows.actions import workflow_actions_due
from workflows.models import (
    Enrollment,
    StepRun,
    Workflow,
    WorkflowAction,
    WorkflowStep,
)
from workflows.tasks import workflow_actions_due as workflow_actions_task

pytestmark = pytest.mark.django_db

SECRET = "un-secreto-compartido"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def loopback_allowed() -> Iterator[None]:
    with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):  # the receiver is on 127.0.0.1
        yield


def action_create(
    kind: str, *, contact: Contact | None = None, payload: dict[str, Any] | None = None, **step: Any
) -> WorkflowAction:
    """A pending action as the engine writes it: its step, an enrollment, a PENDING run."""
    workflow = Workflow.objects.create(
        name="Bienvenida a vecinos", status=Workflow.Status.ACTIVE, trigger="touchpoint"
    )
    step_kind = (
        WorkflowStep.Kind.WEBHOOK
        if kind == WorkflowAction.Kind.WEBHOOK
        else WorkflowStep.Kind.NOTIFY_STAFF
    )
    workflow_step = WorkflowStep.objects.create(
        workflow=workflow, key="avisar", kind=step_kind, name="Avisar al CRM", **step
    )
    form = Form.objects.filter(name="Boletín municipal").first() or FormFactory(
        name="Boletín municipal"
    )
    enrollment = Enrollment.objects.create(
        workflow=workflow,
        contact=contact or ContactFactory(first_name="Ana", last_name="Ruiz"),
        step=workflow_step,
        seq=1,
        context={
            "touchpoint": 7,
            "kind": "form_submit",
            "subject_type": "conversion.form",
            "subject_id": str(form.pk),
        },
    )
    run = StepRun.objects.create(
        enrollment=enrollment,
        step=workflow_step,
        seq=1,
        status=StepRun.Status.PENDING,
        due_at=timezone.now(),
    )
    return WorkflowAction.objects.create(
        run=run, kind=kind, payload=payload if payload is not None else webhook_payload(run)
    )


def webhook_payload(run: StepRun) -> dict[str, Any]:
    enrollment, step = run.enrollment, run.step
    assert step is not None
    contact = enrollment.contact
    return {
        "event": "workflow.step",
        "workflow": {"id": enrollment.workflow_id, "name": enrollment.workflow.name},
        "step": {"id": step.pk, "key": step.key, "name": step.name},
        "enrollment": enrollment.pk,
        "contact": {
            "id": contact.pk,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "language": "es",
        },
        "context": enrollment.context,
        "occurred_at": run.ran_at.isoformat(),
    }


def webhook_action(url: str, **kwargs: Any) -> WorkflowAction:
    return action_create(
        WorkflowAction.Kind.WEBHOOK, webhook_url=url, webhook_secret=SECRET, **kwargs
    )


def reload(action: WorkflowAction) -> tuple[WorkflowAction, StepRun]:
    action.refresh_from_db()
    action.run.refresh_from_db()
    return action, action.run


@pytest.mark.usefixtures("loopback_allowed")
def test_a_webhook_is_posted_signed_with_the_payload_and_its_run_passes(
    receiver: Receiver,
) -> None:
    action = webhook_action(receiver.url)

    assert workflow_actions_due() == 1

    [request] = receiver.requests
    body = request["body"]
    assert json.loads(body) == action.payload
    assert body == json.dumps(action.payload, sort_keys=True).encode()
    assert signature_is_valid(request, SECRET)  # as docs/webhooks.md tells receivers
    assert not signature_is_valid(request, SECRET, now=time.time() + 301)  # no replays
    assert request["headers"]["X-Inbound-Event"] == "workflow.step"
    assert request["headers"]["X-Inbound-Delivery"] == str(action.pk)
    action, run = reload(action)
    assert (action.status, action.attempts, action.error) == (WorkflowAction.Status.DONE, 1, "")
    assert action.done_at is not None
    assert (run.status, run.detail) == (StepRun.Status.PASSED, "HTTP 200")
    # Done once: the next tick calls nobody.
    assert workflow_actions_due() == 0
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("loopback_allowed")
def test_a_failing_webhook_stays_pending_and_is_tried_again_a_minute_later(
    receiver: Receiver,
) -> None:
    receiver.status = 500
    action = webhook_action(receiver.url)

    assert workflow_actions_due() == 0

    action, run = reload(action)
    assert (action.status, action.attempts) == (WorkflowAction.Status.PENDING, 1)
    assert "HTTP 500" in action.error
    waited = (action.next_attempt_at - timezone.now()).total_seconds()
    assert 50 < waited <= 60
    assert action.claimed_until is None
    assert run.status == StepRun.Status.PENDING
    # Not due yet: the next tick leaves it alone.
    workflow_actions_due()
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("loopback_allowed")
def test_a_webhook_that_keeps_failing_is_given_up_and_its_run_fails(receiver: Receiver) -> None:
    receiver.status = 500
    action = webhook_action(receiver.url)
    workflow_actions_due()
    action.refresh_from_db()
    delays = []
    for _attempt in range(5):
        previous = action.next_attempt_at
        workflow_actions_due(now=previous)
        action.refresh_from_db()
        delays.append(round((action.next_attempt_at - previous).total_seconds() / 60))

    action, run = reload(action)
    assert (action.status, action.attempts) == (WorkflowAction.Status.FAILED, 6)
    assert delays[:4] == [2, 4, 8, 16]
    assert len(receiver.requests) == 6
    assert run.status == StepRun.Status.FAILED
    assert "HTTP 500" in run.detail
    assert workflow_actions_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert len(receiver.requests) == 6


@pytest.mark.usefixtures("loopback_allowed")
@override_settings(WORKFLOWS_WEBHOOK_TIMEOUT_SECONDS=0.5)
def test_a_webhook_that_does_not_answer_in_time_is_retried(receiver: Receiver) -> None:
    receiver.delay = 3
    action = webhook_action(receiver.url)

    workflow_actions_due()

    action, run = reload(action)
    assert (action.status, action.attempts) == (WorkflowAction.Status.PENDING, 1)
    assert "no answer within 0.5 s" in action.error
    assert run.status == StepRun.Status.PENDING


@pytest.mark.usefixtures("loopback_allowed")
def test_a_redirecting_webhook_is_a_failure_and_is_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    action = webhook_action(receiver.url)

    workflow_actions_due()

    action, _run = reload(action)
    assert (action.status, action.attempts) == (WorkflowAction.Status.PENDING, 1)
    assert "HTTP 302" in action.error
    assert [request["path"] for request in receiver.requests] == ["/hook"]


@pytest.mark.usefixtures("loopback_allowed")
def test_one_failing_target_does_not_hold_up_another_action_in_the_batch(
    receiver: Receiver,
) -> None:
    receiver.statuses = {"/broken": 500}
    broken = webhook_action(f"{receiver.base}/broken")
    working = webhook_action(receiver.url)

    assert workflow_actions_due() == 1

    broken, broken_run = reload(broken)
    working, working_run = reload(working)
    assert (broken.status, broken.attempts) == (WorkflowAction.Status.PENDING, 1)
    assert broken_run.status == StepRun.Status.PENDING
    assert working.status == WorkflowAction.Status.DONE
    assert working_run.status == StepRun.Status.PASSED
    assert [request["path"] for request in receiver.requests] == ["/broken", "/hook"]


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://10.0.0.1/hook", "10.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:8000/hook", "::1"),
    ],
)
def test_a_webhook_to_a_private_address_fails_at_once(url: str, address: str) -> None:
    action = webhook_action(url)

    workflow_actions_due()

    message = (
        f"La URL del webhook apunta a una dirección de red privada o reservada ({address}): "
        "los webhooks solo pueden llamar a servidores públicos."
    )
    action, run = reload(action)
    assert (action.status, action.attempts) == (WorkflowAction.Status.FAILED, 1)
    assert message in action.error
    assert (run.status, run.detail) == (StepRun.Status.FAILED, message)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_webhook_to_this_machine_is_refused_without_a_request(
    receiver: Receiver, host: str
) -> None:
    action = webhook_action(f"http://{host}:{receiver.port}/hook")

    workflow_actions_due()

    action, run = reload(action)
    assert (action.status, action.attempts) == (WorkflowAction.Status.FAILED, 1)
    assert "dirección de red privada o reservada" in action.error
    assert run.status == StepRun.Status.FAILED
    assert receiver.requests == []


def test_staff_are_emailed_a_link_to_the_contacts_audited_admin_page_not_its_data() -> None:
    staff = StaffFactory(username="prensa", email="prensa@villaclara.example")
    StaffFactory(username="antigua", email="antigua@villaclara.example", is_active=False)
    StaffFactory(username="vecino", email="vecino@villaclara.example", is_staff=False)
    contact = ContactFactory(first_name="Ana", last_name="Ruiz", email="ana@correo.example")
    to = [
        "Prensa@villaclara.example",
        "antigua@villaclara.example",
        "vecino@villaclara.example",
        "alguien@fuera.example",
    ]
    action = action_create(
        WorkflowAction.Kind.STAFF_EMAIL,
        contact=contact,
        payload={"to": to, "subject": "Nueva vecina en el boletín", "contact": contact.pk},
        notify_emails=", ".join(to),
    )

    assert workflow_actions_due() == 1

    [message] = mail.outbox
    assert message.to == ["Prensa@villaclara.example"]
    assert staff.email.lower() == message.to[0].lower()
    assert message.subject == "Nueva vecina en el boletín"
    admin_url = settings.SITE_URL + reverse("admin:contacts_contact_change", args=[contact.pk])
    html = str(message.alternatives[0][0])
    for text in (message.body, html):
        assert "Ana" not in text and "Ruiz" not in text and "ana@correo.example" not in text
        assert f"número {contact.pk}" in text
        assert "Bienvenida a vecinos" in text and "Avisar al CRM" in text
        assert "form_submit: Boletín municipal" in text
    assert f"Ver el contacto en la administración: {admin_url}" in message.body
    assert f'href="{admin_url}"' in html
    action, run = reload(action)
    assert action.status == WorkflowAction.Status.DONE
    assert action.error == (
        "No se envió a antigua@villaclara.example, vecino@villaclara.example, "
        "alguien@fuera.example: no es la dirección de una cuenta activa del personal."
    )
    assert (run.status, run.detail) == (
        StepRun.Status.PASSED,
        "Enviado por correo a Prensa@villaclara.example",
    )


def test_a_staff_notification_with_no_active_staff_address_fails_at_once() -> None:
    StaffFactory(username="antigua", email="antigua@villaclara.example", is_active=False)
    action = action_create(
        WorkflowAction.Kind.STAFF_EMAIL,
        payload={"to": ["antigua@villaclara.example"], "subject": "Aviso"},
    )

    assert workflow_actions_due() == 0

    assert mail.outbox == []
    action, run = reload(action)
    assert (action.status, action.attempts) == (WorkflowAction.Status.FAILED, 1)
    assert run.status == StepRun.Status.FAILED
    assert run.detail == (
        "No se envió a antigua@villaclara.example: no es la dirección de una cuenta activa del "
        "personal."
    )


def test_the_periodic_task_sends_the_due_actions() -> None:
    StaffFactory(username="prensa", email="prensa@villaclara.example")
    action = action_create(
        WorkflowAction.Kind.STAFF_EMAIL, payload={"to": ["prensa@villaclara.example"]}
    )

    assert workflow_actions_task() == 1

    assert [message.to for message in mail.outbox] == [["prensa@villaclara.example"]]
    # No subject given: the workflow and the step name it.
    assert mail.outbox[0].subject == "Flujo de trabajo «Bienvenida a vecinos»: Avisar al CRM"
    action, _run = reload(action)
    assert action.status == WorkflowAction.Status.DONE

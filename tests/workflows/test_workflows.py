"""The workflow engine: steps run on time and once, waits are rows, branches and goals decide the
path, e-mails go through the consent selector and the sending engine, activation refuses broken
graphs naming the step, and the test run changes nothing."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Delivery, Email
from campaigns.sending import campaigns_send_due
from campaigns.unsubscribe import consent_withdraw
from contacts.models import Contact, ContactProperty, Segment, Tag, Touchpoint
from contacts.services import touchpoint_record
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory, grant
from tests.factories import StaffFactory
from tests.smtp import SmtpSink
from workflows.engine import enrollments_run, workflow_test_run
from workflows.graph import WorkflowInvalid, workflow_problems
from workflows.models import Enrollment, StepRun, Workflow, WorkflowAction, WorkflowStep
from workflows.services import enrol_contacts, step_counts, workflow_activate, workflow_pause
from workflows.steps import wait_until

pytestmark = pytest.mark.django_db
Kind = WorkflowStep.Kind


def welcome_email(name: str = "Bienvenida") -> Email:
    return Email.objects.create(
        name=name,
        subject_es=f"{name}, {{{{ contact.first_name|default:&quot;vecino/a&quot; }}}}",
        body_es='<p>Hola.</p><p><a href="https://villaclara.example/es/">Portada</a></p>',
    )


def workflow_with(*steps: dict[str, Any], **fields: Any) -> Workflow:
    workflow = Workflow.objects.create(name=fields.pop("name", "Bienvenida"), **fields)
    for order, spec in enumerate(steps):
        WorkflowStep.objects.create(workflow=workflow, order=order, **spec)
    return workflow


def active(*steps: dict[str, Any], **fields: Any) -> Workflow:
    workflow = workflow_with(*steps, **fields)
    workflow_activate(workflow=workflow, by=None)
    return workflow


def subscriber(**fields: Any) -> Contact:
    contact = ContactFactory(**fields)
    grant(contact)
    return contact


def enrol(workflow: Workflow, *contacts: Contact, key: str = "manual:1", **kw: Any) -> int:
    return enrol_contacts(
        workflow=workflow,
        contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]),
        trigger_key=key,
        **kw,
    )


def run_all(now: dt.datetime | None = None) -> int:
    total = 0
    while ran := enrollments_run(now=now or timezone.now()):
        total += ran
    return total


def history(contact: Contact) -> list[tuple[str, str]]:
    return [
        (run.step.key if run.step else "-", run.status)
        for run in StepRun.objects.filter(enrollment__contact=contact).order_by("seq")
    ]


def test_a_welcome_series_sends_now_waits_three_days_in_the_database_then_sends_again() -> None:
    lucia = subscriber(email="lucia@correo.example", first_name="Lucía")
    workflow = active(
        {"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 3},
        {"key": "tips", "kind": Kind.SEND_EMAIL, "email": welcome_email("Consejos")},
    )
    t0 = timezone.now()

    assert enrol(workflow, lucia, now=t0) == 1
    run_all(t0)

    enrollment = Enrollment.objects.get(contact=lucia)
    assert enrollment.step.key == "wait" and enrollment.waiting
    assert enrollment.next_run_at == t0 + dt.timedelta(days=3)
    assert history(lucia) == [("welcome", "passed")]
    assert Delivery.objects.filter(contact=lucia, status="pending").count() == 1

    run_all(t0 + dt.timedelta(days=2))  # not due yet: nothing runs
    assert history(lucia) == [("welcome", "passed")]

    run_all(t0 + dt.timedelta(days=3, seconds=1))
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert history(lucia) == [("welcome", "passed"), ("wait", "passed"), ("tips", "passed")]
    subjects = set(
        Delivery.objects.filter(contact=lucia).values_list("campaign__email__name", flat=True)
    )
    assert subjects == {"Bienvenida", "Consejos"}
    assert Touchpoint.objects.filter(contact=lucia, kind="workflow_enrolled").count() == 1
    assert Touchpoint.objects.filter(contact=lucia, kind="workflow_finished").count() == 1


def test_the_email_goes_out_through_the_sending_engine_with_the_merge_tags(
    smtp_sink: SmtpSink,
) -> None:
    lucia = subscriber(email="lucia@correo.example", first_name="Lucía")
    workflow = active({"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()})
    enrol(workflow, lucia)
    run_all()

    campaigns_send_due()

    subjects = [
        email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
        for raw in smtp_sink.messages
    ]
    assert subjects == ["Bienvenida, Lucía"]
    assert Delivery.objects.get(contact=lucia).status == Delivery.Status.SENT
    # the step's campaign stays open for the next enrollment
    step = workflow.steps.get()
    step.campaign.refresh_from_db()
    assert step.campaign.status == "sending"


def test_a_contact_who_unsubscribes_mid_workflow_gets_nothing_more() -> None:
    lucia = subscriber(email="lucia@correo.example")
    workflow = active(
        {"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 3},
        {"key": "tips", "kind": Kind.SEND_EMAIL, "email": welcome_email("Consejos")},
    )
    t0 = timezone.now()
    enrol(workflow, lucia, now=t0)
    run_all(t0)
    first = workflow.steps.get(key="welcome").campaign
    consent_withdraw(contact=lucia, campaign=first, text="Baja", text_version="v1")

    run_all(t0 + dt.timedelta(days=3, seconds=1))

    assert history(lucia)[-1] == ("tips", "skipped")
    assert Delivery.objects.filter(contact=lucia).count() == 1  # only the welcome


def test_a_step_never_runs_twice_for_a_tick_run_again_or_a_duplicated_enrolment() -> None:
    contacts = [subscriber() for _ in range(3)]
    workflow = active(
        {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "bienvenida"},
        {"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
    )
    t0 = timezone.now()
    assert enrol(workflow, *contacts, key="tp:7", now=t0) == 3
    assert enrol(workflow, *contacts, key="tp:7", now=t0) == 0  # the same trigger again

    assert run_all(t0) == 6
    assert run_all(t0) == 0  # a duplicated tick finds nothing due

    assert Delivery.objects.count() == 3
    assert StepRun.objects.count() == 6
    assert Tag.objects.get(name="bienvenida").contacts.count() == 3


def test_a_batch_costs_the_same_queries_whatever_its_size() -> None:
    workflow = active(
        {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "bienvenida"},
        {"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
    )

    def queries(n: int) -> int:
        contacts = [subscriber() for _ in range(n)]
        enrol(workflow, *contacts, key=f"manual:{n}")
        with CaptureQueriesContext(connection) as captured:
            enrollments_run(now=timezone.now())
        return len(captured)

    queries(1)  # the step's tag and campaign exist from now on
    assert queries(2) == queries(30)


def test_re_enrolment_policies() -> None:
    lucia = subscriber()
    never = active({"key": "end", "kind": Kind.END}, name="Una vez")
    after = active(
        {"key": "end", "kind": Kind.END}, name="Cada 30 días", reenrol="after", reenrol_days=30
    )
    always = active({"key": "end", "kind": Kind.END}, name="Siempre", reenrol="always")
    t0 = timezone.now()
    for workflow in (never, after, always):
        assert enrol(workflow, lucia, key="a", now=t0) == 1
    run_all(t0)

    later = t0 + dt.timedelta(days=10)
    assert [enrol(w, lucia, key="b", now=later) for w in (never, after, always)] == [0, 0, 1]
    much_later = t0 + dt.timedelta(days=31)
    assert [enrol(w, lucia, key="c", now=much_later) for w in (never, after)] == [0, 1]


def test_an_active_enrollment_is_never_doubled_and_conditions_filter_who_enters() -> None:
    madrid = subscriber(district="Centro")
    elsewhere = subscriber(district="Norte")
    workflow = active(
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 1},
        conditions={"all": [{"field": "district", "op": "eq", "value": "Centro"}]},
        reenrol="always",
    )
    assert enrol(workflow, madrid, elsewhere, key="a") == 1
    assert enrol(workflow, madrid, key="b") == 0  # still in it


def test_branch_on_a_rule_and_on_an_interaction_since_enrolment() -> None:
    young = subscriber(birth_year=2000)
    old = subscriber(birth_year=1950)
    workflow = active(
        {
            "key": "age",
            "kind": Kind.BRANCH,
            "rule": {"all": [{"field": "birth_year", "op": "gte", "value": 1990}]},
            "no_key": "older",
        },
        {"key": "young", "kind": Kind.UPDATE_CONTACT, "tag": "joven", "next_key": "end"},
        {"key": "older", "kind": Kind.UPDATE_CONTACT, "tag": "mayor"},
        {"key": "end", "kind": Kind.END},
    )
    enrol(workflow, young, old)
    run_all()
    assert history(young) == [("age", "passed"), ("young", "passed"), ("end", "passed")]
    assert history(old) == [("age", "passed"), ("older", "passed"), ("end", "passed")]
    assert list(young.tags.values_list("name", flat=True)) == ["joven"]

    clicked = subscriber()
    ignored = subscriber()
    touchpoint_record(kind="email_click", contact=clicked)  # before enrolment: does not count
    opened = active(
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 7},
        {
            "key": "clicked",
            "kind": Kind.BRANCH,
            "branch_on": "touchpoint",
            "touchpoint_kind": "email_click",
            "no_key": "nudge",
            "next_key": "done",
        },
        {"key": "nudge", "kind": Kind.UPDATE_CONTACT, "tag": "recordar"},
        {"key": "done", "kind": Kind.END},
        name="¿Hizo clic?",
    )
    t0 = timezone.now()
    enrol(opened, clicked, ignored, now=t0)
    run_all(t0)
    touchpoint_record(kind="email_click", contact=clicked)
    run_all(t0 + dt.timedelta(days=7, seconds=1))
    assert ("nudge", "passed") not in history(clicked)
    assert ("nudge", "passed") in history(ignored)


def test_a_goal_takes_the_contact_out_before_the_next_step() -> None:
    lucia = subscriber()
    participa = Tag.objects.create(name="participa")
    workflow = active(
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 1},
        {"key": "mail", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
        goal={"all": [{"tag": "participa"}]},
    )
    t0 = timezone.now()
    enrol(workflow, lucia, now=t0)
    run_all(t0)
    lucia.tags.add(participa)

    run_all(t0 + dt.timedelta(days=1, seconds=1))

    enrollment = Enrollment.objects.get(contact=lucia)
    assert enrollment.status == Enrollment.Status.GOAL
    assert not Delivery.objects.exists()


def test_update_contact_list_subscription_and_outbox_steps(topic: Any = None) -> None:
    from contacts.models import Topic

    ContactProperty.objects.create(key="origen", label="Origen")
    obras = Topic.objects.create(slug="obras", name="Obras")
    lista = Segment.objects.create(name="Interesados", kind="static")
    staff = StaffFactory(email="prensa@villaclara.example")
    lucia = subscriber(email="lucia@correo.example")
    workflow = active(
        {"key": "prop", "kind": Kind.UPDATE_CONTACT, "property_key": "origen",
         "property_value": "web", "lifecycle": "engaged"},
        {"key": "sub", "kind": Kind.SUBSCRIPTION, "topic": obras},
        {"key": "list", "kind": Kind.LIST, "segment": lista},
        {"key": "tell", "kind": Kind.NOTIFY_STAFF, "notify_emails": staff.email,
         "notify_subject": "Nueva inscripción"},
    )
    enrol(workflow, lucia, context={"kind": "form_submit"})
    run_all()

    lucia.refresh_from_db()
    assert lucia.properties["origen"] == "web"
    assert lucia.subscriptions.get(topic=obras).status == "active"
    assert lista.members.filter(pk=lucia.pk).exists()
    action = WorkflowAction.objects.get()
    assert action.kind == "staff_email" and action.payload["to"] == [staff.email]
    assert action.payload["context"] == {"kind": "form_submit"}
    assert action.run.status == StepRun.Status.PENDING


def test_activation_refuses_a_loop_without_a_wait_naming_the_step() -> None:
    workflow = workflow_with(
        {"key": "a", "kind": Kind.UPDATE_CONTACT, "tag": "x", "name": "Etiquetar"},
        {"key": "b", "kind": Kind.UPDATE_CONTACT, "tag": "y", "name": "Volver", "next_key": "a"},
    )
    with pytest.raises(WorkflowInvalid) as refused:
        workflow_activate(workflow=workflow, by=None)
    assert any("«Volver»" in p and "«Etiquetar»" in p for p in refused.value.problems)
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT

    # with a wait in the loop it is accepted
    WorkflowStep.objects.filter(workflow=workflow, key="b").update(kind=Kind.WAIT, wait_days=30)
    assert not [p for p in workflow_problems(workflow) if "sin una espera" in p or "wait" in p]


def test_activation_refuses_a_branch_without_an_exit_and_a_missing_email() -> None:
    workflow = workflow_with(
        {"key": "w", "kind": Kind.WAIT, "wait_days": 1},
        {"key": "q", "kind": Kind.BRANCH, "name": "¿Vecino?", "next_key": "w", "no_key": "w",
         "rule": {"all": [{"field": "district", "op": "eq", "value": "Centro"}]}},
        {"key": "mail", "kind": Kind.SEND_EMAIL, "name": "Correo"},
    )
    problems = workflow_problems(workflow)
    assert any("«¿Vecino?»" in p for p in problems)
    assert any("«Correo»" in p for p in problems)


def test_a_paused_workflow_runs_nothing_until_resumed() -> None:
    lucia = subscriber()
    workflow = active({"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "x"})
    enrol(workflow, lucia)
    staff = StaffFactory()
    workflow_pause(workflow=workflow, by=staff)
    assert run_all() == 0
    workflow_activate(workflow=workflow, by=staff)
    assert run_all() == 1
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "workflow_paused",
        "workflow_resumed",
    }


def test_the_test_run_collapses_waits_and_changes_nothing(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    lucia = subscriber(first_name="Lucía")
    workflow = active(
        {"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 3},
        {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "probado"},
        {"key": "hook", "kind": Kind.WEBHOOK, "webhook_url": "http://127.0.0.1:9/hook",
         "webhook_secret": "s3cr3t"},
    )
    now = timezone.now()

    lines = workflow_test_run(workflow=workflow, contact=lucia, now=now)

    assert [line.step.key if line.step else line.status for line in lines] == [
        "welcome", "wait", "tag", "hook", "completed",
    ]
    assert lines[2].at == now + dt.timedelta(days=3)
    assert not Enrollment.objects.exists() and not StepRun.objects.exists()
    assert not Delivery.objects.exists() and not WorkflowAction.objects.exists()
    assert not Tag.objects.filter(name="probado").exists()


def test_waits_until_a_weekday_and_until_a_date_property() -> None:
    monday_9 = WorkflowStep(kind=Kind.WAIT, wait_mode="weekday", wait_weekday=0,
                            wait_time=dt.time(9, 0))
    madrid = dt.timezone(dt.timedelta(hours=1))
    wednesday = dt.datetime(2026, 12, 2, 12, 0, tzinfo=madrid)
    contact = Contact(properties={"cita": "2026-12-20"}, created_at=wednesday)
    assert wait_until(monday_9, contact, wednesday) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=madrid)
    day_before = WorkflowStep(kind=Kind.WAIT, wait_mode="date", date_field="cita", wait_days=-1,
                              wait_time=dt.time(10, 0))
    assert wait_until(day_before, contact, wednesday) == dt.datetime(
        2026, 12, 19, 10, 0, tzinfo=madrid
    )
    assert wait_until(day_before, Contact(properties={}), wednesday) is None


def test_step_counts() -> None:
    contacts = [subscriber() for _ in range(3)]
    workflow = active(
        {"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 3},
    )
    consent_withdraw(contact=contacts[0], campaign=None, text="Baja", text_version="v1")
    enrol(workflow, *contacts)
    run_all()
    counts = step_counts(workflow=workflow)
    welcome, wait = workflow.steps.order_by("order")
    assert (counts[welcome.pk].passed, counts[welcome.pk].skipped) == (2, 1)
    assert counts[wait.pk].waiting == 3


def test_activation_runs_the_campaign_quality_gate_on_each_email_and_keeps_nothing() -> None:
    broken = Email.objects.create(
        name="Sin alt",
        subject_es="Hola",
        body_es='<p>Hola.</p><p><img src="https://villaclara.example/foto.png"></p>',
    )
    workflow = workflow_with(
        {"key": "mail", "kind": Kind.SEND_EMAIL, "email": broken, "name": "Correo con foto"}
    )
    with pytest.raises(WorkflowInvalid) as refused:
        workflow_activate(workflow=workflow, by=None)
    assert any(p.startswith("Step «Correo con foto»") or "«Correo con foto»" in p
               for p in refused.value.problems)
    assert workflow.steps.get().campaign is None  # the campaign made for the check is undone
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT


def test_a_webhook_step_into_our_own_network_or_unsigned_is_refused_as_typed() -> None:
    workflow = workflow_with({"key": "end", "kind": Kind.END})
    step = WorkflowStep(
        workflow=workflow, key="hook", kind=Kind.WEBHOOK, webhook_url="http://169.254.169.254/"
    )
    with pytest.raises(ValidationError) as refused:
        step.full_clean()
    assert set(refused.value.message_dict) >= {"webhook_url", "webhook_secret"}
    step.webhook_url = "http://10.0.0.7/crm"
    WorkflowStep.objects.filter(pk=workflow.steps.get().pk).update(kind=Kind.WEBHOOK)
    WorkflowStep.objects.filter(workflow=workflow).update(
        webhook_url="http://10.0.0.7/crm", webhook_secret="x"
    )
    assert any("10.0.0.7" in p or "privad" in p or "private" in p
               for p in workflow_problems(workflow)), workflow_problems(workflow)

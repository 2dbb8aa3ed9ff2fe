"""The demo workflows are active, pass their checks, are seeded once, and run: an opt-in starts
the welcome series, a proposal notifies the team, a quiet contact is asked to stay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from campaigns.demo import campaigns_demo_seed
from campaigns.gate import campaign_gate
from campaigns.models import Campaign, Delivery, Email
from contacts.models import Contact, Segment
from content.demo import content_demo_seed
from conversion.demo import conversion_demo_seed
from conversion.models import Form, landing_pages
from conversion.outbox import effects_due
from conversion.services import optin_confirm, optin_token, submission_create
from inbound.demo import demo_seed
from tests.campaigns.test_sending import subscriber
from workflows.demo import (
    INACTIVE_SEGMENT,
    NEWSLETTER_FORM_SLUG,
    REACTIVATION,
    STAFF_NOTICE,
    WELCOME,
    workflows_demo_seed,
)
from workflows.engine import enrollments_run
from workflows.graph import workflow_problems
from workflows.models import Enrollment, Workflow, WorkflowAction, WorkflowStep
from workflows.triggers import segment_entries

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> None:
    """The demo as `seed_demo` loads it, without the 2,000 demo citizens."""
    demo_seed(with_passwords=False)
    content_demo_seed()
    conversion_demo_seed()
    campaigns_demo_seed()
    workflows_demo_seed()


def demo_workflows() -> list[Workflow]:
    return list(Workflow.objects.filter(name__in=[WELCOME, REACTIVATION, STAFF_NOTICE]))


def test_the_three_demo_workflows_are_active_and_pass_their_checks(seeded: None) -> None:
    subscriber(first_name="Lucía")  # someone the checklist renders the e-mails for
    workflows = demo_workflows()

    assert sorted((w.name, w.status) for w in workflows) == sorted(
        (name, "active") for name in (WELCOME, REACTIVATION, STAFF_NOTICE)
    )
    assert {w.name: workflow_problems(w) for w in workflows} == {
        name: [] for name in (WELCOME, REACTIVATION, STAFF_NOTICE)
    }
    sends = WorkflowStep.objects.filter(workflow__in=workflows, kind=WorkflowStep.Kind.SEND_EMAIL)
    assert sends.count() == 4
    for step in sends:
        assert step.campaign is not None and step.email is not None
        gate = campaign_gate(campaign=step.campaign)
        assert gate.passes, (step.key, [check.message for check in gate.errors])
        assert "<a href=" in step.email.body_es  # a link to the demo site (or a mailto)
    inactive = Segment.objects.get(name=INACTIVE_SEGMENT)
    assert Workflow.objects.get(name=REACTIVATION).trigger_segment == inactive
    notice = WorkflowStep.objects.get(workflow__name=STAFF_NOTICE, kind="notify_staff")
    assert notice.notify_emails == "marketing@villaclara.example"


def test_seeding_the_demo_again_creates_no_duplicates(seeded: None) -> None:
    def counts() -> tuple[int, ...]:
        return (
            Workflow.objects.count(),
            WorkflowStep.objects.count(),
            Email.objects.count(),
            Campaign.objects.count(),
            Segment.objects.count(),
        )

    before = counts()
    assert workflows_demo_seed() == 0
    assert counts() == before
    assert before[0] == 3


def test_confirming_the_demo_newsletter_opt_in_starts_the_welcome_series(
    seeded: None, django_capture_on_commit_callbacks: Any
) -> None:
    submission, _created = submission_create(
        form=Form.objects.get(slug=NEWSLETTER_FORM_SLUG),
        cleaned={
            "email": "ana@correo.example",
            "nombre": "Ana",
            "temas": ["movilidad"],
            "acepto_boletin": True,
            "acepto_seguimiento": False,
        },
        files={},
        language="es",
        page="/es/participa/boletin-movilidad/",
        referrer="",
        visitor_key="b" * 32,
    )
    assert not Enrollment.objects.exists()  # submitting is not confirming

    with django_capture_on_commit_callbacks(execute=True):
        optin_confirm(optin_token(submission))
    enrollment = Enrollment.objects.get(contact__email="ana@correo.example")
    assert enrollment.workflow.name == WELCOME

    enrollments_run()

    delivery = Delivery.objects.get(contact__email="ana@correo.example")
    assert delivery.campaign.email.subject_es == "Te damos la bienvenida al boletín"
    enrollment.refresh_from_db()
    assert enrollment.step.key == "espera-3-dias" and enrollment.waiting


def test_a_proposal_from_the_san_blas_landing_page_notifies_the_team(
    seeded: None, django_capture_on_commit_callbacks: Any
) -> None:
    page = landing_pages().get(slug_es="plan-de-barrio-san-blas")
    with django_capture_on_commit_callbacks(execute=True):
        submission_create(
            form=page.form,
            cleaned={
                "nombre": "Bea",
                "email": "bea@correo.example",
                "propuesta": "Más sombra en la plaza.",
                "acepto_participacion": True,
            },
            files={},
            language="es",
            page="/es/participa/plan-de-barrio-san-blas/",
            referrer="",
            visitor_key="c" * 32,
            landing_page=page,
        )
        effects_due()  # the relay applies it (the form asks for no confirmation)

    enrollments_run()

    action = WorkflowAction.objects.get()
    assert action.kind == WorkflowAction.Kind.STAFF_EMAIL
    assert action.payload["to"] == ["marketing@villaclara.example"]
    assert action.payload["subject"] == "Nueva propuesta para el Plan de barrio de San Blas"


def test_a_contact_quiet_for_90_days_is_asked_whether_to_stay_in_touch(seeded: None) -> None:
    quiet = subscriber(first_name="Carmen")
    Contact.objects.filter(pk=quiet.pk).update(
        last_activity_at=timezone.now() - dt.timedelta(days=91)
    )

    assert segment_entries() == 1
    enrollments_run()

    delivery = Delivery.objects.get(contact=quiet)
    assert delivery.campaign.email.subject_es == "¿Seguimos en contacto?"

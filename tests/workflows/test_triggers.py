"""What enrols contacts in workflows: an interaction (the signal after commit, and the sweep for
what it missed, once between them), entering a segment, and a date of the contact — only ever
in active workflows, and without costing a request anything when no workflow listens."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact, ContactProperty, Segment, Tag, Touchpoint
from contacts.services import touchpoint_record
from conversion.models import Form
from tests.contacts.factories import ContactFactory
from tests.conversion.factories import newsletter_form
from tests.workflows.test_workflows import active, run_all
from workflows import tasks, triggers
from workflows.conditions import condition_holds
from workflows.models import Enrollment, Workflow, WorkflowStep
from workflows.services import workflow_pause
from workflows.steps import MADRID
from workflows.triggers import (
    date_triggers,
    segment_entries,
    touchpoint_sweep,
    touchpoint_triggers,
)

pytestmark = pytest.mark.django_db
Kind = WorkflowStep.Kind
TAG_STEP = {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "bienvenida"}


@pytest.fixture(autouse=True)
def _fresh_triggers() -> Iterator[None]:
    """The per-process cache of triggers starts and ends empty (workflow ids are reused across
    tests, and another test's touchpoints must not meet this test's workflows)."""
    triggers.touchpoint_triggers_forget()
    yield
    triggers.touchpoint_triggers_forget()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what runs after commit (the `touchpoint_recorded` signal) as a request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def on_form(form: Form, name: str, **fields: Any) -> Workflow:
    return active(
        TAG_STEP,
        name=name,
        trigger=Workflow.Trigger.TOUCHPOINT,
        trigger_kind="form_submit",
        trigger_subject_type=ContentType.objects.get_for_model(Form),
        trigger_subject_id=str(form.pk),
        **fields,
    )


def enrolled_in(contact: Contact) -> list[str]:
    return sorted(
        Enrollment.objects.filter(contact=contact).values_list("workflow__name", flat=True)
    )


def madrid(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MADRID)


# --- Interactions -----------------------------------------------------------------------------


def test_a_form_submission_enrols_in_the_workflow_on_that_form_and_not_on_another(
    committed: Any,
) -> None:
    form_x, form_y = newsletter_form(name="Cita previa"), newsletter_form(name="Sugerencias")
    on_form(form_x, "Seguimiento de la cita previa")
    on_form(form_y, "Seguimiento de las sugerencias")
    ana = ContactFactory(email="ana@correo.example")

    with committed():
        touchpoint = touchpoint_record(
            kind="form_submit", contact=ana, subject=form_x, properties={"form": form_x.slug}
        )

    assert enrolled_in(ana) == ["Seguimiento de la cita previa"]
    enrollment = Enrollment.objects.get(contact=ana)
    assert enrollment.trigger_key == f"tp:{touchpoint.pk}"
    assert enrollment.context == {
        "touchpoint": touchpoint.pk,
        "kind": "form_submit",
        "subject_type": "conversion.form",
        "subject_id": str(form_x.pk),
    }


def test_a_survey_answer_of_6_or_less_enrols_the_detractor_and_not_the_promoter(
    committed: Any,
) -> None:
    active(
        TAG_STEP,
        name="Detractores",
        trigger=Workflow.Trigger.TOUCHPOINT,
        trigger_kind="survey_response",
        trigger_conditions=[{"key": "nps", "op": "lte", "value": 6}],
    )
    detractor, typed, promoter, silent = (ContactFactory() for _ in range(4))

    with committed():
        touchpoint_record(kind="survey_response", contact=detractor, properties={"nps": 4})
        touchpoint_record(kind="survey_response", contact=typed, properties={"nps": "6"})
        touchpoint_record(kind="survey_response", contact=promoter, properties={"nps": 9})
        touchpoint_record(kind="survey_response", contact=silent, properties={"comment": "…"})

    assert enrolled_in(detractor) == ["Detractores"]
    assert enrolled_in(typed) == ["Detractores"]  # a number typed as text compares as a number
    assert touchpoint_sweep() == 0  # nor does the sweep enrol the others
    assert enrolled_in(promoter) == []
    assert enrolled_in(silent) == []  # no nps: the condition fails


@pytest.mark.parametrize(
    ("condition", "properties", "holds"),
    [
        ({"key": "nps", "op": "gt", "value": 8}, {"nps": 10}, True),
        ({"key": "nps", "op": "gte", "value": 8}, {"nps": 7.5}, False),
        ({"key": "nps", "op": "lt", "value": 7}, {"nps": "10"}, False),
        ({"key": "form", "op": "eq", "value": "Cita-Previa"}, {"form": "cita-previa"}, True),
        ({"key": "form", "op": "ne", "value": "cita-previa"}, {"form": "sugerencias"}, True),
        ({"key": "form", "op": "ne", "value": "cita-previa"}, {}, False),
        ({"key": "district", "op": "in", "value": ["Norte", "Sur"]}, {"district": "sur"}, True),
        ({"key": "nps", "op": "in", "value": [0, 1, 2]}, {"nps": 3}, False),
        ({"key": "comment", "op": "contains", "value": "parque"}, {"comment": "El Parque"}, True),
        ({"key": "topics", "op": "contains", "value": "movilidad"}, {"topics": ["cultura"]}, False),
        ({"key": "ok", "op": "eq", "value": 1}, {"ok": True}, False),  # a yes is not the number 1
    ],
)
def test_conditions_on_the_interaction_properties(
    condition: dict[str, Any], properties: dict[str, Any], holds: bool
) -> None:
    assert condition_holds(condition, properties) is holds


def test_a_touchpoint_seen_by_the_signal_and_by_the_sweep_enrols_once(committed: Any) -> None:
    form = newsletter_form()
    workflow = on_form(form, "Seguimiento", reenrol=Workflow.Reenrol.ALWAYS)
    ana, bea = ContactFactory(), ContactFactory()

    with committed():
        touchpoint_record(kind="form_submit", contact=ana, subject=form)
    run_all()  # ana's enrollment is over: only the trigger key keeps the sweep from enrolling her
    # The signal of bea's touchpoint never ran (a crash between commit and signal).
    touchpoint_record(kind="form_submit", contact=bea, subject=form)

    assert touchpoint_sweep() == 1
    assert touchpoint_sweep() == 0

    assert Enrollment.objects.filter(workflow=workflow, contact=ana).count() == 1
    assert Enrollment.objects.filter(workflow=workflow, contact=bea).count() == 1
    assert Enrollment.objects.get(contact=ana).status == Enrollment.Status.COMPLETED


def test_the_sweep_leaves_touchpoints_older_than_15_minutes_or_before_activation() -> None:
    form = newsletter_form()
    ana, bea = ContactFactory(), ContactFactory()
    touchpoint_record(kind="form_submit", contact=ana, subject=form)  # before activation
    workflow = on_form(form, "Seguimiento")
    assert workflow.activated_at is not None
    touchpoint_record(
        kind="form_submit",
        contact=bea,
        subject=form,
        occurred_at=workflow.activated_at + dt.timedelta(seconds=1),
    )

    assert touchpoint_sweep(now=workflow.activated_at + dt.timedelta(minutes=20)) == 0
    assert touchpoint_sweep(now=workflow.activated_at + dt.timedelta(minutes=5)) == 1
    assert enrolled_in(ana) == []
    assert enrolled_in(bea) == ["Seguimiento"]


def test_a_paused_workflow_enrols_nobody(committed: Any) -> None:
    form = newsletter_form()
    workflow = on_form(form, "Seguimiento")
    touchpoint_triggers()  # this process still believes it active
    workflow_pause(workflow=workflow, by=None)
    ana = ContactFactory()

    with committed():
        touchpoint_record(kind="form_submit", contact=ana, subject=form)
    assert touchpoint_sweep() == 0

    assert not Enrollment.objects.exists()


def test_the_signal_costs_no_query_when_no_workflow_listens(
    django_capture_on_commit_callbacks: Any,
) -> None:
    form_x, form_y = newsletter_form(), newsletter_form()
    on_form(form_y, "Seguimiento de otro formulario")
    ana = ContactFactory()
    touchpoint_triggers()  # read once per process every few seconds, not per touchpoint

    with django_capture_on_commit_callbacks() as callbacks:
        touchpoint_record(kind="page_view", contact=ana, properties={"path": "/es/"})
        touchpoint_record(kind="form_submit", contact=ana, subject=form_x)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()

    assert len(callbacks) == 2
    assert [q["sql"] for q in queries.captured_queries] == []
    assert not Enrollment.objects.exists()


def test_a_failing_enrolment_never_reaches_the_request_and_the_sweep_catches_up(
    committed: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    form = newsletter_form()
    on_form(form, "Seguimiento")
    ana = ContactFactory()

    def broken(**kwargs: Any) -> int:
        raise RuntimeError("database went away")

    with monkeypatch.context() as patch, caplog.at_level(logging.ERROR):
        patch.setattr(triggers, "enrol_contacts", broken)
        with committed():
            touchpoint_record(kind="form_submit", contact=ana, subject=form)
    assert "not enrolled; the sweep will" in caplog.text
    assert enrolled_in(ana) == []

    assert touchpoint_sweep() == 1
    assert enrolled_in(ana) == ["Seguimiento"]


# --- Entering a segment -----------------------------------------------------------------------


def tag(contact: Contact, name: str = "barrio-norte") -> None:
    contact.tags.add(Tag.objects.get_or_create(name=name)[0])


def untag(contact: Contact, name: str = "barrio-norte") -> None:
    contact.tags.remove(Tag.objects.get(name=name))


def on_segment(**fields: Any) -> Workflow:
    segment = Segment.objects.create(name="Barrio Norte", rules={"tag": "barrio-norte"})
    return active(
        TAG_STEP, name="Bienvenida al barrio", trigger="segment", trigger_segment=segment, **fields
    )


def test_entering_a_segment_enrols_who_enters_after_activation_not_who_was_in() -> None:
    ana, bea, carla = ContactFactory(), ContactFactory(), ContactFactory()
    tag(ana)
    on_segment()
    tag(bea)

    assert segment_entries() == 1
    assert segment_entries() == 0

    assert enrolled_in(ana) == []
    assert enrolled_in(bea) == ["Bienvenida al barrio"]
    assert enrolled_in(carla) == []
    assert Enrollment.objects.get(contact=bea).trigger_key.startswith("seg:")


@pytest.mark.parametrize(("reenrol", "times"), [("always", 2), ("never", 1)])
def test_leaving_and_entering_the_segment_again_enrols_again_if_re_enrolment_allows(
    reenrol: str, times: int
) -> None:
    bea = ContactFactory()
    on_segment(reenrol=reenrol)
    t0 = dt.datetime.now(tz=MADRID)
    tag(bea)
    segment_entries(now=t0)
    run_all(t0)  # her first enrollment is over

    untag(bea)
    assert segment_entries(now=t0 + dt.timedelta(minutes=1)) == 0
    tag(bea)
    segment_entries(now=t0 + dt.timedelta(minutes=2))

    assert Enrollment.objects.filter(contact=bea).count() == times


def test_a_paused_segment_workflow_enrols_nobody() -> None:
    workflow = on_segment()
    workflow_pause(workflow=workflow, by=None)
    tag(ContactFactory())

    assert segment_entries() == 0
    assert not Enrollment.objects.exists()


# --- Dates of the contact ---------------------------------------------------------------------


def on_date(field: str, mode: str, **fields: Any) -> Workflow:
    return active(
        TAG_STEP,
        name="Aniversario",
        trigger="date",
        trigger_date_field=field,
        trigger_date_mode=mode,
        **fields,
    )


def test_the_anniversary_of_registration_enrols_once_that_day_after_its_time() -> None:
    ana = ContactFactory(created_at=madrid(2025, 3, 10, 0, 30))  # 9 March in UTC
    bea = ContactFactory(created_at=madrid(2026, 3, 10, 7, 0))  # registered today: no anniversary
    carla = ContactFactory(created_at=madrid(2025, 3, 11, 12, 0))
    dolores = ContactFactory(created_at=madrid(2021, 3, 10, 23, 59))
    on_date("created_at", "anniversary", trigger_time=dt.time(9, 0))

    assert date_triggers(now=madrid(2026, 3, 10, 8, 59)) == 0  # not before 9:00
    assert date_triggers(now=madrid(2026, 3, 10, 9, 0)) == 2
    assert date_triggers(now=madrid(2026, 3, 10, 18, 0)) == 0  # again that day: nobody twice

    assert enrolled_in(ana) == enrolled_in(dolores) == ["Aniversario"]
    assert enrolled_in(bea) == enrolled_in(carla) == []
    assert set(Enrollment.objects.values_list("trigger_key", flat=True)) == {"date:2026-03-10"}


def test_a_date_property_with_offset_minus_7_enrols_a_week_before_once() -> None:
    ContactProperty.objects.create(key="fecha_cita", label="Fecha de la cita", type="date")
    ana = ContactFactory(properties={"fecha_cita": "2026-03-17"})
    bea = ContactFactory(properties={"fecha_cita": "2026-03-18"})
    carla = ContactFactory(properties={"fecha_cita": "17/03/2026"})  # not a date we can read
    dolores = ContactFactory()
    on_date("fecha_cita", "once", trigger_date_offset_days=-7, trigger_time=dt.time(10, 0))

    assert date_triggers(now=madrid(2026, 3, 10, 9, 0)) == 0
    assert date_triggers(now=madrid(2026, 3, 10, 10, 5)) == 1
    assert date_triggers(now=madrid(2026, 3, 10, 10, 6)) == 0

    assert enrolled_in(ana) == ["Aniversario"]
    assert enrolled_in(bea) == enrolled_in(carla) == enrolled_in(dolores) == []
    assert Enrollment.objects.get().context == {"date_field": "fecha_cita", "date": "2026-03-17"}


def test_29_february_is_celebrated_on_28_february_in_common_years() -> None:
    ContactProperty.objects.create(key="nacimiento", label="Nacimiento", type="date")
    leap = ContactFactory(properties={"nacimiento": "2000-02-29"})
    on_date("nacimiento", "anniversary", reenrol="always")

    assert date_triggers(now=madrid(2027, 2, 28, 12, 0)) == 1
    run_all(madrid(2027, 2, 28, 12, 0))  # that enrollment is over
    assert date_triggers(now=madrid(2028, 2, 28, 12, 0)) == 0  # 2028 has its own 29th
    assert date_triggers(now=madrid(2028, 2, 29, 12, 0)) == 1
    assert Enrollment.objects.filter(contact=leap).count() == 2


# --- The beat task ----------------------------------------------------------------------------


def test_the_beat_task_runs_the_sweep_and_the_segment_and_date_passes() -> None:
    form = newsletter_form()
    on_form(form, "Seguimiento")
    on_segment()
    touchpoint_record(kind="form_submit", contact=ContactFactory(), subject=form)
    tag(ContactFactory())

    assert tasks.workflows_triggers() == 2
    assert Enrollment.objects.count() == 2
    assert Touchpoint.objects.filter(kind="workflow_enrolled").count() == 2

"""Workflows for staff: the editor in the admin (an active workflow stays valid), the workflow's
page (diagram, counts, activate/pause/resume, enrolment by hand, test run), who may do what,
and the "Workflows" panel of a contact's page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Delivery
from contacts.models import Contact, Segment, Touchpoint
from contacts.segments import static_members_add
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory, grant
from tests.workflows.test_workflows import welcome_email, workflow_with
from workflows.engine import enrollments_run
from workflows.models import Enrollment, StepRun, Workflow, WorkflowStep
from workflows.services import enrol_contacts, workflow_activate

pytestmark = pytest.mark.django_db
Kind = WorkflowStep.Kind


def reader_series(**fields: Any) -> Workflow:
    """Tag the newcomer, wait three days, then ask whether they opened an e-mail."""
    return workflow_with(
        {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "nuevo", "name": "Marcar como nuevo"},
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 3, "name": "Esperar tres días"},
        {
            "key": "opened",
            "kind": Kind.BRANCH,
            "branch_on": WorkflowStep.BranchOn.TOUCHPOINT,
            "touchpoint_kind": "email_open",
            "name": "¿Abrió el correo?",
        },
        {"key": "reader", "kind": Kind.UPDATE_CONTACT, "tag": "lector", "name": "Marcar lector"},
        name=fields.pop("name", "Bienvenida a vecinos"),
        **fields,
    )


def active_reader_series() -> Workflow:
    workflow = reader_series()
    workflow_activate(workflow=workflow, by=None)
    return workflow


def enrolled(workflow: Workflow, *contacts: Contact) -> None:
    """Enrol them now and run their first steps: they end up waiting at the wait."""
    enrol_contacts(
        workflow=workflow,
        contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]),
        trigger_key="manual:prueba",
    )
    while enrollments_run(now=timezone.now()):
        pass


def url(name: str, workflow: Workflow) -> str:
    return reverse(f"workflows_staff:{name}", kwargs={"pk": workflow.pk})


def page(client: Client, workflow: Workflow) -> str:
    response = client.get(url("workflow", workflow))
    assert response.status_code == 200
    return response.content.decode()


def between(html: str, start: str, end: str) -> str:
    """The part of `html` from `start` to the first `end` after it."""
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def post(client: Client, name: str, workflow: Workflow, **data: Any) -> str:
    response = client.post(url(name, workflow), data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


# --- The workflow's page ----------------------------------------------------------------------


def test_the_page_shows_the_diagram_its_text_alternative_and_the_counts_per_step(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    enrolled(workflow, ContactFactory(), ContactFactory())
    client.force_login(marketer)

    html = page(client, workflow)

    assert '<svg class="workflow-diagram-svg" role="img"' in html
    assert "Diagrama del flujo Bienvenida a vecinos" in html
    assert "¿Abrió el correo? Sí → paso 4; No → fin" in html  # the list in words
    assert "en espera 0 · pasaron 2 · omitidos 0 · fallaron 0" in html  # the tag's box
    assert "en espera 2 · pasaron 0 · omitidos 0 · fallaron 0" in html  # the wait's box
    counts = between(html, 'id="workflow-counts"', "</table>")
    row = between(counts, "Esperar tres días</th>", "</tr>")
    assert row.count('<td class="number">2</td>') == 1
    assert "Solo cuando el personal inscribe contactos" in html
    assert "Pausar" in html and "Activar</button>" not in html
    assert "Inscribir</button>" in html and "Hacer la prueba</button>" in html


def test_activation_is_refused_naming_the_step_and_the_workflow_stays_a_draft(
    client: Client, marketer: Any
) -> None:
    workflow = reader_series()
    WorkflowStep.objects.filter(workflow=workflow, key="tag").update(next_key="nowhere")
    client.force_login(marketer)

    before = page(client, workflow)
    refused = post(client, "activate", workflow)

    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT
    assert 'id="workflow-problems"' in before and "Marcar como nuevo" in before
    assert "Se pueden inscribir contactos cuando el flujo esté activo." in before
    assert "Inscribir</button>" not in before
    assert "No se ha activado: hay 1 problema que corregir antes." in refused
    problem = refused[refused.index('class="error"') :]
    assert "Marcar como nuevo" in problem[:400] and "nowhere" in problem[:400]
    assert not AuditEntry.objects.filter(action="workflow_activated").exists()


def test_activation_switches_it_on_and_is_audited(client: Client, marketer: Any) -> None:
    workflow = reader_series()
    client.force_login(marketer)

    html = post(client, "activate", workflow)

    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.ACTIVE and workflow.activated_at is not None
    assert "Activo: los contactos se inscriben cuando ocurre el disparador." in html
    entry = AuditEntry.objects.get(action="workflow_activated")
    assert entry.actor == marketer and entry.object_id == str(workflow.pk)
    assert 'id="workflow-problems"' not in html


def test_pause_stops_it_and_resume_switches_it_on_again(client: Client, marketer: Any) -> None:
    workflow = active_reader_series()
    client.force_login(marketer)

    paused = post(client, "pause", workflow)
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.PAUSED
    assert "En pausa: no se inscribe a nadie" in paused and "Reanudar</button>" in paused

    resumed = post(client, "resume", workflow)
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.ACTIVE
    assert "Reanudado" in resumed
    assert AuditEntry.objects.filter(action="workflow_paused", actor=marketer).count() == 1
    assert AuditEntry.objects.filter(action="workflow_resumed", actor=marketer).count() == 1


def test_pausing_a_draft_is_refused_with_a_message(client: Client, marketer: Any) -> None:
    workflow = reader_series()
    client.force_login(marketer)

    html = post(client, "pause", workflow)

    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT
    assert 'class="error"' in html


def test_enrolling_one_contact_by_email_enrols_them_and_says_so(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    lucia = ContactFactory(email="lucia@correo.example")
    client.force_login(marketer)

    html = post(client, "enrol", workflow, email="LUCIA@correo.example")

    assert "1 contacto inscrito." in html
    enrollment = Enrollment.objects.get(workflow=workflow)
    assert enrollment.contact == lucia and enrollment.enrolled_by == marketer
    assert enrollment.trigger_key.startswith("manual:")
    entry = AuditEntry.objects.get(action="campaigns.workflow_enrolled")
    assert entry.detail == {"contact": lucia.pk, "enrolled": 1}


def test_enrolling_a_segment_enrols_its_members_and_says_how_many(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    members = [ContactFactory(), ContactFactory(), ContactFactory()]
    outsider = ContactFactory()
    segment = Segment.objects.create(name="Voluntarios", kind=Segment.Kind.STATIC)
    static_members_add(segment=segment, contacts=members)
    client.force_login(marketer)

    html = post(client, "enrol", workflow, segment=segment.pk)
    again = post(client, "enrol", workflow, segment=segment.pk)

    assert "3 contactos inscritos." in html
    assert set(Enrollment.objects.values_list("contact", flat=True)) == {c.pk for c in members}
    assert outsider.enrollments.count() == 0
    assert "No se ha inscrito a nadie" in again  # already in it: the policy keeps them out
    assert Enrollment.objects.count() == 3


def test_enrolment_with_an_unknown_address_or_nothing_chosen_enrols_nobody(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    client.force_login(marketer)

    unknown = post(client, "enrol", workflow, email="nadie@correo.example")
    empty = post(client, "enrol", workflow)

    assert "Ningún contacto tiene la dirección nadie@correo.example." in unknown
    assert "Escribe la dirección de un contacto o elige un segmento" in empty
    assert not Enrollment.objects.exists()


def test_the_test_run_shows_the_simulated_path_and_changes_nothing(
    client: Client, marketer: Any
) -> None:
    workflow = workflow_with(
        {"key": "welcome", "kind": Kind.SEND_EMAIL, "email": welcome_email()},
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 3, "name": "Esperar tres días"},
        {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "nuevo", "name": "Marcar como nuevo"},
    )
    lucia = ContactFactory(email="lucia@correo.example")
    grant(lucia)
    client.force_login(marketer)
    rows_before = (
        Enrollment.objects.count(),
        StepRun.objects.count(),
        Delivery.objects.count(),
        Touchpoint.objects.count(),
    )

    response = client.post(url("test", workflow), {"email": "lucia@correo.example"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ha sido una simulación: no se ha enviado ni cambiado nada" in html
    table = between(html, 'id="workflow-test"', "</table>")
    assert table.count("<tr>") == 5  # the header, three steps, the end
    assert "1. " in table and "«Bienvenida»" in table
    assert "2. " in table and "Esperar tres días" in table
    assert "(3\xa0días después)" in table  # the wait, collapsed
    assert "3. " in table and "Marcar como nuevo" in table
    assert "<td>Fin</td>" in table
    rows_after = (
        Enrollment.objects.count(),
        StepRun.objects.count(),
        Delivery.objects.count(),
        Touchpoint.objects.count(),
    )
    assert rows_after == rows_before
    lucia.refresh_from_db()
    assert not lucia.tags.exists()
    entry = AuditEntry.objects.get(action="campaigns.workflow_tested")
    assert entry.object_id == str(lucia.pk) and entry.detail == {"workflow": workflow.pk}


def test_the_test_run_of_an_unknown_address_says_so(client: Client, marketer: Any) -> None:
    workflow = reader_series()
    client.force_login(marketer)

    html = post(client, "test", workflow, email="nadie@correo.example")

    assert "Ningún contacto tiene la dirección nadie@correo.example." in html
    assert 'id="workflow-test"' not in html


def test_test_runs_are_rate_limited(client: Client, marketer: Any) -> None:
    workflow = reader_series()
    ContactFactory(email="lucia@correo.example")
    client.force_login(marketer)

    for _run in range(20):
        response = client.post(url("test", workflow), {"email": "lucia@correo.example"})
        assert response.status_code == 200

    html = post(client, "test", workflow, email="lucia@correo.example")

    assert "Demasiadas pruebas: inténtalo más tarde." in html
    assert 'id="workflow-test"' not in html


def test_the_list_shows_each_workflow_with_its_status_and_contacts_in_progress(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    enrolled(workflow, ContactFactory(), ContactFactory())
    reader_series(name="Cumpleaños")
    client.force_login(marketer)
    index = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("workflows_staff:list")}"' in index  # reached from the admin's home

    response = client.get(reverse("workflows_staff:list"))

    html = response.content.decode()
    assert response.status_code == 200
    row = between(html, "Bienvenida a vecinos", "</tr>")
    assert f'href="{url("workflow", workflow)}"' in html
    assert '<td class="number">2</td>' in row
    assert "Cumpleaños" in html


# --- Who may do what --------------------------------------------------------------------------


def test_staff_without_the_permission_get_403_and_change_nothing(
    client: Client, editor: Any, analyst: Any
) -> None:
    workflow = reader_series()
    ContactFactory(email="lucia@correo.example")

    client.force_login(editor)
    assert client.get(url("workflow", workflow)).status_code == 403
    assert client.get(reverse("workflows_staff:list")).status_code == 403

    client.force_login(analyst)  # may look, not act
    html = page(client, workflow)
    assert "Activar</button>" not in html and "Inscribir</button>" not in html
    for action in ("activate", "pause", "resume", "enrol", "test"):
        response = client.post(url(action, workflow), {"email": "lucia@correo.example"})
        assert response.status_code == 403, action
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT and not Enrollment.objects.exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client: Client) -> None:
    workflow = reader_series()

    for response in (
        client.get(url("workflow", workflow)),
        client.get(reverse("workflows_staff:list")),
        client.post(url("activate", workflow)),
        client.post(url("test", workflow), {"email": "x@correo.example"}),
    ):
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT


# --- The admin --------------------------------------------------------------------------------


def change_url(workflow: Workflow) -> str:
    return reverse("admin:workflows_workflow_change", args=[workflow.pk])


def form_data(client: Client, address: str) -> dict[str, Any]:
    """What the admin form at `address` would post back untouched."""
    response = client.get(address)
    assert response.status_code == 200
    data: dict[str, Any] = {}

    def take(form: Any) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form[name].html_name] = "on" if value is True else value
            if field.show_hidden_initial:  # a callable default: the page posts it back too
                data[form[name].html_initial_name] = value

    take(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        take(inline.formset.management_form)
        for form in inline.formset.forms:
            take(form)
    return data


def test_the_admin_shows_the_status_read_only_and_links_to_the_workflow_page(
    client: Client, marketer: Any
) -> None:
    workflow = reader_series()
    client.force_login(marketer)

    html = client.get(change_url(workflow)).content.decode()

    assert f'href="{url("workflow", workflow)}"' in html and "Abrir la página del flujo" in html
    assert 'name="status"' not in html
    assert 'list="workflow-interaction-kinds"' in html and 'value="email_open"' in html


def test_the_admin_refuses_a_change_that_would_break_an_active_workflow_keeping_what_was_typed(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    client.force_login(marketer)
    data = form_data(client, change_url(workflow))
    data["name"] = "Nuevo nombre"
    data["steps-0-next_key"] = "nowhere"

    response = client.post(change_url(workflow), data)

    assert response.status_code == 200  # the form again, not a redirect
    html = response.content.decode()
    assert "Un flujo activo tiene que seguir siendo válido" in html
    assert "Marcar como nuevo" in html and "nowhere" in html
    assert 'value="Nuevo nombre"' in html  # what was typed is kept
    workflow.refresh_from_db()
    assert workflow.name == "Bienvenida a vecinos"
    assert WorkflowStep.objects.get(workflow=workflow, key="tag").next_key == ""
    assert not AuditEntry.objects.filter(action="campaigns.workflow_changed").exists()


def test_the_admin_saves_a_valid_change_to_an_active_workflow_and_audits_it(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    client.force_login(marketer)
    data = form_data(client, change_url(workflow))
    data["steps-0-tag"] = "recien-llegado"

    response = client.post(change_url(workflow), data)

    assert response.status_code == 302
    assert WorkflowStep.objects.get(workflow=workflow, key="tag").tag == "recien-llegado"
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.ACTIVE
    entry = AuditEntry.objects.get(action="campaigns.workflow_changed")
    assert entry.actor == marketer and entry.detail["steps"] == ["tag"]


def test_the_admin_refuses_to_delete_a_step_someone_is_on(client: Client, marketer: Any) -> None:
    workflow = active_reader_series()
    enrolled(workflow, ContactFactory())  # waiting at "wait"
    client.force_login(marketer)
    data = form_data(client, change_url(workflow))
    data["steps-1-DELETE"] = "on"

    response = client.post(change_url(workflow), data)

    assert response.status_code == 200
    assert WorkflowStep.objects.filter(workflow=workflow, key="wait").exists()


def test_a_workflow_created_in_the_admin_is_a_draft_and_opens_its_page(
    client: Client, marketer: Any
) -> None:
    client.force_login(marketer)
    data = form_data(client, reverse("admin:workflows_workflow_add"))
    data.update(
        {
            "name": "Encuesta de satisfacción",
            "steps-TOTAL_FORMS": "1",
            "steps-0-key": "done",
            "steps-0-order": "0",
            "steps-0-kind": "end",
            "steps-0-purpose": "newsletter",
            "steps-0-wait_mode": "duration",
            "steps-0-wait_days": "0",
            "steps-0-wait_hours": "0",
            "steps-0-wait_minutes": "0",
            "steps-0-branch_on": "rule",
            "steps-0-rule": "{}",
            "steps-0-action": "add",
        }
    )

    response = client.post(reverse("admin:workflows_workflow_add"), data)

    workflow = Workflow.objects.get(name="Encuesta de satisfacción")
    assert response.status_code == 302 and response["Location"] == url("workflow", workflow)
    assert workflow.status == Workflow.Status.DRAFT and workflow.created_by == marketer
    assert workflow.steps.get().kind == Kind.END
    assert AuditEntry.objects.filter(action="campaigns.workflow_created").exists()


def test_enrollments_and_step_runs_are_read_only_lists_filtered_by_workflow(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    other = reader_series(name="Otro flujo")
    workflow_activate(workflow=other, by=None)
    lucia = ContactFactory(email="lucia@correo.example")
    enrolled(workflow, lucia)
    enrolled(other, ContactFactory(email="ramon@correo.example"))
    client.force_login(marketer)

    enrollments = client.get(
        reverse("admin:workflows_enrollment_changelist"), {"workflow__id__exact": workflow.pk}
    ).content.decode()
    runs = client.get(
        reverse("admin:workflows_steprun_changelist"),
        {"enrollment__workflow__id__exact": workflow.pk, "status__exact": "passed"},
    ).content.decode()

    assert "lucia@correo.example" in enrollments and "ramon@correo.example" not in enrollments
    assert runs.count('class="field-seq"') == 1  # Lucía's tag step, nothing of the other
    assert client.get(reverse("admin:workflows_enrollment_add")).status_code == 403
    assert client.get(reverse("admin:workflows_steprun_add")).status_code == 403
    enrollment = Enrollment.objects.get(contact=lucia)
    change = client.post(
        reverse("admin:workflows_enrollment_change", args=[enrollment.pk]), {"status": "exited"}
    )
    assert change.status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


# --- The contact's page -----------------------------------------------------------------------


def test_the_contact_page_shows_where_the_contact_is_in_each_workflow_and_its_history(
    client: Client, marketer: Any
) -> None:
    workflow = active_reader_series()
    lucia = ContactFactory(email="lucia@correo.example")
    enrolled(workflow, lucia)
    client.force_login(marketer)

    html = client.get(reverse("admin:contacts_contact_change", args=[lucia.pk])).content.decode()

    panel = html[html.index('id="contact-workflows"') : html.index('id="timeline-title"')]
    assert f'href="{url("workflow", workflow)}"' in panel and "Bienvenida a vecinos" in panel
    assert "En el paso “Esperar tres días”, esperando hasta el" in panel
    history = panel[panel.index("<tbody>") :]
    assert history.count("<tr>") == 1 and "Marcar como nuevo" in history


def test_the_contact_panel_costs_two_queries_and_is_hidden_without_the_permission(
    marketer: Any, editor: Any
) -> None:
    lucia = ContactFactory()
    for name in ("Uno", "Dos", "Tres"):
        workflow = reader_series(name=name)
        workflow_activate(workflow=workflow, by=None)
        enrolled(workflow, lucia)
    template = Template("{% load workflow_panels %}{% contact_workflows contact %}")
    request = RequestFactory().get("/")

    request.user = marketer
    marketer.has_perm("workflows.view_workflow")  # permissions cached, as on a real page
    with CaptureQueriesContext(connection) as queries:
        html = template.render(Context({"request": request, "contact": lucia}))
    assert len(queries) == 2
    assert html.count("<h3 ") == 3

    request.user = editor
    hidden = template.render(Context({"request": request, "contact": lucia}))
    assert "contact-workflows" not in hidden
    request.user = AnonymousUser()
    assert template.render(Context({"request": request, "contact": lucia})).strip() == ""


def test_a_contact_in_no_workflow_is_told_so(client: Client, marketer: Any) -> None:
    lucia = ContactFactory()
    client.force_login(marketer)

    html = client.get(reverse("admin:contacts_contact_change", args=[lucia.pk])).content.decode()

    assert "No está en ningún flujo." in html


def test_a_finished_enrollment_shows_when_it_ended(client: Client, marketer: Any) -> None:
    workflow = active_reader_series()
    lucia = ContactFactory()
    enrolled(workflow, lucia)
    later = timezone.now() + dt.timedelta(days=4)
    while enrollments_run(now=later):
        pass
    client.force_login(marketer)

    html = client.get(reverse("admin:contacts_contact_change", args=[lucia.pk])).content.decode()

    panel = html[html.index('id="contact-workflows"') : html.index('id="timeline-title"')]
    assert "terminó el" in panel
    assert panel[panel.index("<tbody>") :].count("<tr>") == 3  # tag, wait, branch (no: end)


def test_staff_take_a_contact_out_of_a_workflow_from_their_page(
    client: Client, marketer: Any, analyst: Any
) -> None:
    workflow = active_reader_series()
    lucia = ContactFactory(email="lucia@correo.example")
    enrolled(workflow, lucia)
    enrollment = Enrollment.objects.get(contact=lucia)
    remove = reverse("workflows_staff:enrollment_remove", args=[enrollment.pk])
    contact_page = reverse("admin:contacts_contact_change", args=[lucia.pk])

    client.force_login(analyst)
    assert client.post(remove).status_code == 403
    client.force_login(marketer)
    assert f'action="{remove}"' in client.get(contact_page).content.decode()

    response = client.post(remove, {"next": "https://evil.example/"}, follow=True)

    assert response.redirect_chain[0][0] == contact_page + "#contact-workflows"
    assert "Retirado de «Bienvenida a vecinos»" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.EXITED
    assert AuditEntry.objects.filter(action="workflow_unenrolled").count() == 1
    runs = StepRun.objects.count()
    enrollments_run(now=timezone.now() + dt.timedelta(days=30))
    assert StepRun.objects.count() == runs  # nothing more runs for her
    again = client.post(remove, follow=True)
    assert "ya no estaba en ese flujo" in again.content.decode()

"""Moving workflows out of `campaigns` keeps a running institution's data: a database migrated to
the old layout, with a workflow, its steps, an enrolment, its runs, an action, the delivery a
step sent and a group granted `campaigns.view_workflow`, comes out of `migrate` with the same
rows in the `workflows_*` tables, the delivery still tied to its run, and the group holding
`workflows.view_workflow`; and going back restores the old layout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.models import Delivery
from workflows.models import Enrollment, StepRun, Workflow, WorkflowAction, WorkflowStep

pytestmark = pytest.mark.django_db(transaction=True)  # migrations run their own DDL

BEFORE = [("campaigns", "0007_webhook_secret_help_timestamped"), ("workflows", None)]


def _executor() -> MigrationExecutor:
    return MigrationExecutor(connection)


@pytest.fixture
def old_layout() -> Iterator[Any]:
    """The database as it was before the move; the apps registry of that state. The test's
    database is migrated to the latest state again afterwards, whatever the test did."""
    executor = _executor()
    try:
        executor.migrate(BEFORE)
        yield executor.loader.project_state(BEFORE[0]).apps
    finally:
        executor = _executor()
        executor.migrate(executor.loader.graph.leaf_nodes())
        ContentType.objects.clear_cache()


def _old_rows(apps: Any) -> dict[str, int]:
    """What a running institution had: written with the models of the old layout."""
    def model(label: str) -> Any:
        return apps.get_model(*label.split("."))

    contact = model("contacts.Contact").objects.create(email="rosa@correo.example")
    email = model("campaigns.Email").objects.create(name="Bienvenida", subject_es="Hola")
    campaign = model("campaigns.Campaign").objects.create(name="Bienvenida", email=email)
    workflow = model("campaigns.Workflow").objects.create(name="Bienvenida")
    step = apps.get_model("campaigns", "WorkflowStep").objects.create(
        workflow=workflow, key="hola", kind="send_email", email=email, campaign=campaign
    )
    enrollment = apps.get_model("campaigns", "Enrollment").objects.create(
        workflow=workflow, contact=contact, step=step, seq=1
    )
    run = apps.get_model("campaigns", "StepRun").objects.create(
        enrollment=enrollment, step=step, seq=1, status="passed", due_at=enrollment.next_run_at
    )
    apps.get_model("campaigns", "WorkflowAction").objects.create(run=run, kind="webhook")
    apps.get_model("campaigns", "WorkflowSegmentMember").objects.create(
        workflow=workflow, contact=contact
    )
    delivery = apps.get_model("campaigns", "Delivery").objects.create(
        campaign=campaign, contact=contact, step_run=run
    )
    content_type = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="campaigns", model="workflow"
    )[0]
    permission = apps.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="view_workflow", defaults={"name": "Can view workflow"}
    )[0]
    group = apps.get_model("auth", "Group").objects.create(name="Equipo de bienvenida")
    group.permissions.add(permission)
    return {
        "workflow": workflow.pk,
        "step": step.pk,
        "enrollment": enrollment.pk,
        "run": run.pk,
        "delivery": delivery.pk,
        "content_type": content_type.pk,
        "group": group.pk,
    }


def test_migrating_keeps_every_workflow_row_and_the_permissions_staff_hold(
    old_layout: Any,
) -> None:
    old = _old_rows(old_layout)

    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    workflow = Workflow.objects.get(pk=old["workflow"])
    assert workflow.name == "Bienvenida"
    step = WorkflowStep.objects.get(pk=old["step"], workflow=workflow)
    assert step.campaign is not None and step.campaign.workflow_step == step
    enrollment = Enrollment.objects.get(pk=old["enrollment"], workflow=workflow, step=step)
    run = StepRun.objects.get(pk=old["run"], enrollment=enrollment)
    assert run.action.kind == WorkflowAction.Kind.WEBHOOK
    assert Delivery.objects.get(pk=old["delivery"]).step_run == run
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    assert {"workflows_workflow", "workflows_steprun", "workflows_enrollment"} <= tables
    assert not {t for t in tables if t.startswith("campaigns_") and "workflow" in t}

    content_type = ContentType.objects.get_for_model(Workflow)
    assert (content_type.pk, content_type.app_label) == (old["content_type"], "workflows")
    granted = Group.objects.get(pk=old["group"]).permissions.get()
    assert f"{granted.content_type.app_label}.{granted.codename}" == "workflows.view_workflow"
    # The renamed tables keep their id sequences: a new row does not collide with an old one.
    assert Workflow.objects.create(name="Reactivación").pk > workflow.pk

    # And the move can be undone (the fixture migrates forward again).
    executor = _executor()
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE[0]).apps
    assert apps.get_model("campaigns", "StepRun").objects.get(pk=old["run"]).enrollment_id == (
        old["enrollment"]
    )
    content_type = apps.get_model("contenttypes", "ContentType").objects.get(pk=old["content_type"])
    assert content_type.app_label == "campaigns"

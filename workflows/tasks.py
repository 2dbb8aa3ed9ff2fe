"""Celery tasks of `workflows` (the `default` queue: steps only write rows; e-mails leave
through the sending engine's `email` queue)."""

from __future__ import annotations

from celery import shared_task

from workflows.actions import workflow_actions_due as actions_due
from workflows.engine import workflows_run_due
from workflows.triggers import workflows_triggers as triggers_run


@shared_task(name="workflows.tasks.workflows_due")
def workflows_due() -> int:
    """Every 2 s: run the workflow steps that are due (`workflows.engine`). A tick
    that used its whole budget queues the next one at once, like the sending engine's."""
    result = workflows_run_due()
    if result.more:
        workflows_due.apply_async(expires=60)
    return result.ran


@shared_task(name="workflows.tasks.workflow_actions_due")
def workflow_actions_due() -> int:
    """Every 5 s: send workflows' webhook calls and e-mails to staff that are due, retrying
    failures with backoff (`workflows.actions`)."""
    return actions_due()


@shared_task(name="workflows.tasks.workflows_triggers")
def workflows_triggers() -> int:
    """Every minute: enrol who the touchpoint signal missed, who entered a workflow's segment
    and whose date has come (`workflows.triggers`)."""
    return triggers_run()


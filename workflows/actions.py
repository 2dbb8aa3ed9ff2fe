"""The relay of workflow actions: what a step does outside the database, sent after it committed.

A `webhook` or `notify_staff` step writes a `WorkflowAction` row (pending, due now) in the same
transaction as its `StepRun` (PENDING); beat runs `workflow_actions_due` every 5 s. The
enrollment goes on at once: a slow or broken receiver never holds anybody up in a workflow.

Modelled on the outbox of forms (`conversion.outbox`): a relay leases a batch
(`inbound.lib.leases`), so two relays never take the same row; each row is marked done, with its
step run PASSED, in its own short transaction right after it was sent, so a relay killed
mid-batch repeats at most the call in flight (receivers tell repeats apart by
`X-Inbound-Delivery`, the action's id). A failure is recorded on the row and retried with
backoff (1, 2, 4, 8, 16 minutes), then the row and its run are marked FAILED; a target that may
never be called (`inbound.lib.webhooks`: a private address) or nobody to tell fails at once.
Nothing stops the batch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inbound.lib.leases import lease_claim, relay_sweep
from inbound.lib.staff import active_staff_addresses
from inbound.lib.webhooks import WebhookRefused, webhook_post
from workflows.models import StepRun, Workflow, WorkflowAction

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# A sweep takes batches until nothing is due or its budget is spent (beat ticks every 5 s; a
# tick that finds a sweep still running takes other rows, never the same ones).
SWEEP_BATCH = 20
SWEEP_BUDGET_SECONDS = 20.0
# Longer than a batch can take (20 calls that each time out after at most a few times
# WORKFLOWS_WEBHOOK_TIMEOUT_SECONDS): a lease only ever runs out when its relay died.
LEASE = dt.timedelta(minutes=10)

WEBHOOK_EVENT = "workflow.step"


class ActionRefused(Exception):
    """The action can never succeed as it stands (nobody to tell, no URL): failed at once."""


Sender = Callable[[WorkflowAction, BaseEmailBackend | None], str]


def workflow_actions_claim(*, now: dt.datetime, limit: int) -> list[int]:
    """Lease up to `limit` due pending actions to this relay; their ids, oldest first."""
    due = WorkflowAction.objects.filter(
        status=WorkflowAction.Status.PENDING, next_attempt_at__lte=now
    )
    return lease_claim(due, limit=limit, lease=LEASE, order_by=("next_attempt_at", "pk"))


def workflow_actions_due(now: dt.datetime | None = None) -> int:
    """Send every pending workflow action whose time has come; returns how many succeeded.

    One mail connection serves the whole sweep's e-mails to staff, opened at the first one.
    """
    clock = now or timezone.now()
    return relay_sweep(
        claim=lambda limit: workflow_actions_claim(now=clock, limit=limit),
        send=lambda ids, backend: workflow_actions_send(ids, now=clock, connection=backend),
        batch=SWEEP_BATCH,
        budget=SWEEP_BUDGET_SECONDS,
    )


def workflow_actions_send(
    ids: list[int], *, now: dt.datetime, connection: BaseEmailBackend | None = None
) -> int:
    """Send the leased actions `ids`; returns how many succeeded. A failure is recorded on
    its row (and run) and never stops the others."""
    actions = (
        WorkflowAction.objects.filter(pk__in=ids)
        .select_related("run__step", "run__enrollment__workflow", "run__enrollment__contact")
        .order_by("next_attempt_at", "pk")
    )
    done = 0
    for action in actions:
        action.error = ""  # what a failed attempt left; a sender may note what it left out
        try:
            detail = SENDERS[action.kind](action, connection)
        except (WebhookRefused, ActionRefused) as error:
            _action_failed(action, str(error), now=now, final=True)
            continue
        except Exception as error:  # any failure is recorded on the row and retried
            if connection is not None:
                connection.close()  # maybe broken: the next e-mail opens a new one
            _action_failed(action, f"{type(error).__name__}: {error}", now=now)
            continue
        _action_done(action, detail)
        done += 1
    return done


@transaction.atomic
def _action_done(action: WorkflowAction, detail: str) -> None:
    # Committed at once, row by row: this action is never sent again, whatever happens to the
    # rest of the batch. `error` keeps what was left out (addresses that are not staff).
    WorkflowAction.objects.filter(pk=action.pk).update(
        status=WorkflowAction.Status.DONE,
        attempts=action.attempts + 1,
        done_at=timezone.now(),
        claimed_until=None,
        error=action.error[:500],
    )
    StepRun.objects.filter(pk=action.run_id).update(
        status=StepRun.Status.PASSED, detail=detail[:300]
    )


@transaction.atomic
def _action_failed(
    action: WorkflowAction, error: str, *, now: dt.datetime, final: bool = False
) -> None:
    action.attempts += 1
    action.error = error[:500]
    action.claimed_until = None
    if final or action.attempts >= MAX_ATTEMPTS:
        action.status = WorkflowAction.Status.FAILED
        StepRun.objects.filter(pk=action.run_id).update(
            status=StepRun.Status.FAILED, detail=error[:300]
        )
        logger.error(
            "workflow action %s (%s, run %s) failed for good: %s",
            action.pk,
            action.kind,
            action.run_id,
            error,
        )
    else:
        # 1, 2, 4, 8, 16 minutes between attempts.
        action.next_attempt_at = now + dt.timedelta(minutes=2 ** (action.attempts - 1))
        logger.warning(
            "workflow action %s (%s) attempt %s failed: %s",
            action.pk,
            action.kind,
            action.attempts,
            error,
        )
    action.save(update_fields=["attempts", "error", "status", "next_attempt_at", "claimed_until"])


def _webhook_send(action: WorkflowAction, connection: BaseEmailBackend | None) -> str:
    """POST the payload the step wrote, signed with the step's secret, to the step's URL (read
    now, so a URL staff corrected is the one called)."""
    step = action.run.step
    if step is None or not step.webhook_url:
        raise ActionRefused(_("The step has no webhook URL any more."))
    body = json.dumps(action.payload, sort_keys=True).encode()
    status = webhook_post(
        step.webhook_url,
        body,
        secret=step.webhook_secret,
        headers={"X-Inbound-Event": WEBHOOK_EVENT, "X-Inbound-Delivery": str(action.pk)},
        timeout=settings.WORKFLOWS_WEBHOOK_TIMEOUT_SECONDS,
    )
    return f"HTTP {status}"


def _staff_email_send(action: WorkflowAction, connection: BaseEmailBackend | None) -> str:
    """E-mail the step's addresses that belong to active staff accounts (in the site's main
    language); the others are left out and named in the action's `error`."""
    to = action.payload.get("to") or []
    if isinstance(to, str):  # "a@x, b@y" as staff typed it
        to = to.split(",")
    wanted = [str(address).strip() for address in to if str(address).strip()]
    staff = active_staff_addresses(wanted)
    recipients = [address for address in wanted if address.lower() in staff]
    left_out = [address for address in wanted if address.lower() not in staff]
    action.error = (
        _("Not sent to %(addresses)s: not the address of an active staff account.")
        % {"addresses": ", ".join(left_out)}
        if left_out
        else ""
    )
    if not recipients:
        raise ActionRefused(action.error or _("The step has no staff address to notify."))
    message = _staff_message(action, recipients)
    message.connection = connection
    message.send()
    return _("E-mailed to %(addresses)s") % {"addresses": ", ".join(recipients)}


def _staff_message(action: WorkflowAction, recipients: list[str]) -> EmailMultiAlternatives:
    run = action.run
    enrollment = run.enrollment
    contact = enrollment.contact
    workflow = enrollment.workflow
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("admin:contacts_contact_change", args=[contact.pk])
        context = {
            "workflow_name": workflow.name,
            "step_label": str(run.step) if run.step is not None else "",
            # Who the contact is stays behind the link: the admin page is audited, a mailbox
            # is not, so the message names the contact by number only.
            "contact_id": contact.pk,
            "trigger": _trigger_description(enrollment.context, workflow),
            "url": f"{settings.SITE_URL}{path}",
            "institution": settings.INSTITUTION,
        }
        subject = str(action.payload.get("subject") or "").strip() or (
            _("Workflow “%(workflow)s”: %(step)s")
            % {"workflow": workflow.name, "step": context["step_label"]}
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("workflows/email/staff_notification.txt", context),
            to=recipients,
        )
        message.attach_alternative(
            render_to_string("workflows/email/staff_notification.html", context),
            "text/html",
        )
    return message


def _trigger_description(context: Any, workflow: Workflow) -> str:
    """What enrolled the contact, for people: the interaction and what it was about (e.g.
    "form_submit: Boletín municipal"), else the workflow's kind of trigger."""
    context = context if isinstance(context, dict) else {}
    kind = str(context.get("kind") or "")
    if not kind:
        return str(workflow.get_trigger_display())
    subject = _subject_label(context.get("subject_type"), context.get("subject_id"))
    return f"{kind}: {subject}" if subject else kind


def _subject_label(subject_type: Any, subject_id: Any) -> str:
    """The name of what an interaction was about ("conversion.form", "3" → the form's name);
    its type and id when it is gone."""
    if not subject_type or subject_id in (None, ""):
        return ""
    fallback = f"{subject_type} #{subject_id}"
    try:
        model = apps.get_model(str(subject_type))
        subject = model._default_manager.filter(pk=subject_id).first()
    except (LookupError, ValueError, TypeError):  # an unknown model or a malformed id
        return fallback
    return str(subject) if subject is not None else fallback


SENDERS: dict[str, Sender] = {
    WorkflowAction.Kind.WEBHOOK: _webhook_send,
    WorkflowAction.Kind.STAFF_EMAIL: _staff_email_send,
}

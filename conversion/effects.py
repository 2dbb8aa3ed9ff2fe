"""How each side effect of a submission is sent: the opt-in e-mail, the staff notification and
the signed webhook. Called from the outbox relay (`conversion.outbox`) under the row's lease."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import ConsentRecord, Contact
from contacts.selectors import contacts_with_emails, may_email
from conversion.models import FormField, SideEffect, Submission
from inbound.lib.mailing import MessageTemplate, send_prepared
from inbound.lib.staff import active_staff_addresses
from inbound.lib.webhooks import webhook_post

WEBHOOK_TIMEOUT_SECONDS = 5


class NotSendable(Exception):
    """The side effect can't be sent (e.g. the address bounced): retried, then FAILED."""


def _email_language(submission: Submission) -> str:
    site_languages = {code for code, _name in settings.LANGUAGES}
    language = submission.language[:2]
    return language if language in site_languages else str(settings.LANGUAGE_CODE)


@dataclass
class OptinBatch:
    """What the relay looks up once for a batch of opt-in e-mails rather than per message: the
    contacts of the addresses (by lowercased address), the opt-in e-mails each address had in
    the last 24 hours (by `email_hash`, counted on as the batch sends), and the opt-in path of
    each language."""

    contacts: dict[str, Contact]
    sent_today: Counter[str]
    paths: dict[str, str] = field(default_factory=dict)  # the opt-in path, by language


def optin_batch(submissions: Sequence[Submission]) -> OptinBatch:
    """Three queries for the whole batch, whatever its size."""
    from conversion.applying import submission_email
    from conversion.forms import form_fields

    addresses = {submission_email(form_fields(s.form), s.values) for s in submissions}
    hashes = {s.email_hash for s in submissions if s.email_hash}
    return OptinBatch(
        contacts={(c.email or "").lower(): c for c in contacts_with_emails(addresses - {""})},
        sent_today=_optin_emails_sent_today(hashes),
    )


def _optin_emails_sent_today(hashes: set[str]) -> Counter[str]:
    """The opt-in e-mails each address (by `email_hash`) had in the last 24 hours.

    Two look-ups, each through the one index that fits it, so that they cost what the batch's
    addresses own however many e-mails the site sent today and whatever the planner's
    statistics say: the addresses' submissions by `email_hash`, then those submissions' opt-in
    rows by (submission, kind), filtered here. A join asking PostgreSQL for the day's done
    rows let it start from all of them (222 ms a batch after 75,000 e-mails, slower each batch).
    """
    if not hashes:
        return Counter()
    owners = dict(
        Submission.objects.filter(email_hash__in=hashes).order_by().values_list("pk", "email_hash")
    )
    if not owners:
        return Counter()
    since = timezone.now() - dt.timedelta(days=1)
    rows = (
        SideEffect.objects.filter(submission_id__in=list(owners), kind=SideEffect.Kind.OPTIN_EMAIL)
        .order_by()
        .values_list("submission_id", "status", "done_at")
    )
    return Counter(
        owners[submission_id]
        for submission_id, status, done_at in rows
        if status == SideEffect.Status.DONE and done_at is not None and done_at >= since
    )


def optin_email_send(
    submission: Submission,
    *,
    connection: BaseEmailBackend | None = None,
    batch: OptinBatch | None = None,
) -> None:
    """The double opt-in e-mail, in the submission's language, with the signed confirm link.

    `batch` (`optin_batch`) carries what the relay looked up for all the e-mails it sends
    together; each copy differs from the rendered template only by its address and links.
    """
    from conversion.applying import submission_email
    from conversion.downloads import download_url_for
    from conversion.forms import form_fields
    from conversion.outbox import Withheld
    from conversion.services import optin_url

    if batch is None:
        batch = optin_batch([submission])
    address = submission_email(form_fields(submission.form), submission.values)
    if not address or not submission.email_hash:
        raise Withheld("the submission has no address (erased)")
    contact = batch.contacts.get(address)
    if contact is not None:
        permission = may_email(contact=contact, purpose=ConsentRecord.Purpose.SERVICE)
        if not permission:
            raise Withheld(f"may not email: {permission.reason}")
    # Counted per address whatever the sender's IP, so nobody can flood someone else's inbox by
    # sending a form with their address from many machines.
    if batch.sent_today[submission.email_hash] >= _optin_limit():
        raise Withheld("over the daily limit of e-mails to this address")
    language = _email_language(submission)
    download_url = download_url_for(submission, absolute=True)
    template = _optin_template_kept(submission, language, with_download=bool(download_url))
    values = {"url": optin_url(submission, paths=batch.paths), "download_url": download_url or ""}
    send_prepared(template.message(to=address, values=values), connection)
    batch.sent_today[submission.email_hash] += 1


def _optin_limit() -> int:
    return int(getattr(settings, "CONVERSION_OPTIN_EMAILS_PER_ADDRESS_PER_DAY", 3))


# The opt-in e-mail rendered once per form version, language, landing page and the settings it
# shows, kept across batches by this process: under a steady stream of submissions every wake's
# batch rendered it anew (30 ms, some 0.4 ms of the relay's CPU a submission at 300 a second).
_templates: dict[Any, MessageTemplate] = {}
_TEMPLATES_KEPT = 256


def _optin_template_kept(
    submission: Submission, language: str, *, with_download: bool
) -> MessageTemplate:
    from conversion.downloads import download_max_age
    from conversion.services import _optin_max_age

    page = submission.landing_page
    key = (
        submission.form_id,
        submission.form.updated_at,
        language,
        page.pk if page is not None else None,
        page.updated_at if page is not None else None,
        with_download,
        repr(settings.INSTITUTION),
        _optin_max_age(),
        download_max_age(),
    )
    template = _templates.get(key)
    if template is None:
        if len(_templates) >= _TEMPLATES_KEPT:
            _templates.clear()
        template = _templates[key] = _optin_template(
            submission, language, with_download=with_download
        )
    return template


def _optin_template(
    submission: Submission, language: str, *, with_download: bool
) -> MessageTemplate:
    from conversion.downloads import download_max_age
    from conversion.services import _optin_max_age

    template = MessageTemplate()
    with translation.override(language):
        context = {
            "url": template.slot("url"),
            "form_title": submission.form.title,
            "institution": settings.INSTITUTION,
            "max_age_days": _optin_max_age().days,
            "download_url": template.slot("download_url") if with_download else None,
            "document_title": getattr(submission.landing_page, "gated_asset_title", ""),
            "download_max_age_hours": int(download_max_age().total_seconds() // 3600),
        }
        return template.build(
            subject=f"{_('Confirm your subscription')} · {settings.INSTITUTION['name']}",
            text=render_to_string("conversion/email/optin.txt", context),
            html=render_to_string("conversion/email/optin.html", context),
        )


def submission_rows(submission: Submission) -> list[tuple[str, str]]:
    """(label, value) lines of a submission for people, in the active language."""
    labels = {f.key: f.label for f in submission.form.fields.all()}
    rows = []
    for key, value in submission.values.items():
        if isinstance(value, dict):
            text = str(value.get("name", ""))
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif value is True:
            text = str(_("yes"))
        else:
            text = str(value)
        rows.append((labels.get(key, key), text))
    return rows


def staff_notification_send(
    submission: Submission, *, connection: BaseEmailBackend | None = None
) -> None:
    """Tell the form's staff addresses about a submission (in the site's main language).

    The message says that a submission arrived and links to its admin page; what the citizen
    wrote is read there, where each look is audited, never copied into mailboxes. Only the
    listed addresses that are active staff accounts now receive it.
    """
    form = submission.form
    staff = active_staff_addresses(form.notify_email_list)
    recipients = [address for address in form.notify_email_list if address.lower() in staff]
    if not recipients:
        raise NotSendable("none of the form's notification addresses is an active staff account")
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("admin:conversion_submission_change", args=[submission.pk])
        context = {
            "form_name": form.name,
            "submission": submission,
            "url": f"{settings.SITE_URL}{path}",
            "institution": settings.INSTITUTION,
        }
        message = EmailMultiAlternatives(
            subject=_("New submission: %(form)s") % {"form": form.name},
            body=render_to_string("conversion/email/staff_notification.txt", context),
            to=recipients,
        )
        message.attach_alternative(
            render_to_string("conversion/email/staff_notification.html", context), "text/html"
        )
    message.connection = connection
    message.send()


def webhook_payload(submission: Submission) -> dict[str, Any]:
    form = submission.form
    kinds = {f.key: f.kind for f in form.fields.all()}
    return {
        "event": "form_submit",
        "submission": submission.pk,
        "form": form.slug,
        "form_version": submission.form_version,
        "created_at": submission.created_at.isoformat(),
        "language": submission.language,
        "contact": submission.contact_id,
        "values": {
            key: value
            for key, value in submission.values.items()
            if kinds.get(key) != FormField.Kind.FILE
        },
        "utm": submission.utm,
        "page": submission.page,
        "referrer": submission.referrer,
    }


def webhook_send(submission: Submission) -> None:
    """POST the submission as JSON, signed, to a checked public target (`inbound.lib.webhooks`);
    a refused target, a failure or any non-2xx answer raises (and is retried)."""
    form = submission.form
    body = json.dumps(webhook_payload(submission), sort_keys=True).encode()
    webhook_post(
        form.webhook_url,
        body,
        secret=form.webhook_secret,
        headers={"X-Inbound-Submission": str(submission.pk)},
        timeout=WEBHOOK_TIMEOUT_SECONDS,
    )

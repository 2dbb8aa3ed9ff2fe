"""What `conversion` holds about citizens, declared in the personal-data registry
(`inbound.lib.personal_data`): submissions, their files and their outbox rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from inbound.lib import personal_data
from inbound.lib.personal_data import (
    Erase,
    Holder,
    Identity,
    Retention,
    exempt_field,
    exempt_models,
    register,
)


def _submissions(identity: Identity) -> QuerySet[Any]:
    """A person's submissions: linked to their contact, or not yet (an unconfirmed opt-in),
    found by the keyed hash of the address they typed."""
    from conversion.models import Submission

    match = Q(contact_id=identity.contact_id)
    if identity.email_hash:
        match |= Q(email_hash=identity.email_hash)
    return Submission.objects.filter(match)


def _files(identity: Identity) -> QuerySet[Any]:
    from conversion.models import SubmissionFile

    return SubmissionFile.objects.filter(submission__in=_submissions(identity))


def _effects(identity: Identity) -> QuerySet[Any]:
    from conversion.models import SideEffect

    return SideEffect.objects.filter(submission__in=_submissions(identity))


def _effects_cancel(rows: QuerySet[Any], identity: Identity) -> None:
    from conversion.models import SideEffect

    rows.filter(status=SideEffect.Status.PENDING).update(
        status=SideEffect.Status.CANCELLED, claimed_until=None, done_at=timezone.now()
    )


def submission_redact(submission: Any) -> None:
    """Keep nothing personal of one submission (its address was erased): values, page,
    referrer and visitor key blanked, files deleted, pending e-mails cancelled."""
    from conversion.models import Submission

    identity = Identity.of(0, email="", email_hash="", values=())
    rows = Submission.objects.filter(pk=submission.pk)
    for label in ("conversion.SideEffect", "conversion.SubmissionFile", "conversion.Submission"):
        holder = personal_data.holder(label)
        if holder is None:
            continue
        model = holder.model_class
        selected = (
            rows if model is Submission else model._default_manager.filter(submission__in=rows)
        )
        if holder.cancel is not None:
            holder.cancel(selected, identity)
        personal_data.holder_erase(holder, selected, identity)
    submission.refresh_from_db()


def _submissions_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    def iso(value: Any) -> Any:
        return value.isoformat() if value else None

    return [
        {
            "id": s.pk,
            "form": s.form.title,
            "sent_at": s.created_at.isoformat(),
            "language": s.language,
            "values": s.values,
            "page": s.page,
            "referrer": s.referrer,
            "opt_in_confirmed_at": iso(s.optin_confirmed_at),
            "files": [f.name for f in s.files.all()],
        }
        for s in rows.select_related("form").prefetch_related("files").order_by("created_at")
    ]


register(
    Holder(
        model="conversion.Submission",
        rows=_submissions,
        fields=("values", "referrer", "page", "visitor_key", "email_hash"),
        erase=Erase.REDACT,
        export="submissions",
        exporter=_submissions_export,
        retention=(
            # An opt-in never confirmed: the address and answers of someone who did not
            # (or could not) say yes are kept only a short while.
            Retention(
                "unconfirmed_submissions",
                filter={
                    "email_hash__gt": "",
                    "optin_confirmed_at__isnull": True,
                    "contact__isnull": True,
                },
                action=Erase.REDACT,
            ),
            Retention("submissions", action=Erase.REDACT),
        ),
        note="The row stays (form, date, campaign) so conversion figures still add up.",
    ),
    Holder(
        model="conversion.SubmissionFile",
        rows=_files,
        fields=("file", "name"),
        erase=Erase.DELETE,
        export="files",
        export_fields=("submission_id", "key", "size", "content_type"),
        retention=(Retention("submissions", "submission__created_at"),),
    ),
    Holder(
        model="conversion.SideEffect",
        rows=_effects,
        fields=(),
        scrub=("last_error",),
        erase=Erase.REDACT,
        cancel=_effects_cancel,
        note="The outbox of submissions: what is still pending is cancelled, never sent after "
        "erasure; errors quoting the address are scrubbed.",
    ),
)

exempt_field("conversion.Form.notify_emails", why="staff addresses (active staff accounts only)")
exempt_field("conversion.Submission.utm", why="the campaign that brought a visit, not the person")
exempt_field("conversion.LandingPage.gated_asset", why="the institution's published document")
exempt_field("conversion.LandingPage.hero_image", why="editorial image")
exempt_models(
    {
        "conversion.Form": "form definitions",
        "conversion.FormField": "form field definitions",
        "conversion.LandingPage": "published pages",
        "conversion.CallToAction": "calls to action",
        "conversion.ABTest": "A/B test definitions",
        "conversion.LandingVariant": "page variants",
    }
)

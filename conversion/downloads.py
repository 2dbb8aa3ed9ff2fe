"""Gated documents: a landing page's private PDF, reached only through a signed, expiring link
issued for one submission.

The file lives in the private storage (never under MEDIA_ROOT, never a public URL); the link
names the submission and the page, signed with its own salt and valid
`CONVERSION_DOWNLOAD_MAX_AGE_HOURS` (72). Each download is a `download` touchpoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.services import touchpoint_record
from conversion.models import LandingPage, Submission, landing_pages
from inbound.lib.errors import DomainError

DOWNLOAD_SALT = "conversion.download"


class DownloadLinkInvalid(DomainError):
    status = 400


class DownloadLinkExpired(DomainError):
    status = 400


@dataclass(frozen=True)
class Download:
    submission: Submission
    landing_page: LandingPage


def download_max_age() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "CONVERSION_DOWNLOAD_MAX_AGE_HOURS", 72)))


def download_token(*, submission: Submission, landing_page: LandingPage) -> str:
    return signing.dumps({"s": submission.pk, "p": landing_page.pk}, salt=DOWNLOAD_SALT)


def download_url(*, submission: Submission, landing_page: LandingPage) -> str:
    """The path of the signed link (prefixed with the active language)."""
    token = download_token(submission=submission, landing_page=landing_page)
    return reverse("conversion:download", kwargs={"token": token})


def download_read(token: str) -> Download:
    """What a download link names; raises DownloadLinkExpired / DownloadLinkInvalid."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=download_max_age())
    except signing.SignatureExpired as error:
        raise DownloadLinkExpired(_("This download link has expired."), code="expired") from error
    except signing.BadSignature as error:
        raise DownloadLinkInvalid(_("This download link is not valid.")) from error
    if not isinstance(data, dict):
        raise DownloadLinkInvalid(_("This download link is not valid."))
    submission_id, page_id = data.get("s"), data.get("p")
    if not isinstance(submission_id, int) or not isinstance(page_id, int):
        raise DownloadLinkInvalid(_("This download link is not valid."))
    submission = Submission.objects.filter(pk=submission_id).first()
    page = landing_pages().filter(pk=page_id).first()
    if submission is None or page is None or submission.landing_page_id != page.pk:
        raise DownloadLinkInvalid(_("This download link is not valid."))
    if not page.gated_asset:
        raise DownloadLinkInvalid(_("This document is no longer available."), code="gone")
    return Download(submission=submission, landing_page=page)


def download_awaits_optin(submission: Submission) -> bool:
    """The link travels in the opt-in e-mail (so not on the thank-you page) until confirmed."""
    if submission.optin_confirmed_at is not None:
        return False
    from conversion.applying import needs_confirmation
    from conversion.forms import form_fields

    # Decided from the submission itself: the relay queues the e-mail only a moment later.
    return needs_confirmation(submission, form_fields(submission.form))


def download_record(download: Download, *, visitor_key: str) -> None:
    touchpoint_record(
        kind="download",
        contact=download.submission.contact,
        visitor_key=visitor_key,
        subject=download.landing_page,
        properties={"submission": download.submission.pk},
    )


def download_url_for(submission: Submission, *, absolute: bool = False) -> str | None:
    """The signed link to the gated document of the page a submission came from, if any."""
    page = submission.landing_page
    if page is None or not page.gated_asset:
        return None
    path = download_url(submission=submission, landing_page=page)
    return f"{settings.SITE_URL}{path}" if absolute else path

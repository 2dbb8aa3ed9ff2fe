"""Gated documents: the signed, expiring download link after sending or after the opt-in."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.conf import settings
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from contacts.models import Touchpoint
from conversion import services
from conversion.downloads import DOWNLOAD_SALT, download_token
from conversion.effects import optin_email_send
from conversion.models import LandingPage, Submission, validate_gated_asset
from tests.conversion.landing_factories import (
    PDF,
    answers,
    gated_page,
    landing_url,
    private_in_tmp,  # noqa: F401 -- a fixture
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_in_tmp")]


def download_link(html: str) -> str:
    [link] = re.findall(r'href="(/en/downloads/[^"]+/)"', html)
    return link


def send(client: Client, page: LandingPage, **values: Any) -> str:
    """Send the page's form; the thank-you page's HTML."""
    response = client.post(landing_url(page), answers(**values), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def downloads() -> list[Touchpoint]:
    return list(Touchpoint.objects.filter(kind="download"))


def test_after_sending_the_thanks_page_links_to_the_document(client: Client) -> None:
    page = gated_page()

    html = send(client, page)

    assert "Download “Rental guide” (PDF)" in html
    response = client.get(download_link(html))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_a_download_records_a_download_touchpoint_for_the_contact(client: Client) -> None:
    page = gated_page()
    link = download_link(send(client, page))

    b"".join(client.get(link).streaming_content)

    [touchpoint] = downloads()
    submission = Submission.objects.get()
    assert touchpoint.contact == submission.contact
    assert touchpoint.stage == "convert"
    assert touchpoint.subject_id == str(page.pk)


def test_the_private_file_has_no_public_address(client: Client) -> None:
    page = gated_page()

    html = client.get(landing_url(page)).content.decode() + send(client, page)

    assert page.gated_asset.name not in html
    private = LandingPage._meta.get_field("gated_asset").storage
    assert page.gated_asset.path.startswith(str(private.location))
    assert not page.gated_asset.path.startswith(str(settings.MEDIA_ROOT))


def test_a_tampered_link_is_refused_with_a_clear_page(client: Client) -> None:
    page = gated_page()
    link = download_link(send(client, page))

    response = client.get(link[:-3] + "xx/")

    assert response.status_code == 400
    assert "This download link is not valid" in response.content.decode()
    assert not isinstance(response.get("Content-Disposition"), str)
    assert downloads() == []


def test_an_expired_link_is_refused_with_a_clear_page(client: Client) -> None:
    page = gated_page()
    send(client, page)
    submission = Submission.objects.get()
    token = download_token(submission=submission, landing_page=page)

    with override_settings(CONVERSION_DOWNLOAD_MAX_AGE_HOURS=1):
        signer_time = signing.TimestampSigner(salt=DOWNLOAD_SALT)
        signer_time.timestamp = lambda: signing.b62_encode(  # type: ignore[method-assign]
            int(time.time()) - 2 * 3600
        )
        old = signer_time.sign_object({"s": submission.pk, "p": page.pk})
        response = client.get(reverse("conversion:download", kwargs={"token": old}))
        fresh = client.get(reverse("conversion:download", kwargs={"token": token}))

    assert response.status_code == 400
    assert "This download link has expired" in response.content.decode()
    assert fresh.status_code == 200
    assert len(downloads()) == 1


def test_a_link_for_another_pages_document_is_refused(client: Client) -> None:
    page, other = gated_page(), gated_page()
    send(client, page)
    submission = Submission.objects.get()

    token = signing.dumps({"s": submission.pk, "p": other.pk}, salt=DOWNLOAD_SALT)
    response = client.get(reverse("conversion:download", kwargs={"token": token}))

    assert response.status_code == 400
    assert downloads() == []


def test_an_opt_in_link_is_not_a_download_link(client: Client) -> None:
    page = gated_page()
    send(client, page)
    submission = Submission.objects.get()

    response = client.get(
        reverse("conversion:download", kwargs={"token": services.optin_token(submission)})
    )

    assert response.status_code == 400


def test_the_thanks_page_shows_no_link_without_the_signed_submission(client: Client) -> None:
    page = gated_page()
    send(client, page)

    html = client.get(landing_url(page, "landing-thanks") + "?s=forged").content.decode()

    assert "/downloads/" not in html


def test_with_double_opt_in_the_link_comes_in_the_email_and_on_confirmation(
    client: Client,
) -> None:
    page = gated_page(double_opt_in=True)

    html = send(client, page, boletin="on")

    assert "/downloads/" not in html
    assert "The email also has your link to download “Rental guide”." in html
    submission = Submission.objects.get()
    with translation.override("en"):
        optin_email_send(submission)
    [message] = mail.outbox
    [link] = re.findall(r"https?://[^\s]+/en/downloads/[^\s]+/", message.body)
    path = link[link.index("/en/") :]
    assert client.get(path).status_code == 200
    token = services.optin_token(submission)
    with translation.override("en"):
        confirm = reverse("conversion:optin-confirm", kwargs={"token": token})
    confirmed = client.post(confirm).content.decode()
    assert "Download “Rental guide” (PDF)" in confirmed


def test_a_gated_document_must_be_a_pdf() -> None:
    with pytest.raises(Exception) as error:
        validate_gated_asset(SimpleUploadedFile("guia.pdf", b"<html>not a pdf</html>"))
    assert "PDF" in str(error.value)
    validate_gated_asset(SimpleUploadedFile("guia.pdf", PDF))


def test_a_gated_document_over_20_mb_is_refused() -> None:
    big = SimpleUploadedFile("guia.pdf", PDF + b"0" * (20 * 1024 * 1024))

    with pytest.raises(Exception) as error:
        validate_gated_asset(big)
    assert "20 MB" in str(error.value)

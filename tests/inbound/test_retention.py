"""Retention: each kind of personal data past its period is deleted or redacted by the nightly
purge, and nothing younger is touched. The clock is moved with time-machine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from campaigns.models import Delivery
from contacts.models import Contact, ImportJob, Touchpoint
from contacts.services import touchpoint_record
from conversion.models import Submission, SubmissionFile
from conversion.outbox import effects_due
from conversion.services import optin_confirm, optin_token, submission_create
from inbound.audit import audit_record
from inbound.models import AuditEntry
from inbound.retention import retention_purge
from tests.contacts.factories import ContactFactory
from tests.conversion.factories import newsletter_form
from tests.conversion.landing_factories import private_in_tmp  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 6, 1, 12, tzinfo=dt.UTC)


def _at(days_ago: int) -> Any:
    return time_machine.travel(NOW - dt.timedelta(days=days_ago), tick=False)


def _submit(email: str, **values: Any) -> Submission:
    submission, _created = submission_create(
        form=newsletter_form(),
        cleaned={"email": email, "boletin": True, **values},
        files={},
        language="es",
        page="/es/formularios/boletin/",
        referrer="https://buscador.example/?q=vecina",
        visitor_key="v" * 32,
    )
    return submission


@pytest.fixture
def settings_retention(settings: Any) -> Any:
    settings.RETENTION = {
        "submissions": 730, "unconfirmed_submissions": 30, "touchpoints": 760,
        "search_queries": 395, "deliveries": 1095, "workflow_runs": 365, "imports": 90,
        "login_attempts": 90, "audit": 1825,
    }  # fmt: skip
    return settings


def test_unconfirmed_optins_are_redacted_after_their_period_and_recent_ones_kept(
    settings_retention: Any,
) -> None:
    with _at(40):
        old = _submit("vieja@correo.example", nombre="Vieja")
        effects_due()
    with _at(5):
        recent = _submit("reciente@correo.example", nombre="Reciente")
        effects_due()

    with time_machine.travel(NOW, tick=False):
        report = retention_purge()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.values == {} and old.email_hash == "" and old.referrer == ""
    assert recent.values["nombre"] == "Reciente" and recent.email_hash
    assert report["unconfirmed_submissions"] == 1
    assert Submission.objects.count() == 2  # the rows stay: the figures still add up
    with time_machine.travel(NOW, tick=False):
        assert retention_purge()["unconfirmed_submissions"] == 0  # once is enough


@pytest.mark.usefixtures("private_in_tmp")
def test_confirmed_submissions_and_their_files_go_after_two_years(
    settings_retention: Any,
) -> None:
    tmp_path = Path(SubmissionFile._meta.get_field("file").storage.location)
    with _at(800):
        old = _submit("vieja@correo.example", nombre="Vieja")
        effects_due()
        optin_confirm(optin_token(old))
        kept = SubmissionFile.objects.create(
            submission=old, key="doc", file=SimpleUploadedFile("dni.pdf", b"%PDF- Vieja"),
            name="dni.pdf", size=11, content_type="application/pdf",
        )  # fmt: skip
    stored = tmp_path / kept.file.name
    assert stored.exists()
    with _at(100):
        young = _submit("joven@correo.example", nombre="Joven")
        effects_due()
        optin_confirm(optin_token(young))

    with time_machine.travel(NOW, tick=False):
        report = retention_purge()

    old.refresh_from_db()
    young.refresh_from_db()
    assert old.values == {} and old.visitor_key == ""
    assert not SubmissionFile.objects.exists() and not stored.exists()
    assert young.values["nombre"] == "Joven"
    assert report["submissions"] >= 2  # the row redacted, its file deleted


def test_touchpoints_and_searches_are_deleted_after_their_periods(
    settings_retention: Any,
) -> None:
    contact = ContactFactory()
    with _at(800):
        touchpoint_record(kind="email_open", contact=contact)
    with _at(400):
        touchpoint_record(kind="search", properties={"q": "ayudas alquiler"})
        touchpoint_record(kind="email_click", contact=contact)
    with _at(10):
        touchpoint_record(kind="search", properties={"q": "piscinas"})

    with time_machine.travel(NOW, tick=False):
        report = retention_purge()

    left = sorted(Touchpoint.objects.values_list("kind", flat=True))
    assert left == ["email_click", "search"]
    assert Touchpoint.objects.get(kind="search").properties == {"q": "piscinas"}
    assert report["touchpoints"] == 1 and report["search_queries"] == 1


def test_old_deliveries_and_import_reports(settings_retention: Any, marketer: Any) -> None:
    from tests.campaigns.test_sending import campaign_for

    contact = ContactFactory()
    campaign = campaign_for(contact)
    with _at(1200):
        Delivery.objects.create(campaign=campaign, contact=contact, status="sent")
        job = ImportJob.objects.create(
            original_name="vecinos.csv", created_by=marketer,
            errors=[{"row": 3, "email": "mala@correo", "errors": {"email": ["no"]}}],
        )  # fmt: skip

    with time_machine.travel(NOW, tick=False):
        report = retention_purge()

    assert not Delivery.objects.exists()
    job.refresh_from_db()
    assert job.errors == [] and job.original_name == "vecinos.csv"
    assert report["deliveries"] == 1 and report["imports"] == 1


def test_the_audit_log_keeps_five_years_then_only_the_purge_may_delete(
    settings_retention: Any,
) -> None:
    with _at(2000):
        audit_record(action="contact_viewed")
    with _at(100):
        audit_record(action="contact_viewed")

    with time_machine.travel(NOW, tick=False):
        report = retention_purge()

    assert AuditEntry.objects.count() == 1 and report["audit"] == 1
    if connection.vendor == "postgresql":
        from django.db import DatabaseError, transaction

        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.all()._raw_delete(AuditEntry.objects.db)


def test_the_purge_runs_from_beat_every_night(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["inbound-retention-purge"]
    assert entry["task"] == "inbound.tasks.retention_purge"
    from inbound.tasks import retention_purge as task

    assert isinstance(task(), dict)
    assert timezone.now()
    assert Contact.objects.count() == 0

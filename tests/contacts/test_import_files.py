"""Reading import files safely: zip bombs refused at upload, XLSX opened only by the worker."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from contacts.imports import import_header_read, import_job_run
from contacts.models import Contact, ImportJob
from contacts.tasks_imports import imports_headers_sweep
from tests.contacts.test_imports import (
    csv_bytes,
    es,
    job_for,
    mapping_post,
    staff_client,
    upload,
    xlsx_bytes,
)
from tests.contacts.test_imports import urlpatterns as urlpatterns  # the urlconf

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

MB = 1024 * 1024
ROW = b'<row><c t="inlineStr"><is><t>a</t></is></c></row>'
NOT_A_SPREADSHEET = "The file is neither a CSV nor an XLSX spreadsheet."
TOO_BIG = (
    "Uncompressed, this spreadsheet would take %(size)s MB, more than the %(max)s MB allowed, "
    "so it was not opened. Split it into smaller files or save it as CSV."
)
EXPANDS = (
    "This file expands %(ratio)s times when uncompressed, far more than a real spreadsheet does "
    "(at most %(max)s times), so it was not opened. Save it again from your spreadsheet program, "
    "or as CSV."
)


def workbook_zip(sheet_mb: int, *, level: int = 9, rows: bytes = ROW) -> bytes:
    """An XLSX-shaped zip whose sheet is `sheet_mb` MB of XML rows once inflated."""
    chunk = (rows * (MB // len(rows) + 1))[:MB]
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for _ in range(sheet_mb):
                sheet.write(chunk)
    return output.getvalue()


@cache
def zip_bomb() -> bytes:
    """600 MB of sheet (601 MB with the other parts) in a file of under 2 MB."""
    return workbook_zip(600)


def private_files() -> list[Path]:
    root = Path(django_settings.STORAGES["private"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture(autouse=True)
def _uploads_removed() -> Any:
    """Uploads live in the private storage under var/, whatever the test settings say."""
    before = set(private_files())
    yield
    for path in set(private_files()) - before:
        path.unlink(missing_ok=True)


# --- Refused at upload, before anything is inflated ------------------------------------------


def test_a_zip_bomb_is_refused_at_upload_in_spanish_and_nothing_is_stored(
    marketer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl must not open an upload in the request")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    monkeypatch.setattr("openpyxl.reader.excel.load_workbook", never)
    content = zip_bomb()
    assert len(content) < 2 * MB
    before = private_files()

    response = upload(staff_client(marketer), content, "socios.xlsx")

    assert response.status_code == 200
    message = es(TOO_BIG, size=601, max=500)
    assert response.context["form"].errors["file"] == [message]
    assert "descomprimida" in message.lower()  # shipped in Spanish
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()
    assert private_files() == before


def test_the_uncompressed_limit_is_a_setting(marketer: Any, settings: Any) -> None:
    settings.IMPORT_MAX_UNCOMPRESSED_MB = 20
    response = upload(staff_client(marketer), workbook_zip(25, level=1), "socios.xlsx")
    assert response.context["form"].errors["file"] == [es(TOO_BIG, size=26, max=20)]
    assert not ImportJob.objects.exists()


def test_a_part_that_expands_like_no_real_sheet_is_refused(marketer: Any) -> None:
    content = workbook_zip(5)  # small enough, but 5 MB from a few kilobytes
    response = upload(staff_client(marketer), content, "socios.xlsx")
    [error] = response.context["form"].errors["file"]
    assert error.startswith(es(EXPANDS, ratio="X", max=100).split("X")[0])
    assert not ImportJob.objects.exists()


def test_a_zip_that_is_not_an_office_file_is_refused(marketer: Any) -> None:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("fotos/feria.jpg", b"\xff\xd8\xff")
    response = upload(staff_client(marketer), output.getvalue(), "socios.xlsx")
    assert response.context["form"].errors["file"] == [es(NOT_A_SPREADSHEET)]
    assert not ImportJob.objects.exists()


def test_a_sheet_of_real_shape_passes_the_checks_and_waits_for_the_worker(marketer: Any) -> None:
    content = workbook_zip(
        3,
        rows=b"".join(  # realistic rows compress some 10-20 times
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>p%d@correo.example</t></is></c></row>'
            % (i, i, i * 7919 % 100_003)
            for i in range(1, 4000)
        ),
    )
    response = upload(staff_client(marketer), content, "socios.xlsx")
    assert response.status_code == 302
    assert ImportJob.objects.get().header == []


# --- Opened by the worker, never by the request ----------------------------------------------


def test_an_xlsx_is_opened_by_the_worker_while_the_page_waits_without_javascript(
    marketer: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    content = xlsx_bytes([["Correo", "Nombre"], ["ana@correo.example", "Ana"]])
    client = staff_client(marketer)
    real_load_workbook = openpyxl.load_workbook

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl must not open an upload in the request")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    monkeypatch.setattr("openpyxl.reader.excel.load_workbook", never)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, content, "vecinos.xlsx")
    job = ImportJob.objects.get()
    mapping_url = reverse("contacts_imports:import-mapping", args=[job.pk])
    assert response["Location"] == mapping_url
    assert len(callbacks) == 1  # the worker's task, enqueued once the job is committed
    assert job.header == []

    page = client.get(mapping_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert es("Reading the file") in html
    assert f'<a href="{mapping_url}" class="button">{es("Check again")}</a>' in html
    assert 'http-equiv="refresh"' not in html  # a timed refresh fails WCAG 2.2.1
    assert "column_0" not in html
    assert client.get(mapping_url, headers={"HX-Request": "true"}).status_code == 204

    monkeypatch.setattr(openpyxl, "load_workbook", real_load_workbook)
    monkeypatch.setattr("openpyxl.reader.excel.load_workbook", real_load_workbook)
    import_header_read(job=job)  # what the task does in the worker

    polled = client.get(mapping_url, headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true"
    page = client.get(mapping_url)
    html = page.content.decode()
    assert "Correo" in html and "Nombre" in html
    form = page.context["form"]
    assert [form["column_0"].initial, form["column_1"].initial] == ["email", "first_name"]
    client.post(mapping_url, mapping_post(job, {0: "email", 1: "first_name"}))
    job = import_job_run(job=job)
    assert (job.status, job.created_count) == ("done", 1)
    assert Contact.objects.get(email="ana@correo.example").first_name == "Ana"
    assert job.header == []  # a file without a header row has a person in it: not kept


def test_a_csv_header_is_read_at_upload_and_enqueues_nothing(
    marketer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(
            staff_client(marketer), csv_bytes("Correo;Nombre\nana@correo.example;Ana\n"), "a.csv"
        )
    assert ImportJob.objects.get().header == ["Correo", "Nombre"]
    assert callbacks == []


def test_an_xlsx_the_worker_cannot_open_fails_the_job_with_the_reason(marketer: Any) -> None:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "not xml at all")
    response = upload(staff_client(marketer), output.getvalue(), "roto.xlsx")
    assert response.status_code == 302  # its directory looks like a workbook
    job = ImportJob.objects.get()
    stored = Path(job.file.path)

    job = import_header_read(job=job)

    assert job.status == ImportJob.Status.FAILED
    assert not stored.exists()  # personal data that will never be imported
    client = staff_client(marketer)
    page = client.get(reverse("contacts_imports:import-mapping", args=[job.pk]), follow=True)
    assert es(NOT_A_SPREADSHEET) in page.content.decode()


def test_the_worker_refuses_a_bomb_that_reached_it_without_the_upload_form() -> None:
    job = job_for(zip_bomb(), name="socios.xlsx", mapping={"0": "email"})
    job = import_job_run(job=job)
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["errors"]["file"] == [es(TOO_BIG, size=601, max=500)]
    assert not Contact.objects.exists()


def test_the_sweep_reads_headers_whose_task_was_lost(marketer: Any) -> None:
    job = ImportJob.objects.create(original_name="lista.xlsx", created_by=marketer)
    job.file.save("lista.xlsx", ContentFile(xlsx_bytes([["email"], ["ana@correo.example"]])))
    fresh = ImportJob.objects.create(original_name="nueva.xlsx", created_by=marketer)
    fresh.file.save("nueva.xlsx", ContentFile(xlsx_bytes([["email"]])))
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))

    assert imports_headers_sweep() == 1

    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.header == ["email"]
    assert fresh.header == []  # its own task is probably still on the way


# --- The real worker ---------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_reads_the_columns_of_an_uploaded_xlsx(
    celery_worker_process: Any, marketer: Any
) -> None:
    client = staff_client(marketer)
    content = xlsx_bytes([["Correo", "Distrito"], ["ana@correo.example", "Centro"]])
    with transaction.atomic():
        response = upload(client, content, "vecinos.xlsx")
    mapping_url = response["Location"]
    deadline = time.monotonic() + 60
    page = client.get(mapping_url)
    while "column_0" not in page.content.decode() and time.monotonic() < deadline:
        time.sleep(0.2)
        page = client.get(mapping_url)
    html = page.content.decode()
    assert "Correo" in html and "Distrito" in html

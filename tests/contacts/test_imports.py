"""Importing contacts from CSV/XLSX: the staff flow, the batched upsert and its report."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import translation
from openpyxl import Workbook

from contacts.imports import (
    ImportFileError,
    import_header_read,
    import_job_run,
    import_rows,
    mapping_guess,
)
from contacts.models import (
    ConsentRecord,
    Contact,
    ContactProperty,
    ImportJob,
    Subscription,
    Tombstone,
)
from contacts.tasks_imports import import_run
from contacts.validation import email_hash
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory, TopicFactory


def _urlconf_with_import_pages() -> list[Any]:
    """The site's URLs, plus the import pages until the project's urls.py includes them."""
    from inbound.urls import urlpatterns

    try:
        reverse("contacts_imports:import-upload", urlconf="inbound.urls")
    except NoReverseMatch:
        return [
            *urlpatterns,
            *i18n_patterns(path("staff/contacts/imports/", include("contacts.urls_imports"))),
        ]
    return list(urlpatterns)


urlpatterns = _urlconf_with_import_pages()
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

CONSENT_TEXT = "Hoja de inscripción firmada en la Feria de Participación 2026 (registro 4711)."


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def es(message: str, **params: Any) -> str:
    """The message as Spanish staff read it (new strings stay English until translated)."""
    with translation.override("es"):
        text = translation.gettext(message)
    return text % params if params else text


INVALID_EMAIL = "Introduce una dirección de correo electrónico válida."


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def job_for(
    content: bytes,
    name: str = "contactos.csv",
    mapping: dict[str, str] | None = None,
    legal_basis: str = ConsentRecord.LegalBasis.CONSENT,
    user: Any = None,
) -> ImportJob:
    job = ImportJob.objects.create(
        original_name=name,
        mapping={"0": "email", "1": "first_name"} if mapping is None else mapping,
        legal_basis=legal_basis,
        consent_text=CONSENT_TEXT,
        created_by=user,
    )
    job.file.save(name, ContentFile(content))
    if mapping == {}:  # at the mapping step: its header was read, as upload and worker do
        job = import_header_read(job=job)
    return job


def run(job: ImportJob) -> ImportJob:
    return import_job_run(job=job)


def staff_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, content: bytes, name: str) -> Any:
    return client.post(
        reverse("contacts_imports:import-upload"),
        {"file": SimpleUploadedFile(name, content)},
    )


def mapping_post(job: ImportJob, columns: dict[int, str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f"column_{i}": target for i, target in columns.items()}
    data.setdefault("legal_basis", ConsentRecord.LegalBasis.CONSENT)
    data.setdefault("consent_text", CONSENT_TEXT)
    data.update(extra)
    return data


# --- The staff flow --------------------------------------------------------------------------


def test_marketer_imports_a_semicolon_windows_1252_csv_through_the_pages(
    marketer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    topic = TopicFactory(slug="movilidad", name="Movilidad")
    content = csv_bytes(
        "Correo;Nombre;Apellidos;Teléfono;CP;Distrito\n"
        "ines.nunez@correo.example;Inés;Núñez Peñalver;600 123 456;8001;Gràcia\n"
        "jose@correo.example;José;Martín;;28013;Centro\n",
        "cp1252",
    )
    client = staff_client(marketer)
    response = upload(client, content, "vecinos.csv")
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts_imports:import-mapping", args=[job.pk])

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Teléfono" in html and "Distrito" in html  # the file's own column names, decoded
    form = page.context["form"]
    guessed = [form[f"column_{i}"].initial for i in range(6)]
    assert guessed == ["email", "first_name", "last_name", "phone", "postal_code", "district"]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            page.request["PATH_INFO"],
            mapping_post(job, dict(enumerate(guessed)), topics=[topic.pk]),
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts_imports:import-detail", args=[job.pk])
    assert len(callbacks) == 1  # the task is enqueued only once the job is committed

    job = run(job)
    assert (job.status, job.total_rows, job.processed_rows, job.created_count) == ("done", 2, 2, 2)
    ines = Contact.objects.get(email="ines.nunez@correo.example")
    assert (ines.first_name, ines.last_name, ines.phone, ines.postal_code, ines.district) == (
        "Inés",
        "Núñez Peñalver",
        "+34600123456",
        "08001",
        "Gràcia",
    )
    assert ines.source == Contact.Source.IMPORT
    assert Subscription.objects.filter(
        contact=ines, topic=topic, status=Subscription.Status.ACTIVE
    ).exists()

    page = client.get(reverse("contacts_imports:import-detail", args=[job.pk]))
    html = page.content.decode()
    assert es("Every row was imported.") in html
    assert 'http-equiv="refresh"' not in html


def test_a_second_mapping_submission_does_not_import_twice(
    marketer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = job_for(csv_bytes("email\nana@correo.example\n"), mapping={})
    job.legal_basis = ""
    job.save()
    client = staff_client(marketer)
    url = reverse("contacts_imports:import-mapping", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url, mapping_post(job, {0: "email"}))
        second = client.post(url, mapping_post(job, {0: "email"}))
    assert second.status_code == 302
    assert len(callbacks) == 1


def test_mapping_without_an_email_column_is_refused(marketer: Any) -> None:
    job = job_for(csv_bytes("Nombre,Correo\nAna,ana@correo.example\n"), mapping={})
    response = staff_client(marketer).post(
        reverse("contacts_imports:import-mapping", args=[job.pk]),
        mapping_post(job, {0: "first_name", 1: "ignore"}),
    )
    assert response.status_code == 200
    assert es("Choose which column holds the email address.") in response.content.decode()
    job.refresh_from_db()
    assert job.mapping == {} and job.status == ImportJob.Status.PENDING


def test_consent_basis_needs_the_consent_text(marketer: Any) -> None:
    job = job_for(csv_bytes("email\nana@correo.example\n"), mapping={})
    response = staff_client(marketer).post(
        reverse("contacts_imports:import-mapping", args=[job.pk]),
        mapping_post(job, {0: "email"}, consent_text=""),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["consent_text"]


def test_a_file_that_is_not_a_spreadsheet_is_refused_at_upload(marketer: Any) -> None:
    response = upload(staff_client(marketer), b"\x89PNG\r\n\x1a\n\x00\x00\x00", "foto.csv")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_a_file_over_20_mb_is_refused_at_upload(marketer: Any) -> None:
    content = b"email\n" + b"a" * (20 * 1024 * 1024)
    response = upload(staff_client(marketer), content, "enorme.csv")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_a_large_upload_spooled_to_disk_reaches_the_mapping_step(marketer: Any) -> None:
    rows = "".join(f"persona{i}@correo.example;Persona {i};Centro\n" for i in range(80_000))
    content = csv_bytes("Correo;Nombre;Distrito\n" + rows)
    assert len(content) > 2_621_440  # over FILE_UPLOAD_MAX_MEMORY_SIZE: a temporary file
    response = upload(staff_client(marketer), content, "padron.csv")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.file.size == len(content) and job.status == ImportJob.Status.PENDING


def test_analyst_cannot_import_and_anonymous_goes_to_login(analyst: Any, client: Client) -> None:
    url = reverse("contacts_imports:import-upload")
    assert staff_client(analyst).get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]


# --- Reading and mapping ---------------------------------------------------------------------


def test_header_names_are_guessed_in_spanish_and_english() -> None:
    ContactProperty.objects.create(key="socio", label="Número de socio", type="number")
    TopicFactory(slug="cultura", name="Cultura")
    header = [
        "E-mail",
        "Nombre",
        "Apellidos",
        "Teléfono",
        "Código postal",
        "Distrito",
        "Número de socio",
        "Cultura",
        "Año de nacimiento",
        "Etiquetas",
        "Observaciones",
    ]
    assert list(mapping_guess(header).values()) == [
        "email",
        "first_name",
        "last_name",
        "phone",
        "postal_code",
        "district",
        "property:socio",
        "topic:cultura",
        "birth_year",
        "tags",
        "ignore",
    ]
    assert mapping_guess(["CORREO", "cp", "Last name"]) == {
        "0": "email",
        "1": "postal_code",
        "2": "last_name",
    }


def test_utf8_csv_with_bom_and_commas_imports() -> None:
    content = "\ufeffCorreo,Nombre\nlucia@correo.example,Lucía\n".encode()
    job = run(job_for(content))
    assert job.status == "done"
    assert Contact.objects.get(email="lucia@correo.example").first_name == "Lucía"


def test_xlsx_file_imports_with_numbers_as_cells() -> None:
    content = xlsx_bytes(
        [
            ["Correo", "Nombre", "Teléfono", "CP", "Año de nacimiento"],
            ["marta@correo.example", "Marta", 600123456, 8001, 1985],
            [None, None, None, None, None],
            ["pau@correo.example", "Pau", None, 28013, None],
        ]
    )
    mapping = {"0": "email", "1": "first_name", "2": "phone", "3": "postal_code", "4": "birth_year"}
    job = run(job_for(content, name="contactos.xlsx", mapping=mapping))
    assert (job.status, job.total_rows, job.created_count) == ("done", 2, 2)
    marta = Contact.objects.get(email="marta@correo.example")
    assert (marta.phone, marta.postal_code, marta.birth_year) == ("+34600123456", "08001", 1985)


# --- The upsert --------------------------------------------------------------------------------


def test_duplicate_emails_in_the_file_last_row_wins_and_is_reported() -> None:
    content = csv_bytes(
        "email,nombre,distrito\n"
        "rosa@correo.example,Rosa,Norte\n"
        "otra@correo.example,Otra,\n"
        "ROSA@correo.example,Rosario,\n"
    )
    mapping = {"0": "email", "1": "first_name", "2": "district"}
    job = run(job_for(content, mapping=mapping))
    rosa = Contact.objects.get(email="rosa@correo.example")
    assert (rosa.first_name, rosa.district) == ("Rosario", "Norte")  # blanks keep earlier values
    assert Contact.objects.count() == 2
    assert job.created_count == 2
    assert [(e["row"], e["email"]) for e in job.errors] == [(2, "rosa@correo.example")]
    assert job.errors[0]["errors"]["email"] == [
        es("The same email appears again in row %(row)s, which wins.", row=4)
    ]


def test_existing_contacts_are_updated_and_blanks_never_overwrite() -> None:
    ContactFactory(
        email="Pepe@Correo.example",
        first_name="Pepe",
        last_name="Gómez",
        phone="+34600123456",
        district="Centro",
    )
    content = csv_bytes(
        "email,nombre,apellidos,telefono,distrito\npepe@correo.example,,Gómez Ruiz,,\n"
    )
    mapping = {"0": "email", "1": "first_name", "2": "last_name", "3": "phone", "4": "district"}
    job = run(job_for(content, mapping=mapping))
    assert (job.created_count, job.updated_count) == (0, 1)
    pepe = Contact.objects.get()
    assert (pepe.first_name, pepe.last_name, pepe.phone, pepe.district) == (
        "Pepe",
        "Gómez Ruiz",
        "+34600123456",
        "Centro",
    )
    assert pepe.version == 2


def test_bad_rows_are_reported_in_spanish_while_valid_rows_import() -> None:
    ContactProperty.objects.create(key="socio", label="Número de socio", type="number")
    content = csv_bytes(
        "email,telefono,cp,socio\n"
        "buena@correo.example,600123456,28013,15\n"
        "no-es-un-correo,,,\n"
        "telefono@correo.example,123,,\n"
        "cp@correo.example,,99999,abc\n"
        "otra.buena@correo.example,,,\n"
    )
    mapping = {"0": "email", "1": "phone", "2": "postal_code", "3": "property:socio"}
    job = run(job_for(content, mapping=mapping))
    assert (job.status, job.processed_rows, job.created_count, job.error_count) == ("done", 5, 2, 3)
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "buena@correo.example",
        "otra.buena@correo.example",
    }
    assert Contact.objects.get(email="buena@correo.example").properties == {"socio": 15}
    by_row = {e["row"]: e for e in job.errors}
    assert set(by_row) == {3, 4, 5}
    assert by_row[3]["errors"]["email"] == [INVALID_EMAIL]
    assert "teléfono" in by_row[4]["errors"]["phone"][0]
    assert set(by_row[5]["errors"]) == {"postal_code", "socio"}
    assert "código postal" in by_row[5]["errors"]["postal_code"][0]
    # Nothing half-written for a bad row: no consent for rows never imported.
    assert ConsentRecord.objects.count() == 2


def test_tombstoned_emails_are_refused() -> None:
    Tombstone.objects.create(email_hash=email_hash("borrada@correo.example"))
    content = csv_bytes("email\nborrada@correo.example\nviva@correo.example\n")
    job = run(job_for(content, mapping={"0": "email"}))
    assert list(Contact.objects.values_list("email", flat=True)) == ["viva@correo.example"]
    assert job.errors[0]["row"] == 2
    assert job.errors[0]["errors"]["email"] == [
        es("This person asked to be erased; they can only come back by signing up themselves.")
    ]


def test_consent_records_carry_the_declared_legal_basis_and_topics_subscribe(
    marketer: Any,
) -> None:
    everyone = TopicFactory(slug="agenda", name="Agenda")
    column = TopicFactory(slug="obras", name="Obras")
    left = ContactFactory(email="se.fue@correo.example")
    Subscription.objects.create(
        contact=left, topic=everyone, status=Subscription.Status.UNSUBSCRIBED
    )
    content = csv_bytes(
        "email,obras\nana@correo.example,sí\nluis@correo.example,no\nse.fue@correo.example,\n"
    )
    job = job_for(
        content,
        mapping={"0": "email", "1": "topic:obras"},
        legal_basis=ConsentRecord.LegalBasis.PUBLIC_TASK,
        user=marketer,
    )
    job.topics.set([everyone])
    job = run(job)
    ana = Contact.objects.get(email="ana@correo.example")
    luis = Contact.objects.get(email="luis@correo.example")
    active = set(
        Subscription.objects.filter(status="active").values_list("contact__email", "topic__slug")
    )
    assert active == {
        ("ana@correo.example", "agenda"),
        ("ana@correo.example", "obras"),
        ("luis@correo.example", "agenda"),
    }
    # Someone who unsubscribed is not subscribed again by a spreadsheet.
    assert Subscription.objects.get(contact=left).status == Subscription.Status.UNSUBSCRIBED
    topic_records = ConsentRecord.objects.filter(purpose=ConsentRecord.Purpose.TOPIC)
    assert {(r.contact_id, r.topic_id) for r in topic_records} == {
        (ana.pk, everyone.pk),
        (ana.pk, column.pk),
        (luis.pk, everyone.pk),
    }
    for record in ConsentRecord.objects.all():
        assert record.legal_basis == ConsentRecord.LegalBasis.PUBLIC_TASK
        assert record.text == CONSENT_TEXT
        assert record.text_version == f"import:{job.pk}"
        assert record.source == ConsentRecord.Source.IMPORT
        assert record.recorded_by == marketer
        assert record.action == ConsentRecord.Action.GRANTED


def test_tags_column_is_split_on_commas() -> None:
    content = csv_bytes('email,etiquetas\nana@correo.example,"feria 2026, voluntariado"\n')
    run(job_for(content, mapping={"0": "email", "1": "tags"}))
    ana = Contact.objects.get()
    assert sorted(ana.tags.values_list("name", flat=True)) == ["feria 2026", "voluntariado"]


def test_import_rows_takes_generated_rows_in_batches() -> None:
    rows = ({"mail": f"persona{i}@correo.example", "cp": "28013"} for i in range(2500))
    result = import_rows(
        rows=rows,
        mapping={"mail": "email", "cp": "postal_code"},
        legal_basis=ConsentRecord.LegalBasis.LEGITIMATE_INTEREST,
        consent_text="",
    )
    assert (result.processed, result.created, result.error_count) == (2500, 2500, 0)
    assert Contact.objects.filter(postal_code="28013").count() == 2500


def test_a_rerun_after_a_crash_resumes_after_the_committed_rows() -> None:
    content = csv_bytes("email\nuno@correo.example\ndos@correo.example\ntres@correo.example\n")
    job = job_for(content, mapping={"0": "email"})
    # As a worker that died after committing the batch of the first two rows leaves it.
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=2)
    job = run(job)
    assert (job.status, job.processed_rows, job.created_count) == ("done", 3, 1)
    assert list(Contact.objects.values_list("email", flat=True)) == ["tres@correo.example"]


def test_import_is_audited_with_its_counts(marketer: Any) -> None:
    job = run(
        job_for(
            csv_bytes("email\nana@correo.example\nmal\n"), mapping={"0": "email"}, user=marketer
        )
    )
    entry = AuditEntry.objects.get(action="contacts_imported")
    assert entry.actor == marketer and entry.object_id == str(job.pk)
    assert entry.detail == {"status": "done", "rows": 2, "created": 1, "updated": 0, "errors": 1}


# --- Malformed files: the job fails and nothing is imported -----------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", es("The file is neither a CSV nor an XLSX spreadsheet.")),
        (
            csv_bytes("email\nana@correo.example\n" + ",".join(["x"] * 201) + "\n"),
            es("Row %(row)s has more than %(max)s columns.", row=3, max=200),
        ),
        (
            csv_bytes("email,nota\nana@correo.example,ok\nluis@correo.example," + "n" * 10_001),
            es("Row %(row)s has a cell longer than %(max)s characters.", row=3, max="10\u00a0000"),
        ),
        (b"", es("The file is empty.")),
    ],
    ids=["binary", "too-many-columns", "cell-too-long", "empty"],
)
def test_malformed_file_fails_the_job_and_imports_nothing(content: bytes, message: str) -> None:
    job = run(job_for(content, mapping={"0": "email"}))
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert job.errors[0]["errors"]["file"] == [message]
    assert not Contact.objects.exists()


def test_oversized_file_fails_the_job() -> None:
    job = run(job_for(b"email\n" + b"a" * (20 * 1024 * 1024), mapping={"0": "email"}))
    assert job.status == ImportJob.Status.FAILED
    assert "20 MB" in job.errors[0]["errors"]["file"][0]


def test_file_with_more_than_a_million_rows_fails_and_imports_nothing() -> None:
    content = b"email\n" + b"ana@correo.example\n" + b"x\n" * 1_000_000
    job = run(job_for(content, mapping={"0": "email"}))
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["errors"]["file"] == [
        es("The file has more than %(max)s rows.", max="1\u00a0000\u00a0000")
    ]
    assert not Contact.objects.exists()


def test_import_rows_refuses_a_mapping_without_email() -> None:
    with pytest.raises(ImportFileError):
        import_rows(
            rows=[{"a": "x"}], mapping={"a": "first_name"}, legal_basis="consent", consent_text="x"
        )


# --- The progress page -------------------------------------------------------------------------


def test_progress_page_refreshes_itself_while_running(marketer: Any) -> None:
    job = job_for(csv_bytes("email\nana@correo.example\n"))
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", total_rows=2000, processed_rows=1000
    )
    response = staff_client(marketer).get(reverse("contacts_imports:import-detail", args=[job.pk]))
    html = response.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress id="import-progress" max="2000" value="1000">50%</progress>' in html
    assert (
        es(
            "%(processed)s of %(total)s rows (%(percent)s%%)",
            processed=1000,
            total=2000,
            percent=50,
        )
        in html
    )
    assert "<script>" not in html


def test_progress_page_shows_the_error_report_when_done(marketer: Any) -> None:
    content = csv_bytes("email,telefono\nana@correo.example,\nmal-correo,\nluis@x.example,12\n")
    job = run(job_for(content, mapping={"0": "email", "1": "phone"}))
    client = staff_client(marketer)
    response = client.get(reverse("contacts_imports:import-detail", args=[job.pk]))
    html = response.content.decode()
    assert 'http-equiv="refresh"' not in html
    assert f"<td>3</td><td>mal-correo</td><td>{INVALID_EMAIL}</td>" in html
    assert "<td>4</td><td>luis@x.example</td>" in html
    assert AuditEntry.objects.filter(action="import_report_viewed", actor=marketer).exists()
    download = client.get(reverse("contacts_imports:import-errors", args=[job.pk]))
    text = download.content.decode("utf-8-sig")
    assert download["Content-Type"].startswith("text/csv")
    assert text.splitlines()[1] == f"3,mal-correo,{INVALID_EMAIL}"


# --- The real worker ---------------------------------------------------------------------------


def wait_until_finished(job: ImportJob, timeout: float = 60.0) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            return job
        time.sleep(0.2)
    return job


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_import_runs_in_the_celery_worker_after_commit(
    celery_worker_process: Any, settings: Any
) -> None:
    from inbound import settings as project_settings

    settings.MEDIA_ROOT = project_settings.MEDIA_ROOT  # where the worker process reads files
    rows = "".join(f"persona{i}@correo.example;Persona {i}\n" for i in range(1500))
    with transaction.atomic():
        job = job_for(csv_bytes("Correo;Nombre\n" + rows))
        import_run.delay_on_commit(job.pk)
    job = wait_until_finished(job)
    assert (job.status, job.total_rows, job.processed_rows, job.created_count) == (
        "done",
        1500,
        1500,
        1500,
    )
    assert Contact.objects.filter(source="import").count() == 1500
    # The uploaded file is not kept once imported (deleted just after the job says done).
    deadline = time.monotonic() + 10
    while Path(job.file.path).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(job.file.path).exists()


def test_import_admin_lists_jobs_with_a_link_to_their_report(marketer: Any, analyst: Any) -> None:
    job = run(job_for(csv_bytes("email\nana@correo.example\n"), mapping={"0": "email"}))
    response = staff_client(marketer).get(reverse("admin:contacts_importjob_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("contacts_imports:import-detail", args=[job.pk]) in html
    assert "1/1 (100%)" in html
    add = staff_client(marketer).get(reverse("admin:contacts_importjob_add"))
    assert add["Location"] == reverse("contacts_imports:import-upload")
    assert staff_client(analyst).get(reverse("admin:contacts_importjob_add")).status_code == 403


def test_uploads_are_stored_outside_media_and_abandoned_ones_are_purged(marketer: Any) -> None:
    import datetime as dt
    from pathlib import Path

    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from contacts.models import ImportJob
    from contacts.tasks_imports import imports_abandoned_purge

    job = ImportJob.objects.create(
        legal_basis="consent", created_by=marketer, header=["ana@correo.example"]
    )
    job.file.save("lista.csv", ContentFile(b"email\nana@correo.example\n"))
    stored = Path(job.file.path)
    assert stored.exists()
    assert Path(settings.MEDIA_ROOT) not in stored.parents
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    fresh = ImportJob.objects.create(legal_basis="consent", created_by=marketer)
    fresh.file.save("nueva.csv", ContentFile(b"email\n"))
    assert imports_abandoned_purge() == 1
    assert not stored.exists()
    assert Path(fresh.file.path).exists()
    job.refresh_from_db()
    assert job.status == "failed" and not job.file
    assert job.header == []
    fresh.file.delete(save=False)

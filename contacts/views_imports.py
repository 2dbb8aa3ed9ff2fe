"""Staff pages to import contacts from a spreadsheet and export them, under /<lang>/staff/."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRefresh
from kombu.exceptions import OperationalError as BrokerUnavailable

from contacts.exports import ContactTable, csv_lines, segment_contacts, xlsx_file
from contacts.forms_imports import ImportMappingForm, ImportUploadForm
from contacts.imports import mapping_guess
from contacts.models import Contact, ImportJob, Segment
from contacts.tasks_imports import import_header_read, import_run
from inbound.audit import audit_record
from inbound.lib.spreadsheets import cell_escape

logger = logging.getLogger(__name__)

IMPORT_PERMISSION = "contacts.add_contact"
EXPORT_PERMISSION = "contacts.export_contact"
REPORT_ROWS_SHOWN = 500


def _staff_permission_required(
    permission: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Anonymous visitors go to the login page; staff without `permission` get a 403."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (request.user.is_staff and request.user.has_perm(permission)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _page(request: HttpRequest, template: str, title: str, **context: Any) -> HttpResponse:
    return render(
        request,
        f"contacts/imports/{template}",
        {**admin.site.each_context(request), "title": title, **context},
    )


@_staff_permission_required(IMPORT_PERMISSION)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob.objects.create(
            file=upload,
            original_name=upload.name[:255],
            header=form.header,
            mapping={},
            created_by=request.user,  # type: ignore[misc]  # authenticated: see the decorator
        )
        if not job.header:
            try:
                import_header_read.delay_on_commit(job.pk)
            except BrokerUnavailable:
                # The upload is kept: the periodic sweep reads its header once the broker is
                # back (imports_headers_sweep).
                logger.warning("import %s: broker unavailable, header left to the sweep", job.pk)
        return redirect("contacts_imports:import-mapping", pk=job.pk)
    return _page(request, "import_upload.html", _("Import contacts"), form=form)


@_staff_permission_required(IMPORT_PERMISSION)
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    polled = request.headers.get("HX-Request") == "true"  # htmx, from the page below
    if job.status != ImportJob.Status.PENDING or job.mapping:
        # Done, or failed when the worker could not read the file: the detail page says which.
        if polled:
            return HttpResponseClientRefresh()
        return redirect("contacts_imports:import-detail", pk=job.pk)
    if not job.header:
        # The worker is reading the file. Without JavaScript the page has a link to look again;
        # with it, htmx asks every two seconds and reloads the page once the columns are known.
        # Never a timed <meta refresh>, which WCAG 2.2.1 forbids.
        if polled:
            return HttpResponse(status=204)
        return _page(request, "import_reading.html", _("Reading the file"), job=job)
    if polled:
        return HttpResponseClientRefresh()
    header = job.header
    form = ImportMappingForm(
        request.POST or None, header=header, initial_mapping=mapping_guess(header)
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            if locked.mapping:  # a second click must not import twice
                return redirect("contacts_imports:import-detail", pk=job.pk)
            locked.mapping = form.mapping()
            locked.legal_basis = form.cleaned_data["legal_basis"]
            locked.consent_text = form.cleaned_data["consent_text"]
            locked.save(update_fields=["mapping", "legal_basis", "consent_text"])
            locked.topics.set(form.cleaned_data["topics"])
            import_run.delay_on_commit(locked.pk)
        return redirect("contacts_imports:import-detail", pk=job.pk)
    return _page(
        request,
        "import_mapping.html",
        _("Match the columns"),
        job=job,
        form=form,
    )


@_staff_permission_required(IMPORT_PERMISSION)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    running = job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
    if not running and job.errors:
        # The report lists citizens' emails: looking at it is an access to personal data.
        audit_record(action="import_report_viewed", obj=job, request=request)
    return _page(
        request,
        "import_detail.html",
        _("Import of %(name)s") % {"name": job.original_name},
        job=job,
        running=running,
        report=_report_lines(job)[:REPORT_ROWS_SHOWN],
        report_truncated=job.error_count > REPORT_ROWS_SHOWN,
    )


@_staff_permission_required(IMPORT_PERMISSION)
def import_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    audit_record(action="import_report_downloaded", obj=job, request=request)
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow([_("Row"), _("Email"), _("Message")])
    for line in _report_lines(job):
        writer.writerow([cell_escape(line["row"]), cell_escape(line["email"]),
                         cell_escape(line["message"])])
    response = HttpResponse("\ufeff" + output.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


def _report_lines(job: ImportJob) -> list[dict[str, Any]]:
    lines = []
    for entry in job.errors or []:
        messages = [m for field in entry.get("errors", {}).values() for m in field]
        lines.append(
            {"row": entry.get("row") or "", "email": entry.get("email", ""),
             "message": " ".join(messages)}
        )
    return lines


# --- Export ----------------------------------------------------------------------------------


def contacts_export_response(
    request: HttpRequest, contacts: QuerySet[Contact], *, name: str, fmt: str,
    obj: Segment | None = None,
) -> HttpResponseBase:
    """The contacts as a CSV (streamed) or XLSX download, audited with the row count."""
    table = ContactTable(contacts)
    audit_record(
        action="contacts_exported",
        obj=obj,
        request=request,
        detail={
            "segment_id": obj.pk if obj is not None else None,
            "format": fmt,
            "rows": table.count(),
        },
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{name}-{stamp}"
    if fmt == "xlsx":
        return FileResponse(
            xlsx_file(table, title=name),
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(csv_lines(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


@_staff_permission_required(EXPORT_PERMISSION)
def segment_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    segment = get_object_or_404(Segment, pk=pk)
    return contacts_export_response(
        request, segment_contacts(segment=segment), name=f"segment-{segment.pk}", fmt=fmt,
        obj=segment,
    )


def _export_action(fmt: str) -> Callable[..., HttpResponseBase]:
    def action(
        modeladmin: Any, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> HttpResponseBase:
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        return contacts_export_response(request, queryset, name="contacts", fmt=fmt)

    action.__name__ = f"contacts_export_{fmt}"
    return action


contacts_export_csv = admin.action(
    description=gettext_lazy("Export selected contacts to CSV"), permissions=["export"]
)(_export_action("csv"))
contacts_export_xlsx = admin.action(
    description=gettext_lazy("Export selected contacts to Excel (XLSX)"), permissions=["export"]
)(_export_action("xlsx"))

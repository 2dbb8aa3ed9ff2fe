"""Staff pages to import and export contacts, under /<lang>/staff/contacts/imports/."""

from __future__ import annotations

from django.urls import path

from contacts import views_imports

app_name = "contacts_imports"

urlpatterns = [
    path("", views_imports.import_upload, name="import-upload"),
    path("<int:pk>/mapping/", views_imports.import_mapping, name="import-mapping"),
    path("<int:pk>/", views_imports.import_detail, name="import-detail"),
    path("<int:pk>/errors.csv", views_imports.import_errors_csv, name="import-errors"),
    path(
        "segments/<int:pk>/export.csv",
        views_imports.segment_export,
        {"fmt": "csv"},
        name="segment-export-csv",
    ),
    path(
        "segments/<int:pk>/export.xlsx",
        views_imports.segment_export,
        {"fmt": "xlsx"},
        name="segment-export-xlsx",
    ),
]

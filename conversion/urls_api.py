"""The public form API, included under `api/v1/`: a form's definition and its submissions."""

from __future__ import annotations

from django.urls import path

from conversion import api

app_name = "conversion_api"

# conversion.embedding.FORM_API_PATH and settings.CORS_URLS_REGEX name the same prefix.
urlpatterns = [
    path("forms/<slug:slug>/", api.FormDefinitionView.as_view(), name="form-detail"),
    path(
        "forms/<slug:slug>/submissions/",
        api.FormSubmissionView.as_view(),
        name="form-submissions",
    ),
]

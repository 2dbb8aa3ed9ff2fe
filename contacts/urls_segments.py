"""Staff URLs for segments, included under `staff/contacts/` inside i18n_patterns."""

from __future__ import annotations

from django.urls import path

from contacts import views_segments

app_name = "contacts_segments"

urlpatterns = [
    path("segments/count/", views_segments.segment_count_preview, name="segment-count"),
]

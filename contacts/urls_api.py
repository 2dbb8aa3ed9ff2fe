"""The CRM's API, included under `api/v1/`."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from contacts import api

app_name = "contacts_api"

router = SimpleRouter()
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("topics", api.TopicViewSet, basename="topic")
router.register("segments", api.SegmentViewSet, basename="segment")

urlpatterns = [
    path("touchpoints/", api.TouchpointBulkView.as_view(), name="touchpoints"),
    *router.urls,
]

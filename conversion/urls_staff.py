"""Conversion staff pages, under /<lang>/staff/conversion/."""

from __future__ import annotations

from django.urls import path

from conversion import views_abtests, views_staff

app_name = "conversion_staff"

urlpatterns = [
    path("", views_staff.overview, name="overview"),
    path("submissions/", views_staff.submission_list, name="submissions"),
    path("submissions/export.csv", views_staff.submission_export, name="submissions-csv"),
    path("submissions/<int:pk>/", views_staff.submission_detail, name="submission"),
    path(
        "contacts/<int:contact_id>/proposals/<int:submission_id>/",
        views_staff.proposal_decide,
        name="proposal-decide",
    ),
    path("ab-tests/<int:pk>/", views_abtests.abtest_detail, name="abtest"),
    path("ab-tests/<int:pk>/declare/", views_abtests.abtest_declare, name="abtest-declare"),
]

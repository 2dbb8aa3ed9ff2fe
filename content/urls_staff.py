"""Content staff pages, under /<lang>/staff/content/."""

from __future__ import annotations

from django.urls import path

from content import views_search

app_name = "content_staff"

urlpatterns = [
    path("search-gaps/", views_search.search_gaps_report, name="search-gaps"),
    path(
        "search-gaps/no-results.csv",
        views_search.search_gaps_csv,
        {"report": "gaps"},
        name="search-gaps-csv",
    ),
    path(
        "search-gaps/top-queries.csv",
        views_search.search_gaps_csv,
        {"report": "top"},
        name="search-top-csv",
    ),
]

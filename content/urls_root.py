"""Addresses outside the language prefix; included at the top of `inbound/urls.py`."""

from __future__ import annotations

from django.urls import URLPattern, path

from content import seo_views

urlpatterns: list[URLPattern] = [
    path("sitemap.xml", seo_views.sitemap, name="sitemap"),
    path("robots.txt", seo_views.robots_txt, name="robots-txt"),
]

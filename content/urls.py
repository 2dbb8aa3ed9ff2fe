"""Public content pages (articles, topics, FAQs, videos) under /es/, /en/…"""

from __future__ import annotations

from django.urls import URLPattern

app_name = "content"

urlpatterns: list[URLPattern] = []

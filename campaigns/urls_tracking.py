"""Tracked links and the open pixel of campaign e-mail: /e/c/<token>/<link>/, /e/o/<token>/.

Outside the language prefix: the addresses are written into mail that lives for years, so they
must not depend on the language of the page or on translated paths (renaming one would break
every link already sent), and there is no page to show in any language, only a redirect or an
image. Short paths keep the links short in the plain-text part.
"""

from __future__ import annotations

from django.urls import path

from campaigns import views_tracking

app_name = "campaigns_tracking"

urlpatterns = [
    path("c/<str:token>/<int:link>/", views_tracking.click, name="click"),
    path("o/<str:token>/", views_tracking.open_pixel, name="open"),
]

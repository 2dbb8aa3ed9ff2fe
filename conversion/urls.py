"""Public conversion pages (forms, thanks, opt-in confirmation) under /es/, /en/…"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _

from conversion import views, views_embed, views_landing

app_name = "conversion"

urlpatterns = [
    path(_("forms/<slug:slug>/"), views.form_page, name="form"),
    path(_("forms/<slug:slug>/thanks/"), views.form_thanks, name="thanks"),
    path(_("forms/<slug:slug>/preview/"), views.form_preview, name="preview"),
    path(_("forms/<slug:slug>/embed/"), views_embed.form_embed, name="embed"),
    path(_("confirm/<str:token>/"), views.optin_confirm_view, name="optin-confirm"),
    path(_("take-part/<slug:slug>/"), views_landing.landing_page, name="landing"),
    path(_("take-part/<slug:slug>/thanks/"), views_landing.landing_thanks, name="landing-thanks"),
    path(_("downloads/<str:token>/"), views_landing.download, name="download"),
    path(_("cta/<int:pk>/"), views_landing.cta_click, name="cta-click"),
    path(_("cta/<int:pk>/seen.gif"), views_landing.cta_impression, name="cta-impression"),
]

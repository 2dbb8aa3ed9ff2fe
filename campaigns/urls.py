"""Public pages of `campaigns`; included inside i18n_patterns (/es/…, /en/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path(_("unsubscribe/<str:token>/"), views.unsubscribe, name="unsubscribe"),
]

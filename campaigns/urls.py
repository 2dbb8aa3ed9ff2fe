"""Public pages of `campaigns`; included inside i18n_patterns (/es/…, /en/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _

from campaigns import views, views_senders

app_name = "campaigns"

urlpatterns = [
    path(_("unsubscribe/<str:token>/"), views.unsubscribe, name="unsubscribe"),
    path(
        _("sender/<str:token>/confirm/"),
        views_senders.sender_verify_page,
        name="sender-verify",
    ),
]

"""Public pages for citizens' rights; included inside i18n_patterns (/es/…, /en/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _

from contacts import views_public

app_name = "contacts_public"

urlpatterns = [
    path(_("preferences/"), views_public.preferences_request, name="preferences-request"),
    path(_("preferences/<str:token>/"), views_public.preferences, name="preferences"),
    path(
        _("preferences/<str:token>/unsubscribe/"),
        views_public.preferences_unsubscribe,
        name="preferences-unsubscribe",
    ),
    path(_("my-data/"), views_public.data_request, name="data-request"),
    path(_("my-data/<str:token>/"), views_public.data_download, name="data-download"),
    path(_("my-data/erase/<str:token>/"), views_public.data_erase, name="data-erase"),
]

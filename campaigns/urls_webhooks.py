"""django-anymail's ESP webhooks (/anymail/<esp>/tracking/, /anymail/<esp>/inbound/), guarded
by `campaigns.webhooks`; outside i18n_patterns (ESPs call one fixed URL)."""

from __future__ import annotations

from campaigns.webhooks import webhook_urlpatterns

app_name = "anymail"

urlpatterns = webhook_urlpatterns()

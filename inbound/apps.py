from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class InboundConfig(AppConfig):
    name = "inbound"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from inbound import audit, checks, roles  # noqa: F401  (checks register themselves)

        audit.connect_login_signals()
        # Apps added later bring new permissions; keep the roles' grants in step after migrate.
        post_migrate.connect(roles.roles_sync_after_migrate, dispatch_uid="inbound.roles_sync")
        # Every app declares the personal data it holds in `<app>/personal_data.py`
        # (inbound.lib.personal_data): erasure, the access export and retention walk it.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("personal_data")

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from contacts import lifecycle, personas

        # A citizen's touchpoints move their lifecycle stage and may change their persona.
        lifecycle.connect_signals()
        personas.connect_signals()

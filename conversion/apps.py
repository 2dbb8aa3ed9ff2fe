from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversionConfig(AppConfig):
    name = "conversion"
    verbose_name = _("Forms and submissions")

    def ready(self) -> None:
        from content.blocks import register_block
        from conversion.ctas import cta_block

        register_block("cta", cta_block)

        from corsheaders.signals import check_request_enabled

        from conversion.embedding import cors_allow_listed_origin

        # Cross-origin calls to a form's JSON endpoints: allowed for the sites the form lists.
        check_request_enabled.connect(cors_allow_listed_origin, dispatch_uid="conversion.embed")

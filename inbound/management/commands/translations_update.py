from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from inbound.lib.translations import catalogue_update, untranslated


class Command(BaseCommand):
    help = "Add new translatable strings to locale/<lang>/django.po (no GNU gettext needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="List untranslated Spanish strings."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = settings.BASE_DIR
        if options["check"]:
            missing = untranslated(root, "es")
            for (_context, msgid, _plural), where in missing:
                self.stdout.write(f"{where[0]}: {msgid!r}")
            self.stdout.write(f"{len(missing)} untranslated")
            return
        for code, _name in settings.LANGUAGES:
            added, obsolete = catalogue_update(root, code)
            self.stdout.write(f"{code}: {added} new, {obsolete} obsolete")

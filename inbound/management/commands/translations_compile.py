from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from inbound.lib.translations import catalogues_compile


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo with polib (no GNU gettext needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        for mo in catalogues_compile(settings.BASE_DIR):
            self.stdout.write(f"compiled {mo.relative_to(settings.BASE_DIR)}")

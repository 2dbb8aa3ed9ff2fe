from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from inbound.demo import demo_seed


class Command(BaseCommand):
    help = "Load the demo institution (a fictional Spanish city hall). Safe to run repeatedly."

    def handle(self, *args: Any, **options: Any) -> None:
        staff = demo_seed(with_passwords=settings.DEBUG)
        # Each app adds its own demo data (inbound imports no app: they are named in settings).
        for path in settings.DEMO_SEEDERS:
            created = import_string(path)()
            self.stdout.write(f"{path}: {created} created")
        self.stdout.write(
            self.style.SUCCESS(f"Demo institution ready: {settings.INSTITUTION['name']}")
        )
        self.stdout.write(f"Staff sign-in: {settings.SITE_URL}/es/admin/")
        for person, created in staff:
            secret = person.password if settings.DEBUG else "(set with manage.py changepassword)"
            state = "created" if created else "exists"
            self.stdout.write(
                f"  {person.role.value:<14} {person.username:<10} {secret:<24} [{state}]"
            )
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: demo passwords were not set.")

#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inbound.settings")
    # manage.py is the developer's command in a checkout: unset, DEBUG is on for it (development
    # keys under var/). Servers (wsgi, asgi, Celery) keep the safe default, off, and the Docker
    # image sets DEBUG=0, so production commands run with production settings.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

"""The one domain error type. Services raise it; views and the API turn it into a clear 4xx."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule of the domain refused the operation; `message` is shown to the person as is."""

    status = 400

    def __init__(self, message: str | Promise, *, code: str = "invalid", status: int | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        if status is not None:
            self.status = status

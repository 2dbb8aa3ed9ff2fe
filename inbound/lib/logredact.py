"""Signed tokens kept out of the logs: `/es/baja/<token>/` is logged as `/es/baja/<redacted>/`.

A token in a link is a key: whoever reads it in a log could unsubscribe someone, open their
preference centre or (within its hour) their data. Which path segments are tokens is read from
the URLconf itself: every route with a `<… token>` parameter, in every language of the site
(`/es/baja/…`, `/en/unsubscribe/…`), so a new tokened URL is covered the day it is added.

- `TokenRedactFilter`: a logging filter for Django's request logging (`django.request`,
  `django.server`, and the console handler every logger ends in: settings.LOGGING).
- `GunicornLogger`: gunicorn's logger class for the access log (`inbound/gunicorn_conf.py`).

Only paths are rewritten; a message without one of our tokened paths goes through unchanged.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from gunicorn.glogging import Logger as BaseGunicornLogger

REDACTED = "<redacted>"
# A path, alone or after a scheme and host; it ends at whitespace, a quote or the query.
# A redacted segment is part of the path, so redacting twice changes nothing more.
_PATH = re.compile(r"(?:https?://[^/\s\"'<>]+|(?<![\w/.:-]))(/(?:<redacted>|[^\s\"'<>?#])*)")


def _is_token(name: str) -> bool:
    return name == "token" or name.endswith("_token")


def _walk(patterns: Iterable[Any], prefix: str) -> Iterator[str]:
    """The full regex of every endpoint under `patterns` whose route carries a token."""
    from django.urls import URLResolver

    for entry in patterns:
        regex = entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + regex)
        else:
            full = prefix + regex.removesuffix(r"\Z").removesuffix("$")
            if any(_is_token(name) for name in re.compile(full).groupindex):
                yield full


@functools.cache
def token_patterns() -> tuple[re.Pattern[str], ...]:
    """One compiled regex per tokened route and language, matched against a whole path.

    Read once per process (a failure is not cached: the next call tries again)."""
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    found: dict[str, None] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for regex in _walk(get_resolver().url_patterns, "/"):
                found[regex] = None
    return tuple(re.compile(regex) for regex in found)


def _redact_path(path: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    for pattern in patterns:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        spans = sorted(
            (match.span(name) for name in pattern.groupindex if _is_token(name)), reverse=True
        )
        for start, end in spans:
            if start >= 0:
                path = path[:start] + REDACTED + path[end:]
        return path
    return path


def redact_paths(text: str) -> str:
    """`text` with the token segment of every tokened path of this site replaced by REDACTED.

    If the URLconf cannot be read (Django not set up), every path is redacted whole: a log
    line without its path is better than one with a key in it."""
    if "/" not in text:
        return text
    try:
        patterns = token_patterns()
    except Exception:  # any failure to load the URLconf: fail closed
        return _PATH.sub(lambda match: match.group(0).replace(match.group(1), REDACTED), text)

    def replace(match: re.Match[str]) -> str:
        path = match.group(1)
        redacted = _redact_path(path, patterns)
        return match.group(0) if redacted == path else match.group(0).replace(path, redacted)

    return _PATH.sub(replace, text)


class TokenRedactFilter(logging.Filter):
    """Rewrites a record's message with its tokened paths redacted; never drops a record.

    The message is formatted here (args merged in) so a token passed as an argument, as
    Django does (`"Not Found: %s", request.path`), is caught too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the formatter's to report
            return True
        redacted = redact_paths(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class GunicornLogger(BaseGunicornLogger):
    """gunicorn's logger with tokens redacted from every value the access log can show: the
    path, the request line, the Referer and any header or environ variable."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_paths(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }

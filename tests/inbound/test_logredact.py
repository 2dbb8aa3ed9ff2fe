"""Tokens of citizens' links never reach a log line: Django's request logging and gunicorn's
access log write `/es/baja/<redacted>/`, for every URL of the site that carries a token."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import translation
from django.utils.module_loading import import_string

from inbound.lib.logredact import REDACTED, redact_paths, token_patterns
from tests.databases import database_url

ROOT = Path(__file__).resolve().parents[2]
# A token as our signers make them (base64 payload, timestamp, signature), but signed by nobody.
TOKEN = "eyJjIjo0MiwiZSI6ImFiY2RlZiJ9:1tSECRET:Zm9yZ2VkLXNpZ25hdHVyZS1uby1rZXk"

# Every route that carries a token, by name, with its other arguments. The test below checks
# this list against the URLconf: a new tokened URL must be added here (and is then tested).
TOKENED_URLS: dict[str, dict[str, Any]] = {
    "campaigns:unsubscribe": {},
    "campaigns:sender-verify": {},
    "campaigns_tracking:click": {"link": 3},
    "campaigns_tracking:open": {},
    "contacts_public:preferences": {},
    "contacts_public:preferences-unsubscribe": {},
    "contacts_public:data-download": {},
    "contacts_public:data-erase": {},
    "content:preview": {},
    "conversion:optin-confirm": {},
    "conversion:download": {},
}


def _tokened_route_names(patterns: Any, namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _tokened_route_names(entry.url_patterns, inner)
        elif "token" in entry.pattern.regex.groupindex:
            yield f"{namespace}{entry.name}"


def tokened_paths() -> list[tuple[str, str]]:
    """(name, path) of every tokened URL in every language, with TOKEN in it."""
    paths = []
    for language in ("es", "en"):
        with translation.override(language):
            for name, kwargs in TOKENED_URLS.items():
                path = reverse(name, kwargs={"token": TOKEN, **kwargs})
                paths.append((name, path))
    return list(dict.fromkeys(paths))


@contextmanager
def console_output() -> Iterator[io.StringIO]:
    """What the console handler of settings.LOGGING writes, while the block runs."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_the_list_above_names_every_tokened_url_of_the_site() -> None:
    assert set(_tokened_route_names(get_resolver().url_patterns)) == set(TOKENED_URLS)
    # …and the redaction knows each of them, in each language.
    for name, path in tokened_paths():
        assert REDACTED in redact_paths(f"Not Found: {path}"), name
    assert len(token_patterns()) == len(tokened_paths())


@pytest.mark.django_db
def test_django_request_logging_redacts_the_token_of_every_tokened_url(client: Client) -> None:
    with console_output() as output:
        for name, path in tokened_paths():
            response = client.get(path)
            assert 400 <= response.status_code < 500, (name, response.status_code)

    logged = output.getvalue()
    assert TOKEN not in logged
    assert "SECRET" not in logged
    for name, path in tokened_paths():
        assert path.replace(TOKEN, REDACTED) in logged, name
    assert f"/es/baja/{REDACTED}/" in logged
    assert f"/e/c/{REDACTED}/3/" in logged


def test_redaction_leaves_other_paths_and_text_alone() -> None:
    untouched = [
        "Not Found: /es/noticias/fiestas-de-san-blas/",
        "Not Found: /es/preferencias/",  # the request page: no token
        '"GET /static/css/site.css HTTP/1.1" 200 Mozilla/5.0 (X11; Linux x86_64)',
        "no path at all",
    ]
    for line in untouched:
        assert redact_paths(line) == line
    assert (
        redact_paths(f"Referer: https://participa.example.es/en/unsubscribe/{TOKEN}/")
        == f"Referer: https://participa.example.es/en/unsubscribe/{REDACTED}/"
    )


def test_a_token_passed_as_a_log_argument_is_redacted_too() -> None:
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Bad Request: %s",
        (f"/es/mis-datos/{TOKEN}/",), None,
    )  # fmt: skip
    with console_output() as output:
        logging.getLogger("django.request").handle(record)

    assert f"Bad Request: /es/mis-datos/{REDACTED}/" in output.getvalue()
    assert TOKEN not in output.getvalue()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_gunicorns_access_log_redacts_tokens(tmp_path: Path) -> None:
    """The real web command (gunicorn with inbound/gunicorn_conf.py) serving real requests."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "inbound.wsgi", "--config",
             "python:inbound.gunicorn_conf", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url(connection.settings_dict)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            paths = [
                reverse("campaigns:unsubscribe", kwargs={"token": TOKEN}),
                reverse("contacts_public:data-download", kwargs={"token": TOKEN}),
                reverse("campaigns_tracking:click", kwargs={"token": TOKEN, "link": 7}),
            ]
            statuses = [_get(f"http://127.0.0.1:{port}{path}") for path in paths]
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)

    written = log.read_text()
    assert statuses == [404, 400, 404], written
    assert TOKEN not in written and "SECRET" not in written
    assert f'"GET /es/baja/{REDACTED}/ HTTP/1.1" 404' in written
    assert f'"GET /es/mis-datos/{REDACTED}/ HTTP/1.1" 400' in written
    assert f'"GET /e/c/{REDACTED}/7/ HTTP/1.1" 404' in written
    assert "request_id=" in written


def _get(url: str, attempts: int = 100) -> int:
    """The status of a GET, waiting for the server to start listening."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _attempt in range(attempts):
        try:
            return int(opener.open(url, timeout=10).status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def test_redacting_twice_changes_nothing_more() -> None:
    once = redact_paths(f"Bad Request: /es/mis-datos/borrar/{TOKEN}/")

    assert once == f"Bad Request: /es/mis-datos/borrar/{REDACTED}/"
    assert redact_paths(once) == once


@pytest.mark.django_db
def test_json_log_lines_carry_neither_the_token_nor_the_request_object(client: Client) -> None:
    """Production writes JSON, which adds a record's extra attributes; Django's request
    logging attaches the request, whose text is its path."""
    config = dict(settings.LOGGING["formatters"]["json"])
    formatter = import_string(config.pop("()"))(**config)
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    previous = handler.formatter
    handler.setFormatter(formatter)
    try:
        with console_output() as output:
            client.get(reverse("campaigns:unsubscribe", kwargs={"token": TOKEN}))
    finally:
        handler.setFormatter(previous)

    [line] = [json.loads(text) for text in output.getvalue().splitlines()]
    assert line["message"] == f"Not Found: /es/baja/{REDACTED}/"
    assert line["status_code"] == 404 and "request" not in line
    assert TOKEN not in output.getvalue()

"""Typed readers for settings that come from the environment.

Every failure names the variable, so a bad deployment says exactly what to fix.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_prefixed(prefix: str) -> dict[str, str]:
    """Every variable named PREFIX<NAME>, as {NAME: value}: settings of a library that takes a
    dict of its own (django-anymail's ANYMAIL), whatever names its backends need."""
    return {
        name.removeprefix(prefix): value.strip()
        for name, value in os.environ.items()
        if name.startswith(prefix) and len(name) > len(prefix)
    }


def env_database(name: str, default_sqlite: Path) -> dict[str, Any]:
    """DATABASES['default'] from a URL; SQLite file by default."""
    raw = env_str(name)
    if not raw:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # A file (not memory) so a real worker process can share it; one per test run.
            "TEST": {"NAME": str(default_sqlite.with_name(f"test-{os.getpid()}.sqlite3"))},
        }
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(raw, conn_max_age=60))
    except ValueError as error:  # UnknownSchemeError and ParseError are ValueErrors
        raise ImproperlyConfigured(
            f"{name} is not a valid database URL ({error}); expected e.g. "
            "postgres://user:password@host:5432/inbound or sqlite:////path/db.sqlite3."
        ) from None
    if config["ENGINE"] != "django.db.backends.sqlite3" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, e.g. .../inbound.")
    if config["ENGINE"] == "django.db.backends.postgresql":
        # No CONN_HEALTH_CHECKS: they cost a `SELECT 1` on every request. A connection that
        # broke (a database restart) fails the one request that uses it with an error page,
        # never a false thank-you, and Django drops it at the end of that request.
        # /readyz and request threads must never hang on an unreachable server.
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return config


def env_email(name: str, default_dir: Path) -> dict[str, Any]:
    """Django EMAIL_* settings from a URL; files under var/mail/ by default."""
    raw = env_str(name)
    if not raw:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(default_dir),
        }
    scheme = urlsplit(raw).scheme
    if scheme not in {"smtp", "smtps", "submission", "console", "file", "memory", "dummy"}:
        raise ImproperlyConfigured(
            f"{name} has an unknown scheme {scheme!r}; expected smtp://user:password@host:587"
            "/?tls=True, smtps://…, console:// or file:///path."
        )
    try:
        parsed = dj_email_url.parse(raw)
    except (ValueError, KeyError) as error:
        raise ImproperlyConfigured(f"{name} is not a valid email URL: {error}") from None
    return {key: value for key, value in parsed.items() if value not in (None, "")}


def env_redis_url(name: str) -> str:
    raw = env_str(name)
    if raw and urlsplit(raw).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"{name} must start with redis:// or rediss://, got {raw!r}.")
    return raw


def redis_other_db(url: str) -> str:
    """The same Redis server, next database number (0 → 1): keeps cache and broker apart."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    db = int(path) if path.isdigit() else 0
    return parts._replace(path=f"/{(db + 1) % 16}").geturl()


def development_key(path: Path) -> str:
    """The development key kept in `path`, created with a random value on first use.

    Only for DEBUG: no key is ever written in the code, and every process of one checkout
    (web, worker, beat, tests) reads the same file, so they sign and hash alike. The file is
    readable by its owner only. Processes starting together either create it or read the
    complete key another one wrote: the key is written under a temporary name, then linked into
    place, which fails if the file exists already.
    """
    try:
        return _key_read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # mkstemp creates the file with mode 0600.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(key + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _key_read(path)
    finally:
        os.unlink(temporary)
    return key


def _key_read(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it and a new key is created.")
    return key

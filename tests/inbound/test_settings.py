"""Settings read from the environment: production fails loudly, check --deploy is clean."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "participa.villaclara.example",
    "CSRF_TRUSTED_ORIGINS": "https://participa.villaclara.example",
    "SITE_URL": "https://participa.villaclara.example",
    "STATIC_MANIFEST": "0",
}


def test_check_deploy_reports_nothing_under_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_without_required_variable_stops_with_its_name(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"DEBUG is off, so {missing} must be set" in result.stderr


def test_malformed_debug_value_names_the_variable() -> None:
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mongodb://db/inbound", "DATABASE_URL is not a valid database URL"),
        ("DATABASE_URL", "postgres://", "DATABASE_URL must name a database"),
        ("REDIS_URL", "http://127.0.0.1:6379", "REDIS_URL must start with redis://"),
        ("EMAIL_URL", "pigeon://loft", "EMAIL_URL has an unknown scheme 'pigeon'"),
        ("AXES_FAILURE_LIMIT", "lots", "AXES_FAILURE_LIMIT='lots' is not a whole number"),
    ],
)
def test_malformed_url_or_number_names_the_variable(name: str, value: str, message: str) -> None:
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_logs_are_json_lines_with_request_id_when_debug_is_off() -> None:
    result = manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('inbound.test').warning('hola %s', 'mundo')",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if "hola" in line)
    record = json.loads(line)
    assert record["message"] == "hola mundo"
    assert record["level"] == "WARNING"
    assert record["logger"] == "inbound.test"
    assert record["request_id"] == "-"
    assert "time" in record

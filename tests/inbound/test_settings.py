"""Settings read from the environment: production fails loudly, check --deploy is clean."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# What the test run's environment may hold that each test below chooses for itself.
CHOSEN_PER_TEST = {
    "DEBUG",
    "SECRET_KEY",
    "PERSONAL_DATA_KEY",
    "ALLOWED_HOSTS",
    "VAR_DIR",
    "DJANGO_SETTINGS_MODULE",  # the test run's own (tests.settings) turns DEBUG on
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py` in a process of its own, with only `env` set among CHOSEN_PER_TEST."""
    clean = {k: v for k, v in os.environ.items() if k not in CHOSEN_PER_TEST}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def server(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Settings loaded as a server loads them (wsgi, asgi, Celery: no manage.py), with only
    `env` set among CHOSEN_PER_TEST."""
    clean = {k: v for k, v in os.environ.items() if k not in CHOSEN_PER_TEST}
    setup = "import django; django.setup(); " + code
    return subprocess.run(
        [sys.executable, "-c", setup],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "inbound.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRINT_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.DEBUG, settings.SECRET_KEY, settings.PERSONAL_DATA_KEY)"
)


def printed_settings(result: subprocess.CompletedProcess[str]) -> tuple[str, str, str]:
    assert result.returncode == 0, result.stderr
    debug, secret_key, personal_data_key = result.stdout.splitlines()[-1].split()
    return debug, secret_key, personal_data_key


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "PERSONAL_DATA_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "participa.villaclara.example",
    "CSRF_TRUSTED_ORIGINS": "https://participa.villaclara.example",
    "SITE_URL": "https://participa.villaclara.example",
    "STATIC_MANIFEST": "0",
}


def test_check_deploy_reports_nothing_under_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PERSONAL_DATA_KEY", "ALLOWED_HOSTS"])
def test_production_without_required_variable_stops_with_its_name(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"DEBUG is off, so {missing} must be set" in result.stderr


def test_debug_is_off_when_the_environment_does_not_set_it(tmp_path: Path) -> None:
    production = {k: v for k, v in PRODUCTION.items() if k != "DEBUG"}
    debug, secret_key, _key = printed_settings(
        server(PRINT_SETTINGS, VAR_DIR=str(tmp_path), **production)
    )
    assert debug == "False"
    assert secret_key == PRODUCTION["SECRET_KEY"]
    assert not list(tmp_path.iterdir())  # no development key made outside DEBUG


def test_no_environment_at_all_stops_naming_every_key_and_the_development_switch(
    tmp_path: Path,
) -> None:
    result = server("", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert (
        "DEBUG is off, so SECRET_KEY, PERSONAL_DATA_KEY, ALLOWED_HOSTS must be set" in result.stderr
    )
    assert "set DEBUG=1" in result.stderr
    assert not list(tmp_path.iterdir())


def test_manage_py_in_a_checkout_is_a_development_command_unless_told_otherwise(
    tmp_path: Path,
) -> None:
    debug, _secret, _key = printed_settings(
        manage("shell", "-c", PRINT_SETTINGS, VAR_DIR=str(tmp_path))
    )
    assert debug == "True"
    assert (tmp_path / "secret_key").exists()  # its development keys, made once
    refused = manage("check", DEBUG="0", VAR_DIR=str(tmp_path / "prod"))
    assert refused.returncode != 0 and "DEBUG is off" in refused.stderr


def test_the_docker_image_runs_with_production_settings() -> None:
    assert "    DEBUG=0 \\\n" in (ROOT / "Dockerfile").read_text()


def test_development_keys_are_created_under_var_once_and_reused(tmp_path: Path) -> None:
    first = printed_settings(
        manage("shell", "-c", PRINT_SETTINGS, DEBUG="1", VAR_DIR=str(tmp_path))
    )
    again = printed_settings(
        manage("shell", "-c", PRINT_SETTINGS, DEBUG="1", VAR_DIR=str(tmp_path))
    )
    debug, secret_key, personal_data_key = first
    assert debug == "True"
    assert again == first
    assert secret_key != personal_data_key
    for name, key in (("secret_key", secret_key), ("personal_data_key", personal_data_key)):
        path = tmp_path / name
        assert path.read_text().strip() == key
        assert path.stat().st_mode & 0o777 == 0o600  # readable by its owner only
        assert len(key) >= 50


def test_no_key_is_written_in_the_code(tmp_path: Path) -> None:
    """Two checkouts get different development keys, and no source file holds a literal one."""
    one = printed_settings(
        manage("shell", "-c", PRINT_SETTINGS, DEBUG="1", VAR_DIR=str(tmp_path / "a"))
    )
    two = printed_settings(
        manage("shell", "-c", PRINT_SETTINGS, DEBUG="1", VAR_DIR=str(tmp_path / "b"))
    )
    assert one[1] != two[1] and one[2] != two[2]
    literal = re.compile(r"""(SECRET_KEY|PERSONAL_DATA_KEY)\s*(=|or)\s*[rbuf]*["']""")
    sources = [ROOT / "manage.py", *(ROOT / "inbound").rglob("*.py")]
    for app in ("contacts", "content", "conversion", "campaigns", "workflows", "bench"):
        sources += (ROOT / app).rglob("*.py")
    offenders = [str(p) for p in sources if literal.search(p.read_text(encoding="utf-8"))]
    assert not offenders


def test_keys_from_the_environment_win_over_development_keys(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "s" * 50, "PERSONAL_DATA_KEY": "p" * 50}
    result = manage("shell", "-c", PRINT_SETTINGS, DEBUG="1", VAR_DIR=str(tmp_path), **env)
    assert printed_settings(result) == ("True", "s" * 50, "p" * 50)
    assert not list(tmp_path.iterdir())


def test_check_deploy_warns_when_personal_data_key_is_secret_key_or_short() -> None:
    same = manage(
        "check", "--deploy", **{**PRODUCTION, "PERSONAL_DATA_KEY": PRODUCTION["SECRET_KEY"]}
    )
    assert "(inbound.W002) PERSONAL_DATA_KEY is the same as SECRET_KEY." in same.stderr
    short = manage("check", "--deploy", **{**PRODUCTION, "PERSONAL_DATA_KEY": "corta"})
    assert "(inbound.W001) PERSONAL_DATA_KEY has less than 50 characters" in short.stderr


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
    result = manage("check", DEBUG="1", **{name: value})
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

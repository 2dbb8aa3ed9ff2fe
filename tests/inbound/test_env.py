"""The typed environment readers behind settings."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from inbound.lib.env import (
    development_key,
    env_bool,
    env_database,
    env_email,
    env_list,
    redis_other_db,
)


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("Off", False), ("", False)]
)
def test_env_bool_reads_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, value: bool
) -> None:
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", default=not value) is value


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example, ,b.example ")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_postgres_url_gets_a_connect_timeout_and_no_health_check_per_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("DB", "postgres://u:p@db.internal:5433/inbound")
    config = env_database("DB", default_sqlite=tmp_path)  # type: ignore[arg-type]
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "inbound")
    assert config.get("CONN_HEALTH_CHECKS", False) is False  # a `SELECT 1` per request
    assert config["OPTIONS"]["connect_timeout"] == 5


def test_email_url_becomes_smtp_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("MAIL", "smtp://buzon:secreto@smtp.example:587/?tls=True")
    config = env_email("MAIL", default_dir=tmp_path)  # type: ignore[arg-type]
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("smtp.example", 587)
    assert config["EMAIL_USE_TLS"] is True


def test_bad_email_url_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("MAIL", "carrier-pigeon://loft")
    with pytest.raises(ImproperlyConfigured, match="MAIL has an unknown scheme"):
        env_email("MAIL", default_dir=tmp_path)  # type: ignore[arg-type]


def test_cache_uses_another_redis_database_than_the_broker() -> None:
    assert redis_other_db("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/1"
    assert redis_other_db("redis://:pw@r.internal:6379") == "redis://:pw@r.internal:6379/1"


def test_development_key_is_created_owner_only_then_read_back(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    key = development_key(path)
    assert len(key) >= 50
    assert path.stat().st_mode & 0o777 == 0o600
    assert development_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary file left


def test_processes_starting_together_share_one_development_key(tmp_path: Path) -> None:
    """web, worker and beat start at once under `make run`: they must not each make a key."""
    path = tmp_path / "secret_key"
    start = time.time() + 1.5
    code = (
        "import sys, time; from pathlib import Path; "
        "from inbound.lib.env import development_key; "
        f"time.sleep(max(0, {start} - time.time())); "
        "print(development_key(Path(sys.argv[1])))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert keys == {path.read_text().strip()}
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_an_empty_development_key_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="secret_key is empty"):
        development_key(path)

"""The production shape in docker-compose.yml, the Dockerfile and the Procfile.

No Docker engine is needed: the files are read as data. Compose's own variable interpolation is
reproduced by `interpolate` below, so the environment the containers would get can be checked
against the settings that read it.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("postgres", "redis", "web", "worker", "beat")
QUEUES = {"default", "email", "tracking"}
GUNICORN_CONFIG = "python:inbound.gunicorn_conf"

# What an operator puts in .env: the variables docker-compose.yml requires.
DEPLOY_ENV = {
    "SECRET_KEY": "k" * 20 + "Zq8-vT3_pL0xW9sN4bY7cR2mH6jF1dG5aE0uI",
    "PERSONAL_DATA_KEY": "p" * 20 + "Hc4-Ua9_qT2mK7xZ0wV5bN8sR3yE6gJ1fD4oL",
    "ALLOWED_HOSTS": "participa.example.es",
    "SITE_URL": "https://participa.example.es",
    "POSTGRES_PASSWORD": "d3adb33fd3adb33f",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.es:587/?tls=True",
}


class MissingVariableError(Exception):
    pass


_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and $$."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op in {":?", "?"}:
            if current is None or (op == ":?" and not current):
                raise MissingVariableError(f"{name}: {arg}")
            return current
        return current or ""

    return _VARIABLE.sub(replace, value)


@cache
def compose() -> dict[str, Any]:
    with (ROOT / "docker-compose.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def command(name: str) -> list[str]:
    raw = service(name)["command"]
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def environment(name: str, env: Mapping[str, str] = DEPLOY_ENV) -> dict[str, str]:
    return {
        key: interpolate(str(value), env) for key, value in service(name)["environment"].items()
    }


def healthcheck_test(name: str) -> list[str]:
    test = service(name)["healthcheck"]["test"]
    return shlex.split(test) if isinstance(test, str) else list(test)


def dockerfile_instructions() -> list[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [
        line.strip() for line in "\n".join(lines).replace("\\\n", " ").splitlines() if line.strip()
    ]


def dockerfile_json(keyword: str) -> list[str]:
    """The exec-form (JSON) argument list of CMD, or of HEALTHCHECK's CMD."""
    [line] = [line for line in dockerfile_instructions() if line.startswith(f"{keyword} ")]
    exec_form = line.split(" CMD ", 1)[1] if keyword == "HEALTHCHECK" else line[len("CMD ") :]
    return json.loads(exec_form)  # exec form must be valid JSON, or Docker runs it via a shell


def procfile() -> dict[str, list[str]]:
    text = (ROOT / "Procfile").read_text(encoding="utf-8")
    entries = (line.split(":", 1) for line in text.splitlines() if line.strip())
    return {name.strip(): shlex.split(line) for name, line in entries}


def option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


# --- docker-compose.yml ---------------------------------------------------------------------------


def test_compose_defines_the_production_services() -> None:
    assert set(compose()["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert service("postgres")["image"].startswith("postgres:16")
    assert service("redis")["image"].startswith("redis:7")


def test_app_services_run_the_image_built_from_this_repository() -> None:
    images = {service(name)["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        assert service(name)["build"] == "."


def test_app_services_share_one_environment() -> None:
    shared = compose()["x-env"]
    for name in APP_SERVICES:
        env = service(name)["environment"]
        assert {key: env[key] for key in shared} == shared, name


def test_app_environment_points_at_the_compose_postgres_and_redis() -> None:
    env = environment("web")
    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in {"postgres", "postgresql"}
    assert (database.hostname, database.port, database.path) == ("postgres", 5432, "/inbound")
    assert database.username == service("postgres")["environment"]["POSTGRES_USER"]
    assert database.password == DEPLOY_ENV["POSTGRES_PASSWORD"]
    redis = urlsplit(env["REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


def test_app_environment_turns_debug_off() -> None:
    assert environment("web")["DEBUG"] == "0"


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "PERSONAL_DATA_KEY",
        "ALLOWED_HOSTS",
        "SITE_URL",
        "POSTGRES_PASSWORD",
        "EMAIL_URL",
    ],
)
def test_compose_refuses_to_start_without_a_required_setting(name: str) -> None:
    without = {key: value for key, value in DEPLOY_ENV.items() if key != name}
    with pytest.raises(MissingVariableError, match=name):
        environment("web", without)
    with pytest.raises(MissingVariableError, match=name):
        environment("web", {**without, name: ""})


def test_secret_key_and_allowed_hosts_come_only_from_the_operator() -> None:
    shared = compose()["x-env"]
    assert shared["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert shared["PERSONAL_DATA_KEY"].startswith("${PERSONAL_DATA_KEY:?")
    assert shared["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")


def test_every_compose_setting_is_one_that_settings_reads() -> None:
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', (ROOT / "inbound/settings.py").read_text()))
    gunicorn_reads = {"WEB_CONCURRENCY"}
    for name in APP_SERVICES:
        unknown = set(service(name)["environment"]) - read - gunicorn_reads
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_compose_environment_passes_the_deployment_checklist() -> None:
    """`manage.py check --deploy` is clean under exactly what compose hands the containers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_"))
    }
    env.update(environment("web"), DJANGO_SETTINGS_MODULE="inbound.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_compose_runs_web_with_gunicorn_on_port_8000() -> None:
    argv = command("web")
    assert argv[:2] == ["gunicorn", "inbound.wsgi"]
    assert option(argv, "--bind") == "0.0.0.0:8000"
    assert option(argv, "--config") == GUNICORN_CONFIG
    assert [str(port).rsplit(":", 1)[1] for port in service("web")["ports"]] == ["8000"]


def test_compose_publishes_web_on_loopback_for_the_tls_proxy_only() -> None:
    assert service("web")["ports"] == ["127.0.0.1:8000:8000"]


def test_compose_runs_worker_on_all_three_queues() -> None:
    argv = [interpolate(part, {}) for part in command("worker")]
    assert argv[:4] == ["celery", "-A", "inbound", "worker"]
    assert set(option(argv, "-Q").split(",")) == QUEUES
    assert int(option(argv, "--concurrency")) >= 1


def test_worker_queues_are_the_queues_settings_route_to() -> None:
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    scheduled = {
        entry["options"]["queue"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if "queue" in entry.get("options", {})
    }
    assert declared == QUEUES
    assert routed | scheduled | {settings.CELERY_TASK_DEFAULT_QUEUE} <= QUEUES


def test_compose_runs_exactly_one_beat() -> None:
    assert command("beat")[:4] == ["celery", "-A", "inbound", "beat"]
    assert service("beat")["deploy"]["replicas"] == 1


def test_migrate_runs_once_before_the_app() -> None:
    assert command("migrate") == ["python", "manage.py", "migrate", "--noinput"]
    assert service("migrate")["restart"] == "no"
    assert service("migrate")["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_service_waits_for_healthy_backends_and_finished_migrations(name: str) -> None:
    depends_on = service(name)["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["redis"]["condition"] == "service_healthy"
    if name != "beat":  # beat only talks to the broker
        assert depends_on["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck_and_restarts(name: str) -> None:
    check = service(name)["healthcheck"]
    assert not check.get("disable", False)
    assert healthcheck_test(name)[0] in {"CMD", "CMD-SHELL"}
    assert service(name)["restart"] in {"unless-stopped", "always"}


def test_backing_services_report_health_with_their_own_clients() -> None:
    assert "pg_isready" in " ".join(healthcheck_test("postgres"))
    assert healthcheck_test("redis")[1:] == ["redis-cli", "ping"]


def test_web_healthcheck_probes_healthz_and_matches_the_image() -> None:
    test = healthcheck_test("web")
    assert test[:3] == ["CMD", "python", "-c"]
    assert "/healthz" in test[3]
    compile(test[3], "web-healthcheck", "exec")
    assert test[1:] == dockerfile_json("HEALTHCHECK")


def test_worker_healthcheck_pings_its_own_celery_node() -> None:
    test = healthcheck_test("worker")
    assert test[0] == "CMD-SHELL"
    shell_command = interpolate(test[1], {})
    assert shell_command.startswith("celery -A inbound inspect ping")
    assert "-d celery@$HOSTNAME" in shell_command


def test_beat_healthcheck_watches_its_schedule_file() -> None:
    test = healthcheck_test("beat")
    assert test[:3] == ["CMD", "python", "-c"]
    assert "celerybeat-schedule" in test[3]
    compile(test[3], "beat-healthcheck", "exec")


def test_data_lives_on_named_volumes() -> None:
    assert {"pgdata", "redisdata", "media"} <= set(compose()["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in service("postgres")["volumes"]
    for name in APP_SERVICES:
        assert "media:/app/var/media" in service(name)["volumes"]


# --- Dockerfile -----------------------------------------------------------------------------------


def test_dockerfile_cmd_runs_gunicorn_on_port_8000() -> None:
    argv = dockerfile_json("CMD")
    assert argv[:2] == ["gunicorn", "inbound.wsgi"]
    assert option(argv, "--bind") == "0.0.0.0:8000"
    assert option(argv, "--config") == GUNICORN_CONFIG
    assert "EXPOSE 8000" in dockerfile_instructions()


def test_dockerfile_builds_on_python_311_slim_and_runs_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == "FROM python:3.11-slim"
    [user] = [line for line in instructions if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in {"root", "0"}
    assert instructions.index(user) > max(
        i for i, line in enumerate(instructions) if line.startswith("RUN ")
    )


def test_dockerfile_installs_the_project_without_dev_extras() -> None:
    runs = " ".join(line for line in dockerfile_instructions() if line.startswith("RUN "))
    assert "pip install ." in runs
    assert "[dev]" not in runs
    assert "manage.py translations_compile" in runs


def test_dockerfile_keeps_the_build_time_secret_out_of_the_image_environment() -> None:
    instructions = dockerfile_instructions()
    [collect] = [line for line in instructions if "collectstatic --noinput" in line]
    assert collect.startswith("RUN DEBUG=0 SECRET_KEY=")
    assert "PERSONAL_DATA_KEY=" in collect
    assert "ALLOWED_HOSTS=" in collect
    env = " ".join(line for line in instructions if line.startswith(("ENV ", "ARG ")))
    assert "SECRET_KEY" not in env
    assert "PERSONAL_DATA_KEY" not in env
    assert "ALLOWED_HOSTS" not in env


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", "var", ".git", ".env", ".pytest_cache"} <= ignored


# --- Procfile -------------------------------------------------------------------------------------


def test_procfile_declares_web_worker_and_beat() -> None:
    processes = procfile()
    assert set(processes) == {"web", "worker", "beat"}
    assert processes["web"][:2] == ["gunicorn", "inbound.wsgi"]
    assert processes["worker"][:4] == ["celery", "-A", "inbound", "worker"]
    assert set(option(processes["worker"], "-Q").split(",")) == QUEUES
    assert processes["beat"][:4] == ["celery", "-A", "inbound", "beat"]


def test_make_run_starts_web_worker_and_beat_in_development_mode() -> None:
    """DEBUG is off by default, so `make run` turns it on for every process it starts: then
    they all read the same development keys under var/ (settings.VAR_DIR)."""
    text = (ROOT / "Procfile.dev").read_text(encoding="utf-8")
    entries = dict(line.split(":", 1) for line in text.splitlines() if line.strip())
    assert set(entries) == {"web", "worker", "beat"}
    for name, line in entries.items():
        assert shlex.split(line)[0] == "DEBUG=1", name
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # migrate and seed_demo run before honcho: Make exports DEBUG to every command it runs.
    assert re.search(r"^export DEBUG := 1$", makefile, re.MULTILINE)


def test_compose_dockerfile_and_procfile_log_requests_the_same_way() -> None:
    """One gunicorn configuration, read by gunicorn itself: an access log without the client
    address or the query string, with the request id, through the logger that redacts tokens."""
    configs = {
        option(dockerfile_json("CMD"), "--config"),
        option(command("web"), "--config"),
        option(procfile()["web"], "--config"),
    }
    assert configs == {GUNICORN_CONFIG}
    for argv in (dockerfile_json("CMD"), command("web"), procfile()["web"]):
        assert "--access-logformat" not in argv and "--access-logfile" not in argv

    from gunicorn.app.base import Application
    from gunicorn.config import Config

    # gunicorn's own reading of a `python:` config file, without starting a server.
    reader = SimpleNamespace(cfg=Config())
    reader.get_config_from_module_name = lambda name: vars(importlib.import_module(name))
    Application.load_config_from_module_name_or_filename(reader, GUNICORN_CONFIG)  # type: ignore[arg-type]
    cfg = reader.cfg
    access_format = cfg.access_log_format
    assert cfg.accesslog == "-"
    assert "%(h)s" not in access_format
    assert "%(r)s" not in access_format
    assert "%(q)s" not in access_format
    assert "{x-request-id}o" in access_format
    assert cfg.logger_class.__name__ == "GunicornLogger"

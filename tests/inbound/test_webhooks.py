"""Outgoing webhooks (inbound.lib.webhooks): only public http(s) targets, checked again at
send time and connected to by the address that was checked; signed; no redirects; a timeout."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from inbound.lib.webhooks import (
    WebhookFailed,
    WebhookRefused,
    address_is_public,
    webhook_post,
    webhook_signature,
    webhook_target_problem,
)
from tests.conversion.factories import FormFactory
from tests.http_receiver import Receiver, running_receiver, signature_is_valid

SECRET = "un-secreto-compartido"
PUBLIC = "93.184.216.34"
HOST = "hooks.villaclara.example"
REAL_GETADDRINFO = socket.getaddrinfo


def refused(address: str) -> str:
    return (
        f"La URL del webhook apunta a una dirección de red privada o reservada ({address}): "
        "los webhooks solo pueden llamar a servidores públicos."
    )


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Names in `answers` resolve to their successive answers (the last one repeats); other
    names and literal addresses resolve for real. Returns the fake names looked up, in order."""
    looked_up: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        looked_up.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        results = []
        for address in addresses:
            if ":" in address:
                results.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return results

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def post(url: str, body: bytes = b'{"a": 1}', **kwargs: Any) -> int:
    return webhook_post(url, body, secret=SECRET, timeout=kwargs.pop("timeout", 2), **kwargs)


def test_a_public_https_url_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {HOST: [[PUBLIC]]})
    assert webhook_target_problem(f"https://{HOST}/hook") is None


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8000/hook", "127.0.0.1"),
        ("http://10.0.0.1/hook", "10.0.0.1"),
        ("https://192.168.1.20/hook", "192.168.1.20"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://100.64.0.1/hook", "100.64.0.1"),
        ("http://0.0.0.0:6379/", "0.0.0.0"),  # noqa: S104 -- a URL refused, nothing bound
        ("http://224.0.0.1/", "224.0.0.1"),
        ("http://[::1]/hook", "::1"),
        ("http://[fe80::1]/hook", "fe80::1"),
        ("http://[fd00::1]/hook", "fd00::1"),
    ],
)
def test_a_url_of_a_private_or_reserved_address_is_refused(url: str, address: str) -> None:
    assert webhook_target_problem(url) == refused(address)


def test_an_ipv4_mapped_ipv6_address_is_judged_by_its_ipv4_address() -> None:
    problem = webhook_target_problem("http://[::ffff:10.0.0.1]/hook")
    assert problem == refused(str(ipaddress.ip_address("::ffff:10.0.0.1")))


def test_localhost_is_refused() -> None:
    assert webhook_target_problem("http://localhost:8000/hook") in {
        refused("127.0.0.1"),
        refused("::1"),
    }


def test_a_name_that_resolves_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {HOST: [[PUBLIC, "10.1.2.3"]]})
    assert webhook_target_problem(f"https://{HOST}/hook") == refused("10.1.2.3")


@pytest.mark.parametrize(
    "url", ["ftp://crm.villaclara.example/hook", "file:///etc/passwd", "gopher://127.0.0.1/"]
)
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    assert (
        webhook_target_problem(url) == "La URL de un webhook debe empezar por https:// o http://."
    )


def test_a_host_that_does_not_resolve_is_refused() -> None:
    assert webhook_target_problem("https://no-such-host.invalid/hook") == (
        "No se encuentra el servidor del webhook no-such-host.invalid (no tiene dirección DNS)."
    )


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_private_addresses_are_accepted_when_the_setting_allows_them() -> None:
    assert webhook_target_problem("http://10.0.0.1/hook") is None
    assert webhook_target_problem("http://127.0.0.1:8000/hook") is None


def test_a_listed_host_may_resolve_to_a_private_address_and_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"crm.intranet.example": [["10.0.0.5"]], HOST: [["10.0.0.6"]]})
    with override_settings(WEBHOOKS_ALLOWED_HOSTS=["CRM.intranet.example"]):
        assert webhook_target_problem("https://crm.intranet.example/hook") is None
        assert webhook_target_problem(f"https://{HOST}/hook") == refused("10.0.0.6")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("fec0::1", False),  # site-local
        ("::", False),
        ("ff02::1", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),  # documentation
        ("100.127.255.254", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert address_is_public(ipaddress.ip_address(address)) is public


@pytest.mark.django_db
def test_a_form_webhook_to_a_private_address_is_refused_with_the_message() -> None:
    form = FormFactory.build(
        webhook_url="http://169.254.169.254/latest/meta-data/", webhook_secret=SECRET
    )
    with pytest.raises(ValidationError) as error:
        form.full_clean()
    assert error.value.message_dict["webhook_url"] == [refused("169.254.169.254")]


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_the_post_is_signed_and_names_the_server_in_its_host_header(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {HOST: [["127.0.0.1"]]})
    body = b'{"event": "prueba"}'

    status = post(f"http://{HOST}:{receiver.port}/hook?x=1", body, headers={"X-Extra": "1"})

    assert status == 200
    [request] = receiver.requests
    assert request["path"] == "/hook?x=1"
    assert request["body"] == body
    assert signature_is_valid(request, SECRET)
    assert request["headers"]["Host"] == f"{HOST}:{receiver.port}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Extra"] == "1"


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_the_post_connects_to_the_address_it_checked_not_a_later_answer(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the name resolved again to connect, it would get 10.255.255.1 and never arrive.
    looked_up = fake_dns(monkeypatch, {HOST: [["127.0.0.1"], ["10.255.255.1"]]})

    assert post(f"http://{HOST}:{receiver.port}/hook") == 200

    assert len(receiver.requests) == 1
    assert looked_up == [HOST]


def test_a_name_rebound_to_a_private_address_after_it_was_checked_is_never_called(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {HOST: [[PUBLIC], ["127.0.0.1"]]})
    url = f"http://{HOST}:{receiver.port}/hook"
    assert webhook_target_problem(url) is None  # when staff typed it

    with pytest.raises(WebhookRefused) as error:
        post(url)

    assert str(error.value) == refused("127.0.0.1")
    assert receiver.requests == []


def test_a_post_to_a_private_address_is_refused_before_any_request(receiver: Receiver) -> None:
    with pytest.raises(WebhookRefused):
        post(receiver.url)
    assert receiver.requests == []


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_a_non_2xx_answer_raises_with_its_status(receiver: Receiver) -> None:
    receiver.status = 500
    with pytest.raises(WebhookFailed) as error:
        post(receiver.url)
    assert error.value.status == 500
    assert "HTTP 500" in str(error.value)


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_a_redirect_is_a_failure_and_is_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    with pytest.raises(WebhookFailed) as error:
        post(receiver.url)
    assert error.value.status == 302
    assert [request["path"] for request in receiver.requests] == ["/hook"]


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_a_slow_answer_times_out(receiver: Receiver) -> None:
    receiver.delay = 3
    started = time.monotonic()
    with pytest.raises(WebhookFailed) as error:
        post(receiver.url, timeout=0.5)
    assert time.monotonic() - started < 2
    assert "no answer within 0.5 s" in str(error.value)


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_a_closed_port_is_a_failure_worth_retrying() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WebhookFailed) as error:
        post(f"http://127.0.0.1:{port}/hook")
    assert "ConnectionRefusedError" in str(error.value)


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_the_signature_covers_the_time_and_the_body(receiver: Receiver) -> None:
    body = b'{"event": "prueba"}'
    before = int(time.time())

    post(receiver.url, body)

    [request] = receiver.requests
    header = request["headers"]["X-Inbound-Signature"]
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header)
    assert match is not None, header
    signed_at = int(match[1])
    assert before <= signed_at <= time.time()
    expected = hmac.new(SECRET.encode(), f"{signed_at}.".encode() + body, hashlib.sha256)
    assert match[2] == expected.hexdigest()
    assert header == webhook_signature(SECRET, body, timestamp=signed_at)


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
def test_a_receiver_following_the_docs_refuses_replays_tampering_and_other_secrets(
    receiver: Receiver,
) -> None:
    post(receiver.url, b'{"event": "prueba"}')
    [request] = receiver.requests
    signed_at = int(request["headers"]["X-Inbound-Signature"].split(",")[0].removeprefix("t="))

    assert signature_is_valid(request, SECRET)
    assert signature_is_valid(request, SECRET, now=signed_at + 299)
    # Captured and sent again six minutes later: refused.
    assert not signature_is_valid(request, SECRET, now=signed_at + 301)
    assert not signature_is_valid(request, SECRET, body=b'{"event": "otra"}')
    assert not signature_is_valid(request, "otro-secreto")
    # A body re-signed under an old time, or an old-style header, is refused too.
    stale = webhook_signature(SECRET, request["body"], timestamp=signed_at - 301)
    assert not signature_is_valid(
        {"headers": {"X-Inbound-Signature": stale}, "body": request["body"]}, SECRET,
        now=signed_at,
    )  # fmt: skip
    legacy = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert not signature_is_valid(
        {"headers": {"X-Inbound-Signature": legacy}, "body": request["body"]}, SECRET
    )

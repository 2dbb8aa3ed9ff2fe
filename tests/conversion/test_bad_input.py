"""Whatever is sent to the public form endpoints, the answer is never a 5xx and nothing is
stored partially: property-based tests (hypothesis) over values, encodings, fields, content types
and CSRF tokens."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from conversion import services
from conversion.forms import started_token
from conversion.models import Form, Submission
from tests.contacts.factories import ContactFactory
from tests.conversion.test_public_forms import (
    NOTHING,
    answers,
    confirm_url,
    demo_like_form,
    form_url,
    stored,
)

pytestmark = pytest.mark.django_db

FIELD_KEYS = ["email", "first_name", "postal_code", "last_name", "topics", "newsletter",
              "remember", "utm_source", "website", "started", "csrfmiddlewaretoken"]  # fmt: skip
OK_STATUSES = {302, 400, 403, 413, 429}

# Any code point, lone surrogates and NUL included (sent as raw bytes: surrogates are not
# valid UTF-8, which is exactly what a hostile client may send).
any_text = st.text(st.characters(codec=None, min_codepoint=0), max_size=300)
huge_text = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(1, 3000))
field_names = st.one_of(st.sampled_from(FIELD_KEYS), any_text)
field_values = st.one_of(any_text, huge_text, st.sampled_from(["", "on", "movilidad", "28999"]))


def encoded(pairs: list[tuple[str, str]]) -> bytes:
    def part(value: str) -> str:
        return quote_from_bytes(value.encode("utf-8", "surrogatepass"))

    return "&".join(f"{part(k)}={part(v)}" for k, v in pairs).encode()


@pytest.fixture
def form(settings: Any) -> Form:
    settings.CONVERSION_MIN_FILL_SECONDS = 0
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 1_000_000
    return demo_like_form()


def assert_answered_safely(response: Any, before: tuple[int, ...], language: str) -> None:
    assert response.status_code in OK_STATUSES, response.status_code
    after = stored()
    if response.status_code == 302:
        assert after[0] - before[0] in (0, 1)  # stored once, or a duplicate / honeypot
    else:
        assert after == before  # nothing stored on any error
    if response.status_code == 400:
        html = response.content.decode()
        assert f'<html lang="{language}">' in html
        if 'role="alert"' not in html:
            assert "Bad request" in html or language != "en"


@given(
    pairs=st.lists(st.tuples(field_names, field_values), max_size=15),
    language=st.sampled_from(["es", "en"]),
)
def test_random_form_fields_never_give_a_server_error(
    client: Client, form: Form, pairs: list[tuple[str, str]], language: str
) -> None:
    before = stored()
    pairs = [*pairs, ("started", started_token(at=time.time() - 60))]

    response = client.post(
        form_url(form, language=language),
        encoded(pairs),
        content_type="application/x-www-form-urlencoded",
    )

    assert_answered_safely(response, before, language)


@given(
    field=st.sampled_from(["email", "first_name", "postal_code", "topics", "newsletter"]),
    value=field_values,
    language=st.sampled_from(["es", "en"]),
)
def test_one_bad_value_in_a_good_form_shows_an_error_by_the_field_or_is_stored_whole(
    client: Client, form: Form, field: str, value: str, language: str
) -> None:
    before = stored()
    data = answers(email=f"h{time.monotonic_ns()}@correo.example")
    data[field] = value

    response = client.post(
        form_url(form, language=language),
        encoded([(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]),
        content_type="application/x-www-form-urlencoded",
    )

    assert_answered_safely(response, before, language)
    if response.status_code == 400:
        html = response.content.decode()
        assert 'role="alert"' in html
        assert f'id="id_{field}_error"' in html or "Please correct" in html


@given(body=st.binary(max_size=2000), content_type=st.sampled_from([
    "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data", "multipart/form-data; boundary=xyz", "application/xml", "",
]))  # fmt: skip
def test_any_body_with_any_content_type_never_gives_a_server_error(
    client: Client, form: Form, body: bytes, content_type: str
) -> None:
    before = stored()

    response = client.post(form_url(form), body, content_type=content_type)

    assert response.status_code in OK_STATUSES
    assert stored() == before


def test_a_json_body_is_answered_with_the_form_errors(client: Client, form: Form) -> None:
    response = client.post(form_url(form), json.dumps(answers()), content_type="application/json")

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert stored() == NOTHING


@given(token=st.one_of(st.none(), any_text))
def test_a_missing_or_wrong_csrf_token_gets_403(form: Form, token: str | None) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(form_url(form))
    data = answers()
    if token is not None:
        data["csrfmiddlewaretoken"] = token

    response = client.post(
        form_url(form),
        encoded([(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 403
    assert Submission.objects.count() == 0


def test_a_huge_value_is_refused_with_an_error_by_the_field(client: Client, form: Form) -> None:
    response = client.post(form_url(form), answers(first_name="ñ" * 100_000))

    assert response.status_code == 400
    assert 'id="id_first_name_error"' in response.content.decode()
    assert stored() == NOTHING


def test_a_body_over_the_limit_gets_413(client: Client, form: Form) -> None:
    response = client.post(form_url(form), answers(first_name="x" * 3_000_000))

    assert response.status_code == 413
    assert stored() == NOTHING


@given(token=any_text, method=st.sampled_from(["get", "post"]))
def test_random_optin_tokens_never_give_a_server_error_and_change_nothing(
    client: Client, form: Form, token: str, method: str
) -> None:
    url = confirm_url("x").replace("/x/", "/" + quote(token.encode("utf-8", "surrogatepass")) + "/")

    response = getattr(client, method)(url)

    assert response.status_code in {400, 404}
    assert Submission.objects.filter(optin_confirmed_at__isnull=False).count() == 0


@given(token=any_text)
def test_random_contact_tokens_in_the_address_are_ignored(
    client: Client, form: Form, token: str
) -> None:
    query = quote_from_bytes(token.encode("utf-8", "surrogatepass"))

    response = client.get(form_url(form) + f"?c={query}&utm_source={query}")

    assert response.status_code == 200
    assert 'name="first_name"' in response.content.decode()


def test_an_optin_token_for_another_salt_is_refused(client: Client, form: Form) -> None:
    client.post(form_url(form), answers())
    submission = Submission.objects.get()
    contact = ContactFactory(email=submission.typed_email)
    contact_token = services.contact_token(contact)

    response = client.post(confirm_url(contact_token))

    assert response.status_code == 400
    submission.refresh_from_db()
    assert submission.optin_confirmed_at is None

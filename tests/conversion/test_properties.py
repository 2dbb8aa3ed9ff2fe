"""Property-based tests (hypothesis) of the citizen's public submit endpoints and signed links.

Whatever is sent — random, hostile or huge values, missing, unknown and repeated fields, any
encoding, content type or CSRF token — the answer is never a 5xx; a refusal is explained in the
citizen's language (each error next to its field and in the summary) and stores nothing; a
success stores exactly one submission and redirects inside the site. Tampered or expired opt-in
and download links answer a clear page and change nothing; confirming again changes nothing.

Every submit property runs against each entry of ENDPOINTS: another endpoint that takes the
citizen's answers is one more entry (an `Endpoint` subclass when it answers other than HTML).
Each example runs in a savepoint that is rolled back (`rolled_back`): the examples of one test
share its transaction, and one example's submission must not make the next one a duplicate.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.forms import Form as DjangoForm
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, _mask_cipher_secret
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import get_random_string
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from hypothesis import assume, event, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from contacts.models import ConsentRecord, Contact, ContactProperty, Subscription, Topic, Touchpoint
from conversion import services
from conversion.downloads import DOWNLOAD_SALT, download_token
from conversion.forms import UTM_FIELDS, started_token
from conversion.models import Form, FormField, LandingPage, SideEffect, Submission, SubmissionFile
from tests.contacts.factories import ContactFactory
from tests.conversion.factories import FormFactory
from tests.conversion.landing_factories import (
    LandingPageFactory,
    gated_page,
    live,
    private_in_tmp,  # noqa: F401 -- a fixture
)
from tests.conversion.landing_factories import answers as landing_answers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_in_tmp")]

LANGUAGES = st.sampled_from(["es", "en"])
URLENCODED = "application/x-www-form-urlencoded"
BOUNDARY = "inbound-property-test-7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
STORED_MODELS = (
    Submission,
    SubmissionFile,
    Contact,
    ConsentRecord,
    Subscription,
    Touchpoint,
    SideEffect,
)

Value = str | bytes  # bytes: sent as they are, not necessarily UTF-8


# --- The form: every kind of field ------------------------------------------------------------

Kind = FormField.Kind
Target = FormField.Target
CHOICES = {
    "barrio": ["centro", "norte"],
    "transporte": ["bus", "bici", "pie"],
    "dias": ["lunes", "martes", "miercoles"],
    "temas": ["movilidad", "obras"],
}
FIELDS: list[dict[str, Any]] = [
    {"key": "email", "kind": Kind.EMAIL, "required": True, "target": Target.CONTACT,
     "target_key": "email"},
    {"key": "nombre", "kind": Kind.TEXT, "target": Target.CONTACT, "target_key": "first_name"},
    {"key": "comentario", "kind": Kind.TEXTAREA},
    {"key": "telefono", "kind": Kind.PHONE, "target": Target.CONTACT, "target_key": "phone"},
    {"key": "personas", "kind": Kind.NUMBER, "target": Target.PROPERTY,
     "target_key": "personas_hogar"},
    {"key": "fecha", "kind": Kind.DATE},
    {"key": "barrio", "kind": Kind.SELECT, "target": Target.PROPERTY, "target_key": "barrio",
     "choices": "centro|Centro\nnorte|Norte"},
    {"key": "transporte", "kind": Kind.RADIO, "required": True,
     "choices": "bus|Autobús\nbici|Bicicleta\npie|A pie"},
    {"key": "dias", "kind": Kind.CHECKBOXES,
     "choices": "lunes|Lunes\nmartes|Martes\nmiercoles|Miércoles"},
    {"key": "temas", "kind": Kind.TOPICS},
    {"key": "cp", "kind": Kind.POSTAL_CODE, "target": Target.CONTACT, "target_key": "postal_code"},
    {"key": "documento", "kind": Kind.FILE},
    {"key": "boletin", "kind": Kind.CONSENT, "consent_purpose": ConsentRecord.Purpose.NEWSLETTER,
     "consent_version": "v1", "consent_text_es": "Quiero recibir el boletín.",
     "consent_text_en": "I want the newsletter."},
    {"key": "recordar", "kind": Kind.CONSENT, "consent_purpose": ConsentRecord.Purpose.TRACKING,
     "consent_version": "v1", "consent_text_es": "Recordadme en este dispositivo.",
     "consent_text_en": "Remember me on this device."},
    {"key": "utm", "kind": Kind.UTM},
]  # fmt: skip
ANSWER_KEYS = [f["key"] for f in FIELDS if f["kind"] not in (Kind.UTM, Kind.FILE)] + list(
    UTM_FIELDS
)
# Names with a meaning of their own: never drawn as "unknown" fields (the honeypot would turn a
# refusal into a fake success, which has its own tests).
RESERVED = {*ANSWER_KEYS, "documento", "website", "started", "csrfmiddlewaretoken"}


def every_kind_form() -> Form:
    """A published double opt-in form with a field of every kind, filling the contact, custom
    properties, topics and the submission only; e-mail and a radio group are required."""
    for order, slug in enumerate(CHOICES["temas"]):
        Topic.objects.get_or_create(slug=slug, defaults={"name": slug.capitalize(), "order": order})
    Topic.objects.get_or_create(slug="interno", defaults={"name": "Interno", "is_public": False})
    ContactProperty.objects.get_or_create(
        key="personas_hogar",
        defaults={"label": "Personas en el hogar", "type": ContactProperty.Type.NUMBER},
    )
    ContactProperty.objects.get_or_create(
        key="barrio",
        defaults={
            "label": "Barrio",
            "type": ContactProperty.Type.CHOICE,
            "choices": CHOICES["barrio"],
        },
    )
    form = FormFactory(slug="todo-tipo-de-campos", double_opt_in=True)
    for order, values in enumerate(FIELDS):
        label = values["key"].capitalize()
        FormField.objects.create(form=form, order=order, label_es=label, label_en=label, **values)
    return form


def valid_answers() -> list[tuple[str, Value]]:
    """A complete set of answers that is stored (the baseline the properties perturb)."""
    return [
        ("email", "vecina@correo.example"),
        ("nombre", "Lucía"),
        ("comentario", "Más carriles bici, por favor."),
        ("telefono", "600 123 456"),
        ("personas", "3"),
        ("fecha", "2025-03-01"),
        ("barrio", "centro"),
        ("transporte", "bici"),
        ("dias", "lunes"),
        ("dias", "martes"),
        ("temas", "movilidad"),
        ("cp", "28999"),
        ("boletin", "on"),
        ("utm_source", "boletin"),
    ]


# --- The endpoints ------------------------------------------------------------------------------


def path_for(language: str, name: str, **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs)


def bound_form(response: HttpResponse) -> DjangoForm | None:
    """The citizen's form the page was drawn with (None for pages without one)."""
    try:
        form = response.context["form"]  # type: ignore[attr-defined]
    except (KeyError, TypeError):
        return None
    return form if isinstance(form, DjangoForm) else None


def summary_of(html: str) -> str:
    found = re.search(r'<div class="notice error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert found, "a refused form has no error summary"
    return found.group(1)


def assert_errors_shown(html: str, form: DjangoForm, language: str) -> None:
    """Every error the form found is in the summary and, for a field, next to it, in
    `language` (the messages are evaluated again under it and must be the ones on the page)."""
    summary = summary_of(html)
    assert "<li>" in summary, "the error summary lists nothing to correct"
    errors = form.errors.as_data()
    assert errors
    with translation.override(language):
        assert gettext("Please correct the following:") in summary
        for name, validation_errors in errors.items():
            messages = [escape(m) for error in validation_errors for m in error.messages]
            for message in messages:
                assert message in summary, (name, message)
            if name == NON_FIELD_ERRORS:
                continue
            bound = form[name]
            assert not bound.is_hidden, f"{name}: an error the citizen can neither see nor fix"
            by_field = re.search(rf'id="{bound.auto_id}_error">(.*?)</p>', html, re.S)
            assert by_field, f"{name}: no error next to the field"
            for message in messages:
                assert message in by_field.group(1), (name, message)
    if language == "es":
        assert "Please correct the following:" not in html


@dataclass(frozen=True)
class Endpoint:
    """A public page that takes the citizen's answers to `form` and answers with HTML."""

    name: str
    form: Form
    url: Callable[[str], str]  # language → the path answers are sent to
    thanks: Callable[[str], str]  # language → where a stored submission is redirected
    landing_page: LandingPage | None = None

    def stored(self, response: HttpResponse, language: str) -> bool:
        """Whether the answer says the submission was taken (a redirect to thanks)."""
        if response.status_code != 302:
            return False
        location = response["Location"]
        assert location.startswith("/") and not location.startswith("//"), location
        assert url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}), location
        assert location.startswith(self.thanks(language)), location
        return True

    def assert_refusal_explained(self, response: HttpResponse, language: str) -> None:
        html = response.content.decode()
        status = response.status_code
        assert f'<html lang="{language}">' in html, status
        form = bound_form(response)
        with translation.override(language):
            if status == 400 and form is not None:
                assert_errors_shown(html, form, language)
            elif status == 400:  # a body Django itself cannot parse
                assert gettext("Bad request") in html
            elif status == 403:
                assert gettext("The form has expired") in html
                assert gettext("Nothing has been saved.") in html
            elif status == 413:
                assert gettext("The form is too large") in html
            else:
                pytest.fail(f"{self.name} answered {status}")


def form_page_endpoint(form: Form) -> Endpoint:
    return Endpoint(
        name="form page",
        form=form,
        url=lambda language: path_for(language, "conversion:form", slug=form.slug),
        thanks=lambda language: path_for(language, "conversion:thanks", slug=form.slug),
    )


def landing_page_endpoint(form: Form) -> Endpoint:
    page = LandingPageFactory(form=form, **live())

    def slug(language: str) -> str:
        return str(getattr(page, f"slug_{language}"))

    return Endpoint(
        name="landing page",
        form=form,
        url=lambda language: path_for(language, "conversion:landing", slug=slug(language)),
        thanks=lambda language: path_for(
            language, "conversion:landing-thanks", slug=slug(language)
        ),
        landing_page=page,
    )


ENDPOINTS: dict[str, Callable[[Form], Endpoint]] = {
    "form-page": form_page_endpoint,
    "landing-page": landing_page_endpoint,
}


@pytest.fixture(params=list(ENDPOINTS))
def endpoint(request: pytest.FixtureRequest, settings: Any) -> Endpoint:
    # Hundreds of examples come from one address: the rate limit has its own test.
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.CONVERSION_MIN_FILL_SECONDS = 3
    form = every_kind_form()
    # Someone already known: a refusal must not touch what we hold about her.
    known = ContactFactory(email="vecina@correo.example", first_name="María", phone="")
    Subscription.objects.create(
        contact=known, topic=Topic.objects.get(slug="obras"), status=Subscription.Status.ACTIVE
    )
    return ENDPOINTS[request.param](form)


# --- What is sent -------------------------------------------------------------------------------


def _raw(value: Value) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def urlencoded(pairs: list[tuple[Value, Value]]) -> bytes:
    return "&".join(
        f"{quote_from_bytes(_raw(k))}={quote_from_bytes(_raw(v))}" for k, v in pairs
    ).encode()


def multipart(pairs: list[tuple[Value, Value]], uploads: list[tuple[str, Value, bytes]]) -> bytes:
    parts = [
        b'Content-Disposition: form-data; name="' + _raw(k) + b'"\r\n\r\n' + _raw(v)
        for k, v in pairs
    ] + [
        b'Content-Disposition: form-data; name="' + _raw(key) + b'"; filename="' + _raw(name)
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content
        for key, name, content in uploads
    ]  # fmt: skip
    delimiter = f"--{BOUNDARY}\r\n".encode()
    return b"".join(delimiter + part + b"\r\n" for part in parts) + f"--{BOUNDARY}--\r\n".encode()


# How long ago the form was shown (resolved when sending), or a literal `started` value.
STARTED_AGO = {"a minute ago": 60, "just now": 0, "two days ago": 2 * 24 * 3600}


def started_pairs(started: str | None) -> list[tuple[Value, Value]]:
    if started is None:
        return []
    if started in STARTED_AGO:
        return [("started", started_token(at=time.time() - STARTED_AGO[started]))]
    return [("started", started)]


@dataclass
class Answers:
    """What one example sends: (name, value) pairs in order, uploads, and the encoding."""

    pairs: list[tuple[Value, Value]]
    uploads: list[tuple[str, Value, bytes]] = field(default_factory=list)
    started: str | None = "a minute ago"
    encoding: str = "urlencoded"

    def body(self) -> tuple[bytes, str]:
        pairs = [*self.pairs, *started_pairs(self.started)]
        if self.encoding == "multipart":
            return multipart(pairs, self.uploads), MULTIPART
        return urlencoded(pairs + [(key, name) for key, name, _ in self.uploads]), URLENCODED


PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc"))
MARKS = st.sampled_from(["\u202e", "\u200f", "\u200e", "\u2066", "\u200b", "\ufeff", "\u0301"])
EMOJI = st.sampled_from(["🚲", "👩🏽‍🚒", "🇪🇸", "🏳️‍🌈", "🧑‍🤝‍🧑"])
tricky_text = st.lists(
    st.one_of(
        st.text(max_size=10),
        st.characters(whitelist_categories=("Cc",)),  # control characters, NUL included
        st.just("\x00"),
        MARKS,
        EMOJI,
    ),
    max_size=12,
).map("".join)
huge_text = st.builds(operator.mul, st.text(min_size=1, max_size=4), st.integers(1_000, 25_000))
numbers_as_text = st.one_of(
    st.integers().map(str),
    st.floats().map(str),
    st.sampled_from(["1e309", "-0", "NaN", "Infinity", "0x1F", "1_000", "١٢٣", "3,5", "1e-400"]),
)
hostile: st.SearchStrategy[Value] = st.one_of(
    st.text(),
    tricky_text,
    huge_text,
    numbers_as_text,
    st.binary(max_size=64),  # not UTF-8
    st.sampled_from(["", " ", "\x00", "on", "null", "[]", "<script>alert(1)</script>",
                     "' OR 1=1 --", "%00", "../../etc/passwd", "\u202egnp.exe"]),
)  # fmt: skip
emails = st.one_of(
    st.just("vecina@correo.example"),
    st.just(" VECINA@Correo.Example "),
    st.from_regex(r"[a-z0-9]{1,20}(\.[a-z0-9]{1,10})?@[a-z]{1,10}\.example", fullmatch=True),
)
VALID: dict[str, st.SearchStrategy[Value]] = {
    "email": emails,
    "nombre": st.text(PRINTABLE, min_size=1, max_size=100),
    "comentario": st.text(PRINTABLE, max_size=2000),
    "telefono": st.sampled_from(["600 123 456", "+34 600 123 456", "912345678", ""]),
    "personas": st.one_of(
        st.integers(-(10**6), 10**6).map(str),
        st.decimals(-(10**6), 10**6, places=2, allow_nan=False, allow_infinity=False).map(str),
    ),
    "fecha": st.dates().map(dt.date.isoformat),
    "cp": st.from_regex(r"(0[1-9]|[1-4][0-9]|5[0-2])[0-9]{3}", fullmatch=True),
    "boletin": st.sampled_from(["on", "", "true"]),
    "recordar": st.sampled_from(["on", ""]),
    **{key: st.sampled_from(values) for key, values in CHOICES.items()},
    **{key: st.text(PRINTABLE, max_size=200) for key in UTM_FIELDS},
}
MULTI_VALUED = {"dias", "temas"}


def values_for(key: str) -> st.SearchStrategy[list[Value]]:
    """A field's values: valid, hostile, missing, or repeated (the key sent several times)."""
    valid = (
        st.lists(VALID[key], unique=True) if key in MULTI_VALUED else VALID[key].map(lambda v: [v])
    )
    return st.one_of(
        valid,
        hostile.map(lambda v: [v]),
        st.just([]),
        st.lists(st.one_of(VALID[key], hostile), min_size=2, max_size=3),
    )


unknown_names = st.text(min_size=1, max_size=40).filter(
    lambda name: name not in RESERVED and not set(name) & set('"\\\r\n')
)
file_contents = st.one_of(
    st.binary(max_size=2_000),
    st.binary(max_size=2_000).map(lambda b: b"%PDF-1.7\n" + b),
    st.binary(max_size=2_000).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
    st.just(b""),
)
file_names: st.SearchStrategy[Value] = st.one_of(
    st.sampled_from(["informe.pdf", "../../etc/passwd", "C:\\boot.ini", ".", "..", "foto.jpg",
                     "a" * 300 + ".pdf", "informe\u202efdp.exe", "nul\x00.pdf"]),
    st.text(max_size=300),
    st.binary(max_size=60),
)  # fmt: skip
uploads = st.lists(st.tuples(st.just("documento"), file_names, file_contents), max_size=2)
started_values = st.one_of(
    st.sampled_from(["a minute ago", "a minute ago", "just now", "two days ago", None]),
    st.text(max_size=120),
)
encodings = st.sampled_from(["urlencoded", "multipart"])


@st.composite
def any_answers(draw: st.DrawFn) -> Answers:
    """Every field drawn on its own, plus unknown fields, in any order."""
    pairs: list[tuple[Value, Value]] = [
        (key, value) for key in ANSWER_KEYS for value in draw(values_for(key))
    ]
    pairs += draw(st.lists(st.tuples(unknown_names, hostile), max_size=4))
    return Answers(
        pairs=draw(st.permutations(pairs)),
        uploads=draw(uploads),
        started=draw(started_values),
        encoding=draw(encodings),
    )


@st.composite
def one_answer_changed(draw: st.DrawFn) -> Answers:
    """The valid answers with one field (or `started`, or the upload) drawn instead."""
    changed = draw(st.sampled_from([*ANSWER_KEYS, "started", "documento", "unknown"]))
    pairs = valid_answers()
    answers = Answers(pairs=[], encoding=draw(encodings))
    if changed == "started":
        answers.started = draw(started_values)
    elif changed == "documento":
        answers.uploads = draw(uploads)
    elif changed == "unknown":
        pairs += draw(st.lists(st.tuples(unknown_names, hostile), min_size=1, max_size=4))
    else:
        pairs = [(k, v) for k, v in pairs if k != changed]
        pairs += [(changed, value) for value in draw(values_for(changed))]
    answers.pairs = list(pairs)
    return answers


# --- What is stored -----------------------------------------------------------------------------

State = tuple[dict[str, int], list[dict[str, Any]], list[dict[str, Any]]]


def state() -> State:
    """Rows per model, and every contact and subscription as they stand (a refusal must not
    touch any)."""
    counts = {model.__name__: model.objects.count() for model in STORED_MODELS}
    return (
        counts,
        list(Contact.objects.order_by("pk").values()),
        list(Subscription.objects.order_by("pk").values()),
    )


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_answered_safely(
    endpoint: Endpoint, response: HttpResponse, language: str, before: State
) -> None:
    assert response.status_code < 500
    if currently_in_test_context():  # --hypothesis-show-statistics tells how examples ended
        event(f"answered {response.status_code}")
    after = state()
    if not endpoint.stored(response, language):
        assert after == before, "a refused submission changed what is stored"
        endpoint.assert_refusal_explained(response, language)
        return
    added = {name: after[0][name] - before[0][name] for name in after[0]}
    assert added["Submission"] == 1, added
    assert added["SubmissionFile"] in (0, 1), added
    # Staged: the request stores the submission and its outbox, and changes no one.
    assert after[1:] == before[1:], "a submission changed a contact before the relay ran"
    submission = Submission.objects.latest("pk")
    assert submission.form_id == endpoint.form.pk
    assert submission.language == language
    assert submission.landing_page == endpoint.landing_page
    assert submission.side_effects.filter(kind="apply", status="pending").exists()


def post(client: Client, path: str, body: bytes, content_type: str, **headers: str) -> Any:
    """POST the bytes as they are (`Client.post` would re-encode them to the charset named)."""
    return client.generic("POST", path, body, content_type=content_type, **headers)


def send(endpoint: Endpoint, answers: Answers, language: str) -> None:
    with rolled_back():
        before = state()
        response = post(Client(), endpoint.url(language), *answers.body())
        assert_answered_safely(endpoint, response, language, before)


# --- Submitting: the properties -------------------------------------------------------------------


def test_the_valid_answers_are_stored_once_on_each_endpoint(endpoint: Endpoint) -> None:
    """The baseline the properties perturb is itself accepted (else they would prove little)."""
    for encoding in ("urlencoded", "multipart"):
        before = state()
        answers = Answers(pairs=valid_answers(), encoding=encoding)
        with rolled_back():
            response = post(Client(), endpoint.url("es"), *answers.body())
            assert response.status_code == 302
            assert_answered_safely(endpoint, response, "es", before)


@given(answers=one_answer_changed(), language=LANGUAGES)
def test_one_answer_changed_is_stored_whole_or_refused_by_its_field(
    endpoint: Endpoint, answers: Answers, language: str
) -> None:
    send(endpoint, answers, language)


@given(answers=any_answers(), language=LANGUAGES)
def test_any_answers_are_stored_whole_or_refused_with_every_error_shown(
    endpoint: Endpoint, answers: Answers, language: str
) -> None:
    send(endpoint, answers, language)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip
bodies = st.one_of(
    # The valid answers (the `started` token lasts a day), in both encodings.
    st.just(Answers(pairs=valid_answers()).body()[0]),
    st.just(Answers(pairs=valid_answers(), encoding="multipart").body()[0]),
    json_values.map(json.dumps).map(str.encode),
    st.dictionaries(st.sampled_from(ANSWER_KEYS), json_values).map(json.dumps).map(str.encode),
    st.binary(max_size=3_000),
    st.integers(400, 1_200).map(lambda n: b"&".join([b"x=1"] * n)),  # more fields than allowed
)  # fmt: skip
content_types = st.one_of(
    st.sampled_from([
        "text/plain", "application/json", "application/xml", "", "multipart/form-data",
        "multipart/form-data; boundary=", "multipart/form-data; boundary=nope", MULTIPART,
        URLENCODED, f"{URLENCODED}; charset=latin-1", f"{URLENCODED}; charset=utf-16",
        f"{URLENCODED}; charset=no-such-charset",
    ]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)  # fmt: skip


@given(body=bodies, content_type=content_types, language=LANGUAGES)
def test_any_body_with_any_content_type_is_answered_without_a_server_error(
    endpoint: Endpoint, body: bytes, content_type: str, language: str
) -> None:
    with rolled_back():
        before = state()
        response = post(Client(), endpoint.url(language), body, content_type)
        assert_answered_safely(endpoint, response, language, before)


# --- CSRF ---------------------------------------------------------------------------------------


def _well_formed_secret(value: str) -> bool:
    return len(value) in (32, 64) and set(value) <= set(CSRF_ALLOWED_CHARS)


@dataclass(frozen=True)
class Csrf:
    """The CSRF cookie and token one example sends ("ours": what the page gave)."""

    cookie: str  # "none", "ours" or a literal value
    token: str  # "none", "ours", "another", "flipped" or a literal value
    flip_at: int = 0
    in_header: bool = False

    @property
    def accepted(self) -> bool:
        return self.cookie == "ours" and self.token == "ours"

    def prepare(self, client: Client, page: str) -> dict[str, str]:
        """Set the cookie on `client`; the token as extra POST data or header."""
        ours = ""
        if self.cookie == "ours":
            client.get(page)
            ours = client.cookies[django_settings.CSRF_COOKIE_NAME].value
        elif self.cookie != "none":
            client.cookies[django_settings.CSRF_COOKIE_NAME] = self.cookie
        if self.token == "none":
            return {}
        if self.token == "ours":
            token = _mask_cipher_secret(ours) if ours else ""
        elif self.token == "another":
            token = _mask_cipher_secret(get_random_string(32, CSRF_ALLOWED_CHARS))
        elif self.token == "flipped":
            token = flipped(_mask_cipher_secret(ours) if ours else "x" * 64, self.flip_at)
        else:
            token = self.token
        return {"HTTP_X_CSRFTOKEN" if self.in_header else "csrfmiddlewaretoken": token}


def flipped(token: str, at: int) -> str:
    at %= len(token)
    replacement = "A" if token[at] != "A" else "B"
    return token[:at] + replacement + token[at + 1 :]


csrf_cases = st.builds(
    Csrf,
    cookie=st.one_of(
        st.sampled_from(["none", "ours", "ours"]),
        # A header is bytes: WSGI hands it over as one character per byte.
        st.text(st.characters(min_codepoint=33, max_codepoint=255), min_size=1, max_size=70).filter(
            lambda v: v not in ("none", "ours") and not _well_formed_secret(v)
        ),
    ),
    token=st.one_of(
        st.sampled_from(["none", "ours", "ours", "another", "flipped"]),
        st.text(max_size=70).filter(lambda v: v not in ("none", "ours", "another", "flipped")),
    ),
    flip_at=st.integers(0, 63),
    in_header=st.booleans(),
)


@given(csrf=csrf_cases, language=LANGUAGES)
def test_only_the_pages_own_csrf_token_is_accepted(
    endpoint: Endpoint, csrf: Csrf, language: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    with rolled_back():
        extra = csrf.prepare(client, endpoint.url(language))
        pairs: list[tuple[Value, Value]] = list(valid_answers())
        header = {k: v for k, v in extra.items() if k.startswith("HTTP_")}
        pairs += [(k, v) for k, v in extra.items() if not k.startswith("HTTP_")]
        before = state()

        response = post(client, endpoint.url(language), *Answers(pairs=pairs).body(), **header)

        assert response.status_code == (302 if csrf.accepted else 403)
        assert_answered_safely(endpoint, response, language, before)


def test_the_csrf_page_is_in_spanish_under_es(endpoint: Endpoint) -> None:
    response = Client(enforce_csrf_checks=True).post(endpoint.url("es"), dict(valid_answers()))

    assert response.status_code == 403
    html = response.content.decode()
    assert "El formulario ha caducado" in html
    assert "No se ha guardado nada." in html


def test_a_missing_answer_is_refused_in_spanish_by_its_field(endpoint: Endpoint) -> None:
    answers = Answers(pairs=[(k, v) for k, v in valid_answers() if k != "email"])

    response = post(Client(), endpoint.url("es"), *answers.body())

    assert response.status_code == 400
    html = response.content.decode()
    assert "Corrige lo siguiente:" in html
    error = re.search(r'id="id_email_error">(.*?)</p>', html, re.S)
    assert error and "Este campo es requerido." in error.group(1)
    assert Submission.objects.count() == 0


def test_a_campaign_value_the_citizen_cannot_see_never_refuses_the_form(
    endpoint: Endpoint,
) -> None:
    """Regression: a NUL in `?utm_source=` went into the hidden field and every send got a 400
    with an empty error summary; an over-long UTM value was refused the same way."""
    client = Client()
    page = client.get(endpoint.url("es") + "?utm_source=boletin%00abril").content.decode()
    [carried] = re.findall(r'type="hidden" name="utm_source" value="([^"]*)"', page)
    pairs = [(k, v) for k, v in valid_answers() if k != "utm_source"]
    pairs += [("utm_source", carried), ("utm_campaign", "x" * 300)]

    response = post(client, endpoint.url("es"), *Answers(pairs=pairs).body())

    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.utm == {"utm_source": "boletinabril", "utm_campaign": "x" * 200}


# --- Signed links: opt-in confirmation and gated downloads --------------------------------------


def signed_at(payload: Any, *, salt: str, seconds_ago: float = 0, key: str | None = None) -> str:
    """A token as `signing` makes them, signed `seconds_ago` (with another `key` if given)."""

    class Signer(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time() - seconds_ago))

    return Signer(key=key, salt=salt).sign_object(payload)


def tampered(token: str, *, payload: dict[str, Any], salt: str) -> st.SearchStrategy[str]:
    """Tokens that are not `token`: random, altered, cut, extended, or signed otherwise."""
    wrong_payloads = [
        {**payload, "s": -1},
        {**payload, "s": str(payload["s"])},
        {**payload, "s": float(payload["s"])},
        {key: value for key, value in payload.items() if key != "s"},
        [payload["s"]],
        None,
        "s",
        *[{**payload, key: "0" * 16} for key in payload if key != "s"],
    ]
    return st.one_of(
        st.text(min_size=1, max_size=200),
        st.integers(0, len(token) - 1).map(lambda at: flipped(token, at)),
        st.integers(1, len(token) - 1).map(lambda n: token[:n]),
        st.text(min_size=1, max_size=20).map(lambda extra: token + extra),
        st.text(min_size=1, max_size=30)
        .filter(lambda other: other != salt)
        .map(lambda other: signed_at(payload, salt=other)),
        st.just(signed_at(payload, salt=salt, key="not-the-site-secret")),
        st.sampled_from(wrong_payloads).map(lambda wrong: signed_at(wrong, salt=salt)),
    )


def token_path(language: str, name: str, token: str) -> str:
    """The link's path with any token (reverse() refuses the ones the route cannot match)."""
    return path_for(language, name, token="TOKEN").replace("TOKEN", quote(token, safe=""))


def assert_link_refused(response: HttpResponse, language: str, token: str, *texts: str) -> None:
    """400 with a page that says what happened, in the citizen's language. A token with a slash
    is another address altogether: the site's own 404 page."""
    assert response.status_code in ((400, 404) if "/" in token else (400,))
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    if response.status_code == 404:
        return
    with translation.override(language):
        for text in texts:
            assert gettext(text) in html, text


@pytest.fixture
def pending(settings: Any) -> Submission:
    """A double opt-in submission asking for a topic, applied by the relay, not yet confirmed."""
    from conversion.outbox import effects_due

    settings.CONVERSION_MIN_FILL_SECONDS = 3
    endpoint = form_page_endpoint(every_kind_form())
    post(Client(), endpoint.url("es"), *Answers(pairs=valid_answers()).body())
    submission = Submission.objects.get()
    effects_due()
    assert not Subscription.objects.exists()  # staged: nothing until the citizen confirms
    return submission


def optin_state(submission: Submission) -> tuple[Any, ...]:
    submission.refresh_from_db()
    contact = Contact.objects.filter(email=submission.typed_email).first()
    return (
        submission.optin_confirmed_at,
        sorted(Subscription.objects.values_list("topic__slug", "status")),
        contact.email_verified_at if contact else None,
        contact.email_status if contact else None,
        Touchpoint.objects.filter(kind="optin_confirmed").count(),
    )


def optin_payload(submission: Submission) -> dict[str, Any]:
    return {"s": submission.pk, "k": submission.idempotency_key[:16]}


@given(data=st.data(), method=st.sampled_from(["get", "post"]), language=LANGUAGES)
def test_a_tampered_optin_link_gets_a_clear_page_and_changes_nothing(
    pending: Submission, data: st.DataObject, method: str, language: str
) -> None:
    real = services.optin_token(pending)
    token = data.draw(tampered(real, payload=optin_payload(pending), salt=services.OPTIN_SALT))
    before = optin_state(pending)
    with rolled_back():
        response = getattr(Client(), method)(
            token_path(language, "conversion:optin-confirm", token)
        )

        assert_link_refused(
            response, language, token, "This link is not valid", "Nothing has been changed."
        )
        assert optin_state(pending) == before
        assert before[0] is None and before[1] == []


@given(max_days=st.integers(1, 30), age_hours=st.integers(0, 24 * 60), language=LANGUAGES)
def test_an_optin_link_confirms_within_its_max_age_and_is_refused_as_expired_after(
    pending: Submission, max_days: int, age_hours: int, language: str
) -> None:
    age = age_hours * 3600
    assume(abs(age - max_days * 24 * 3600) > 3600)  # no race with the clock at the boundary
    token = signed_at(optin_payload(pending), salt=services.OPTIN_SALT, seconds_ago=age)
    before = optin_state(pending)
    with rolled_back(), override_settings(CONVERSION_OPTIN_MAX_AGE_DAYS=max_days):
        response = Client().post(token_path(language, "conversion:optin-confirm", token))

        if age < max_days * 24 * 3600:
            assert response.status_code == 200
            with translation.override(language):
                assert (
                    gettext("Thank you: your subscription is confirmed.")
                    in response.content.decode()
                )
            assert optin_state(pending)[0] is not None
            assert Subscription.objects.get().status == Subscription.Status.ACTIVE
        else:
            assert_link_refused(
                response, language, token, "This link has expired", "Nothing has been changed."
            )
            assert optin_state(pending) == before


@given(
    methods=st.lists(st.sampled_from(["get", "post"]), min_size=2, max_size=4), language=LANGUAGES
)
def test_confirming_again_changes_nothing_and_says_it_was_done(
    pending: Submission, methods: list[str], language: str
) -> None:
    path = token_path(language, "conversion:optin-confirm", services.optin_token(pending))
    with rolled_back(), translation.override(language):
        confirmed_state = None
        for method in methods:
            response = getattr(Client(), method)(path)
            html = response.content.decode()
            assert response.status_code == 200
            if confirmed_state is None and method == "get":
                assert gettext("Yes, confirm my subscription") in html
                assert optin_state(pending)[0] is None
            elif confirmed_state is None:
                assert gettext("Thank you: your subscription is confirmed.") in html
                confirmed_state = optin_state(pending)
                assert confirmed_state[-1] == 1  # one optin_confirmed touchpoint
            else:
                assert (
                    gettext("You had already confirmed your subscription. Nothing else to do.")
                    in html
                )
                assert optin_state(pending) == confirmed_state


@given(csrf=csrf_cases, language=LANGUAGES)
def test_confirming_needs_the_pages_own_csrf_token(
    pending: Submission, csrf: Csrf, language: str
) -> None:
    path = token_path(language, "conversion:optin-confirm", services.optin_token(pending))
    client = Client(enforce_csrf_checks=True)
    before = optin_state(pending)
    with rolled_back():
        extra = csrf.prepare(client, path)

        response = client.post(path, **extra) if csrf.in_header else client.post(path, extra)

        if csrf.accepted:
            assert response.status_code == 200
            assert optin_state(pending)[0] is not None
        else:
            assert response.status_code == 403
            assert f'<html lang="{language}">' in response.content.decode()
            with translation.override(language):
                assert gettext("The form has expired") in response.content.decode()
            assert optin_state(pending) == before


@pytest.fixture
def gated(settings: Any) -> tuple[LandingPage, Submission]:
    """A landing page with a gated PDF, and a submission sent from it (no opt-in needed)."""
    settings.CONVERSION_MIN_FILL_SECONDS = 3
    page = gated_page()
    with translation.override("en"):
        path = reverse("conversion:landing", kwargs={"slug": page.slug_en})
    Client().post(path, landing_answers())
    return page, Submission.objects.get()


def downloads() -> int:
    return Touchpoint.objects.filter(kind="download").count()


@given(data=st.data(), language=LANGUAGES)
def test_a_tampered_download_link_gets_a_clear_page_and_no_file(
    gated: tuple[LandingPage, Submission], data: st.DataObject, language: str
) -> None:
    page, submission = gated
    real = download_token(submission=submission, landing_page=page)
    payload = {"s": submission.pk, "p": page.pk}
    token = data.draw(
        st.one_of(
            tampered(real, payload=payload, salt=DOWNLOAD_SALT),
            st.just(services.optin_token(submission)),  # a real token for something else
        )
    )
    with rolled_back():
        response = Client().get(token_path(language, "conversion:download", token))

        assert_link_refused(
            response, language, token, "This download link is not valid", "No file has been sent."
        )
        assert "Content-Disposition" not in response
        assert downloads() == 0


@given(
    max_hours=st.integers(1, 24 * 7), age_minutes=st.integers(0, 60 * 24 * 14), language=LANGUAGES
)
def test_a_download_link_works_within_its_max_age_and_is_refused_as_expired_after(
    gated: tuple[LandingPage, Submission], max_hours: int, age_minutes: int, language: str
) -> None:
    page, submission = gated
    age = age_minutes * 60
    assume(abs(age - max_hours * 3600) > 600)
    token = signed_at({"s": submission.pk, "p": page.pk}, salt=DOWNLOAD_SALT, seconds_ago=age)
    with rolled_back(), override_settings(CONVERSION_DOWNLOAD_MAX_AGE_HOURS=max_hours):
        response = Client().get(token_path(language, "conversion:download", token))

        if age < max_hours * 3600:
            assert response.status_code == 200
            assert response["Content-Disposition"].startswith("attachment;")
            b"".join(response.streaming_content)  # closes the file
            assert downloads() == 1
        else:
            assert_link_refused(
                response,
                language,
                token,
                "This download link has expired",
                "No file has been sent.",
            )
            assert "Content-Disposition" not in response
            assert downloads() == 0

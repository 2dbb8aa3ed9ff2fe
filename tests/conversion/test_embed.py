"""Forms on other institutional sites: the framed form (frame-ancestors, cookie-less protection)
and the JSON API (definition, submissions, CORS allowlist), with the same protections as the
form's own page."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from contacts.models import Contact, Touchpoint
from conversion.embedding import form_token, form_token_check
from conversion.forms import STARTED_MAX_AGE, started_token
from conversion.models import Form, FormField, Submission
from conversion.outbox import effects_due
from conversion.services import optin_confirm, optin_token
from tests.conversion.factories import FormFieldFactory
from tests.conversion.test_bad_input import encoded, field_names, field_values
from tests.conversion.test_public_forms import (
    NOTHING,
    SUCCESS,
    answers,
    demo_like_form,
    form_url,
    stored,
)

pytestmark = pytest.mark.django_db

SEDE = "https://sede.villaclara.es"
PORTAL = "https://portal.villaclara.es"
FOREIGN = "https://phishing.example"
OWN = "http://testserver"  # the test client's host: the framed page posts to itself
SUCCESS_ES = "Gracias por suscribirte al boletín de movilidad."


@pytest.fixture
def form() -> Form:
    return demo_like_form(embed_origins=f"{SEDE}\n{PORTAL}/")


@pytest.fixture
def client() -> Client:
    """A browser inside another site's frame: none of our cookies, and CSRF enforced as in
    production (the test client otherwise skips it)."""
    return Client(enforce_csrf_checks=True)


def embed_url(form: Form, language: str = "es") -> str:
    return form_url(form, "embed", language)


def embed_answers(form: Form, **values: Any) -> dict[str, Any]:
    """Valid answers carrying the form's token, as if the frame was loaded a minute ago."""
    return answers(started=form_token(form, at=time.time() - 60), **values)


def frame_ancestors(response: Any) -> list[str]:
    policy = response["Content-Security-Policy"]
    directive = next(d.strip() for d in policy.split(";") if "frame-ancestors" in d)
    return directive.split()[1:]


def token_in(html: str) -> str:
    match = re.search(r'name="started" value="([^"]+)"', html)
    assert match, "the form carries no token"
    return match.group(1)


# --- The framed form: who may frame it -----------------------------------------------------------


def test_embed_may_be_framed_only_by_the_listed_sites(client: Client, form: Form) -> None:
    response = client.get(embed_url(form))

    assert response.status_code == 200
    assert frame_ancestors(response) == ["'self'", SEDE, PORTAL]
    assert "X-Frame-Options" not in response


def test_other_pages_still_refuse_every_frame(client: Client, form: Form) -> None:
    response = client.get(form_url(form, language="es"))

    assert response["X-Frame-Options"] == "DENY"
    assert frame_ancestors(response) == ["'none'"]


def test_a_form_listing_no_site_cannot_be_embedded(client: Client) -> None:
    form = demo_like_form()

    response = client.get(embed_url(form))

    assert response.status_code == 404
    assert response["X-Frame-Options"] == "DENY"


def test_an_unpublished_form_cannot_be_embedded(client: Client, form: Form) -> None:
    form.status = Form.Status.DRAFT
    form.save()

    assert client.get(embed_url(form)).status_code == 404


def test_embed_shows_the_form_alone_and_sets_no_cookie(client: Client, form: Form) -> None:
    response = client.get(embed_url(form))

    html = response.content.decode()
    assert "Suscríbete al boletín de movilidad" in html
    assert 'name="email"' in html
    assert "site-header" not in html and "site-footer" not in html
    assert "csrfmiddlewaretoken" not in html
    assert 'target="_blank"' in html  # our other pages open outside the frame
    assert not response.cookies
    form_token_check(form, token_in(html))  # the form's own token, bound to it


# --- The framed form: sending without cookies ----------------------------------------------------


def test_framed_form_is_stored_without_csrf_cookie(client: Client, form: Form) -> None:
    response = client.post(
        embed_url(form), embed_answers(form, remember="on"), headers={"Origin": OWN}
    )

    assert response.status_code == 200
    assert SUCCESS_ES in response.content.decode()
    assert frame_ancestors(response) == ["'self'", SEDE, PORTAL]  # the thanks stay in the frame
    submission = Submission.objects.get()
    assert submission.typed_email == "lucia.vecina@correo.example"
    assert submission.contact is None  # the contact only once the citizen confirms
    assert submission.page == embed_url(form)
    assert not response.cookies  # no recognition cookie from a frame, even with consent


def test_framed_form_may_be_posted_by_a_listed_site(client: Client, form: Form) -> None:
    response = client.post(embed_url(form), embed_answers(form), headers={"Origin": SEDE})

    assert response.status_code == 200
    assert Submission.objects.count() == 1


def test_a_referer_from_this_site_stands_for_a_missing_origin(client: Client, form: Form) -> None:
    response = client.post(
        embed_url(form), embed_answers(form), headers={"Referer": OWN + embed_url(form)}
    )

    assert response.status_code == 200
    assert Submission.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": FOREIGN},
        {"Origin": "null"},
        {"Referer": FOREIGN + "/trap.html"},
        {},
    ],
    ids=["foreign-origin", "null-origin", "foreign-referer", "no-origin"],
)
def test_framed_form_from_an_unlisted_site_is_refused(
    client: Client, form: Form, headers: dict[str, str]
) -> None:
    response = client.post(embed_url(form, "en"), embed_answers(form), headers=headers)

    assert response.status_code == 403
    html = response.content.decode()
    assert "This form cannot be sent from here" in html
    assert "Nothing has been saved." in html
    assert stored() == NOTHING


def test_forged_token_is_refused(client: Client, form: Form) -> None:
    other = demo_like_form(slug="otro", embed_origins=SEDE)
    cases = [
        form_token(other, at=time.time() - 60),  # another form's
        started_token(at=time.time() - 60),  # the form page's, bound to no form
        form_token(form, at=time.time() - 60)[:-2] + "xx",  # tampered
        "",
    ]
    for token in cases:
        response = client.post(embed_url(form), answers(started=token), headers={"Origin": OWN})

        assert response.status_code == 403, token
        assert reverse_embed_link(form) in response.content.decode()
    assert stored() == NOTHING


def reverse_embed_link(form: Form) -> str:
    return f'href="{embed_url(form)}"'


def test_expired_token_is_refused_with_a_clear_message(client: Client, form: Form) -> None:
    old = form_token(form, at=time.time() - STARTED_MAX_AGE - 60)

    response = client.post(embed_url(form, "en"), answers(started=old), headers={"Origin": OWN})

    assert response.status_code == 403
    html = response.content.decode()
    assert "The form was open for too long" in html
    assert "Nothing has been saved." in html
    assert stored() == NOTHING


def test_framed_form_errors_show_in_the_frame_with_a_live_token(client: Client, form: Form) -> None:
    response = client.post(
        embed_url(form, "en"), embed_answers(form, email=""), headers={"Origin": OWN}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "site-header" not in html
    form_token_check(form, token_in(html))  # can be corrected and sent again
    assert stored() == NOTHING


def test_framed_form_honeypot_looks_sent_and_stores_nothing(client: Client, form: Form) -> None:
    response = client.post(
        embed_url(form), embed_answers(form, website="http://spam.example"),
        headers={"Origin": OWN},
    )  # fmt: skip

    assert response.status_code == 200
    assert SUCCESS_ES in response.content.decode()
    assert stored() == NOTHING


def test_framed_form_too_fast_is_refused(client: Client, form: Form, settings: Any) -> None:
    settings.CONVERSION_MIN_FILL_SECONDS = 30

    response = client.post(
        embed_url(form), answers(started=form_token(form)), headers={"Origin": OWN}
    )

    assert response.status_code == 400
    assert stored() == NOTHING


def test_framed_form_sent_twice_counts_once(client: Client, form: Form) -> None:
    data = embed_answers(form)
    client.post(embed_url(form), data, headers={"Origin": OWN})
    response = client.post(embed_url(form), data, headers={"Origin": OWN})

    assert response.status_code == 200
    assert Submission.objects.count() == 1


def test_framed_form_rate_limit_answers_in_the_frame(
    client: Client, form: Form, settings: Any
) -> None:
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 1
    client.post(embed_url(form), embed_answers(form), headers={"Origin": OWN})

    response = client.post(
        embed_url(form), embed_answers(form, first_name="Otra"), headers={"Origin": OWN}
    )

    assert response.status_code == 429
    assert "site-header" not in response.content.decode()
    assert frame_ancestors(response) == ["'self'", SEDE, PORTAL]
    assert Submission.objects.count() == 1


def test_framed_form_too_large_is_refused(client: Client, form: Form, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post(
        embed_url(form), embed_answers(form, first_name="x" * 2000), headers={"Origin": OWN}
    )

    assert response.status_code == 413
    assert "site-header" not in response.content.decode()
    assert stored() == NOTHING


def test_thanks_link_to_the_forms_next_page_outside_the_frame(client: Client) -> None:
    form = demo_like_form(embed_origins=SEDE, redirect_path="/es/gracias/")

    response = client.post(embed_url(form), embed_answers(form), headers={"Origin": OWN})

    assert response.status_code == 200  # not redirected: our pages refuse to be framed
    assert 'href="/es/gracias/" target="_blank"' in response.content.decode()


# --- JSON: the definition ------------------------------------------------------------------------


def api_url(form: Form, *, submissions: bool = False) -> str:
    name = "form-submissions" if submissions else "form-detail"
    return reverse(f"conversion_api:{name}", kwargs={"slug": form.slug})


def test_definition_lists_the_fields_in_the_language_asked(client: Client, form: Form) -> None:
    FormField.objects.filter(form=form, key="first_name").update(label_es="Nombre")

    spanish = client.get(api_url(form), {"lang": "es"}).json()
    english = client.get(api_url(form), {"lang": "en"}).json()

    fields = {field["key"]: field for field in english["fields"]}
    assert list(fields) == [
        "email",
        "first_name",
        "postal_code",
        "topics",
        "newsletter",
        "remember",
    ]
    assert fields["email"] == {
        "key": "email",
        "kind": "email",
        "value_type": "text",
        "label": "Email",
        "help": "We only use it for this.",
        "required": True,
        "choices": [],
        "max_length": 254,
    }
    assert fields["topics"]["value_type"] == "list"
    assert {"value": "movilidad", "label": "Movilidad"} in fields["topics"]["choices"]
    assert fields["newsletter"]["value_type"] == "boolean"
    assert english["title"] == "Subscribe to the mobility newsletter"
    assert english["privacy"]["purpose"] == "Sending you the mobility newsletter."
    assert english["privacy"]["privacy_policy_url"].endswith("/en/privacy/")
    assert english["utm_fields"][0] == "utm_source"
    assert english["submittable"] is True
    assert english["submit_url"].endswith(api_url(form, submissions=True))
    form_token_check(form, english["token"])
    assert spanish["fields"][1]["label"] == "Nombre"
    assert spanish["title"] == "Suscríbete al boletín de movilidad"


def test_definition_language_follows_the_browser_without_lang(client: Client, form: Form) -> None:
    response = client.get(api_url(form), headers={"Accept-Language": "en-GB,en;q=0.8"})

    assert response.json()["language"] == "en"
    assert response["Content-Language"] == "en"
    assert "Accept-Language" in response["Vary"]


def test_definition_refuses_an_unknown_language(client: Client, form: Form) -> None:
    response = client.get(api_url(form), {"lang": "fr"})

    assert response.status_code == 400
    assert "lang" in response.json()["errors"]


def test_definition_of_an_unpublished_form_is_not_found(client: Client, form: Form) -> None:
    form.status = Form.Status.DRAFT
    form.save()

    assert client.get(api_url(form)).status_code == 404


# --- JSON: submissions ---------------------------------------------------------------------------


def payload(form: Form, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": form_token(form, at=time.time() - 60),
        "values": {
            "email": "lucia.vecina@correo.example",
            "first_name": "Lucía",
            "postal_code": "28999",
            "topics": ["movilidad"],
            "newsletter": True,
        },
        "utm": {"utm_source": "sede", "utm_medium": "embed"},
        "website": "",
    }
    body.update(overrides)
    return body


def send(client: Client, form: Form, body: Any, *, language: str = "es", **headers: str) -> Any:
    return client.post(
        f"{api_url(form, submissions=True)}?lang={language}",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_json_submission_is_stored_with_its_contact_and_touchpoint(
    client: Client, form: Form
) -> None:
    response = send(client, form, payload(form), language="en", Origin=SEDE)

    assert response.status_code == 201
    assert response.json() == {"status": "received", "message": SUCCESS}
    submission = Submission.objects.get()
    assert submission.values["topics"] == ["movilidad"]
    assert submission.utm == {"utm_source": "sede", "utm_medium": "embed"}
    assert submission.language == "en"
    assert not Contact.objects.exists()  # staged: applied once the citizen confirms
    assert not response.cookies
    effects_due()
    optin_confirm(optin_token(submission))
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name) == ("lucia.vecina@correo.example", "Lucía")
    assert Touchpoint.objects.filter(kind="form_submit", contact=contact).count() == 1


def test_json_errors_come_by_field_in_spanish(client: Client, form: Form) -> None:
    body = payload(form)
    body["values"].update(email="", postal_code="99999")

    response = send(client, form, body, language="es")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["email"] == ["Este campo es requerido."]  # as the form's page says it
    with translation.override("es"):
        expected = translation.gettext(
            "Enter a valid Spanish postal code: five digits, starting 01–52."
        )
    assert errors["postal_code"] == [expected]
    assert stored() == NOTHING


def test_json_errors_come_by_field_in_english(client: Client, form: Form) -> None:
    body = payload(form)
    body["values"].update(email="")

    response = send(client, form, body, language="en")

    assert response.json()["errors"] == {"email": ["This field is required."]}
    assert stored() == NOTHING


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"nickname": "x"}, "nickname"),
        ({"newsletter": "yes"}, "newsletter"),
        ({"topics": [1, 2]}, "topics"),
        ({"first_name": {"a": 1}}, "first_name"),
    ],
    ids=["unknown-field", "boolean-as-text", "list-of-numbers", "object-as-text"],
)
def test_json_values_of_the_wrong_shape_are_refused_by_field(
    client: Client, form: Form, values: dict[str, Any], key: str
) -> None:
    body = payload(form)
    body["values"].update(values)

    response = send(client, form, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [key]
    assert stored() == NOTHING


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda form: form_token(form, at=time.time() - STARTED_MAX_AGE - 60), "expired"),
        (lambda form: started_token(at=time.time() - 60), "not a token of this form"),
        (lambda form: "form:1:abc:def", "not a token of this form"),
    ],
    ids=["expired", "unbound", "forged"],
)
def test_json_submission_needs_a_live_token_of_the_form(
    client: Client, form: Form, token: Any, message: str
) -> None:
    response = send(client, form, payload(form, token=token(form)), language="en")

    assert response.status_code == 400
    assert message in response.json()["errors"]["token"][0]
    assert stored() == NOTHING


def test_json_submission_too_fast_is_refused(client: Client, form: Form, settings: Any) -> None:
    settings.CONVERSION_MIN_FILL_SECONDS = 30

    response = send(client, form, payload(form, token=form_token(form)), language="en")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]
    assert stored() == NOTHING


def test_json_submission_needs_json(client: Client, form: Form) -> None:
    response = client.post(
        api_url(form, submissions=True),
        data=json.dumps(payload(form)),
        content_type="text/plain",
    )

    assert response.status_code == 415
    assert stored() == NOTHING


def test_json_submission_too_large_is_refused(client: Client, form: Form, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = payload(form)
    body["values"]["first_name"] = "x" * 2000

    response = send(client, form, body)

    assert response.status_code == 413
    assert stored() == NOTHING


def test_json_honeypot_looks_received_and_stores_nothing(client: Client, form: Form) -> None:
    response = send(client, form, payload(form, website="http://spam.example"), language="en")

    assert response.status_code == 201
    assert response.json()["message"] == SUCCESS
    assert stored() == NOTHING


def test_json_submission_sent_twice_counts_once(client: Client, form: Form) -> None:
    body = payload(form)

    first = send(client, form, body)
    second = send(client, form, body)

    assert (first.status_code, second.status_code) == (201, 200)
    assert Submission.objects.count() == 1


def test_json_submission_from_an_unlisted_site_is_refused(client: Client, form: Form) -> None:
    response = send(client, form, payload(form), Origin=FOREIGN)

    assert response.status_code == 403
    assert stored() == NOTHING


def test_json_rate_limit_shares_the_forms_budget(client: Client, form: Form, settings: Any) -> None:
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 1
    send(client, form, payload(form))

    response = send(client, form, payload(form, values={"email": "otra@correo.example"}))

    assert response.status_code == 429
    assert Submission.objects.count() == 1


def test_a_form_with_a_required_file_cannot_be_sent_as_json(client: Client, form: Form) -> None:
    FormFieldFactory(form=form, key="document", kind=FormField.Kind.FILE, required=True)

    definition = client.get(api_url(form), {"lang": "en"}).json()
    response = send(client, form, payload(form), language="en")

    assert definition["submittable"] is False
    assert response.status_code == 400
    assert "Files cannot be sent here" in response.json()["errors"]["document"][0]
    assert stored() == NOTHING


def test_malformed_json_is_a_clear_400(client: Client, form: Form) -> None:
    response = client.post(
        api_url(form, submissions=True), data=b"{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]


def test_deeply_nested_json_is_a_clear_400(client: Client, form: Form) -> None:
    body = b'{"token": "x", "values": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = client.post(
        api_url(form, submissions=True), data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert stored() == NOTHING


# Whatever a client sends, never a 5xx and never a partial write.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(st.characters(codec=None, min_codepoint=0), max_size=50),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
value_keys = st.one_of(
    st.sampled_from(["email", "first_name", "postal_code", "topics", "newsletter", "remember"]),
    st.text(max_size=10),
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "token": st.one_of(st.just("VALID"), json_values),
        "values": st.one_of(st.dictionaries(value_keys, json_values, max_size=6), json_values),
        "utm": st.one_of(
            st.dictionaries(st.text(max_size=12), json_values, max_size=3), json_values
        ),
        "website": json_values,
    },
)


@given(body=bodies, language=st.sampled_from(["es", "en", "xx"]))
def test_json_endpoint_never_fails_with_a_server_error(
    client: Client, form: Form, settings: Any, body: dict[str, Any], language: str
) -> None:
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.CONVERSION_MIN_FILL_SECONDS = 0
    if body.get("token") == "VALID":
        body["token"] = form_token(form)
    before = stored()

    response = client.post(
        f"{api_url(form, submissions=True)}?lang={language}",
        data=json.dumps(body).encode("utf-8", "surrogatepass"),
        content_type="application/json",
    )

    assert response.status_code in {200, 201, 400}, response.content
    if response.status_code == 400:
        assert stored() == before
    else:
        assert Submission.objects.count() <= before[0] + 1


@given(
    pairs=st.lists(st.tuples(field_names, field_values), max_size=12),
    body=st.binary(max_size=1000),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "text/plain"]
    ),
    token=st.sampled_from(["valid", "other", ""]),
)
def test_framed_form_never_fails_with_a_server_error(
    client: Client,
    form: Form,
    settings: Any,
    pairs: list[tuple[str, str]],
    body: bytes,
    content_type: str,
    token: str,
) -> None:
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 1_000_000
    before = stored()
    tokens = {"valid": form_token(form, at=time.time() - 60), "other": started_token(), "": ""}
    if content_type == "application/x-www-form-urlencoded":
        body = encoded([*pairs, ("started", tokens[token])])

    response = client.post(
        embed_url(form), body, content_type=content_type, headers={"Origin": OWN}
    )

    assert response.status_code in {200, 400, 403, 413}, response.status_code
    if response.status_code != 200:
        assert stored() == before
    else:
        assert stored()[0] - before[0] in (0, 1)


# --- CORS ----------------------------------------------------------------------------------------


def test_cors_answers_a_listed_site_with_its_exact_origin(client: Client, form: Form) -> None:
    response = client.get(api_url(form), headers={"Origin": PORTAL})

    assert response["Access-Control-Allow-Origin"] == PORTAL
    assert "origin" in response["Vary"].lower()
    assert "Access-Control-Allow-Credentials" not in response


def test_cors_gives_an_unlisted_site_nothing(client: Client, form: Form) -> None:
    other = demo_like_form(slug="otro", embed_origins=FOREIGN)  # listed on another form only

    response = client.get(api_url(form), headers={"Origin": FOREIGN})

    assert response.status_code == 200  # a server may read it; a browser on that site may not
    assert "Access-Control-Allow-Origin" not in response
    assert (
        client.get(api_url(other), headers={"Origin": FOREIGN})["Access-Control-Allow-Origin"]
        == FOREIGN
    )


def test_cors_preflight_is_answered_for_a_listed_site(client: Client, form: Form) -> None:
    response = client.options(
        api_url(form, submissions=True),
        headers={
            "Origin": SEDE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SEDE
    assert {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")} == {
        "GET",
        "POST",
    }
    assert response["Access-Control-Allow-Headers"] == "content-type"
    assert "Access-Control-Allow-Credentials" not in response


def test_cors_preflight_from_an_unlisted_site_is_not_allowed(client: Client, form: Form) -> None:
    response = client.options(
        api_url(form, submissions=True),
        headers={"Origin": FOREIGN, "Access-Control-Request-Method": "POST"},
    )

    assert "Access-Control-Allow-Origin" not in response
    assert stored() == NOTHING


def test_cors_stays_off_the_rest_of_the_api(client: Client, form: Form) -> None:
    response = client.get("/api/v1/content/articles/", headers={"Origin": SEDE})

    assert "Access-Control-Allow-Origin" not in response


# --- Schema and admin ----------------------------------------------------------------------------


def test_schema_documents_the_form_endpoints(client: Client) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()

    definition = schema["paths"]["/api/v1/forms/{slug}/"]["get"]
    submission = schema["paths"]["/api/v1/forms/{slug}/submissions/"]["post"]
    assert definition["tags"] == ["forms (public)"]
    assert set(submission["responses"]) >= {"200", "201", "400", "403", "413", "415", "429"}
    assert "examples" in submission["requestBody"]["content"]["application/json"]


def test_admin_shows_the_embed_code_and_the_json_endpoint(
    marketer: Any, form: Form, settings: Any
) -> None:
    settings.SITE_URL = "https://participa.villaclara.es"
    staff = Client()
    staff.force_login(marketer)

    with translation.override("es"):
        html = staff.get(reverse("admin:conversion_form_change", args=[form.pk])).content.decode()

    snippet = f"&lt;iframe src=&quot;https://participa.villaclara.es{embed_url(form)}&quot;"
    assert snippet in html
    assert "title=&quot;Suscríbete al boletín de movilidad&quot;" in html
    assert f"https://participa.villaclara.es{api_url(form)}" in html


def test_admin_explains_how_to_get_the_code_when_no_site_is_listed(marketer: Any) -> None:
    form = demo_like_form()
    staff = Client()
    staff.force_login(marketer)

    with translation.override("en"):
        html = staff.get(reverse("admin:conversion_form_change", args=[form.pk])).content.decode()

    assert "&lt;iframe" not in html
    assert "List the sites that may embed this form" in html


def test_text_that_is_not_valid_unicode_is_a_clear_400(client: Client, form: Form) -> None:
    sent = payload(form)
    sent["values"]["first_name"] = "Luc\ud800a"  # a lone surrogate: valid JSON, not UTF-8
    body = json.dumps(sent)  # ASCII, with the surrogate as a \u escape

    response = client.post(
        api_url(form, submissions=True), data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert stored() == NOTHING


def test_one_api_token_sent_from_many_addresses_is_rate_limited_like_a_client(
    form: Form, settings: Any
) -> None:
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 3
    body = payload(form)
    answers = []
    for number in range(5):  # one token, five machines, five different addresses
        client = Client(REMOTE_ADDR=f"203.0.113.{number + 1}")
        values = {**body["values"], "email": f"vecina{number}@correo.example"}
        answers.append(send(client, form, {**body, "values": values}).status_code)

    assert answers == [201, 201, 201, 429, 429]
    assert Submission.objects.count() == 3

"""The citizen's side of the forms: sending, errors, anti-abuse, opt-in, preview, recognition."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from contacts.models import ConsentRecord, Contact, Subscription, Tombstone, Topic
from contacts.validation import email_hash
from conversion import services
from conversion.forms import started_token
from conversion.models import Form, FormField, SideEffect, Submission
from conversion.outbox import effects_due
from conversion.views import CONTACT_COOKIE
from tests.contacts.factories import ContactFactory, grant

pytestmark = pytest.mark.django_db

Kind = FormField.Kind
Target = FormField.Target
Purpose = ConsentRecord.Purpose

SUCCESS = "Thank you for signing up to the mobility newsletter."
NEWSLETTER_TEXT = "I want to receive the mobility newsletter by email."
TRACKING_TEXT = "Remember me on this device so I do not have to repeat my details."


def demo_like_form(*, slug: str = "boletin-movilidad", **overrides: Any) -> Form:
    """A published form like the demo one: e-mail, name, postal code, topics, two consents, UTM,
    and a progressive last-name field asked only of recognised contacts."""
    Topic.objects.get_or_create(slug="movilidad", defaults={"name": "Movilidad", "order": 1})
    Topic.objects.get_or_create(slug="obras", defaults={"name": "Obras", "order": 2})
    form = Form.objects.create(
        name=f"Mobility newsletter {slug}",
        slug=slug,
        title_es="Suscríbete al boletín de movilidad",
        title_en="Subscribe to the mobility newsletter",
        intro_en="News about buses, bike lanes and roadworks.",
        submit_label_en="Subscribe",
        success_message_es="Gracias por suscribirte al boletín de movilidad.",
        success_message_en=SUCCESS,
        purpose_notice_es="Enviarte el boletín de movilidad.",
        purpose_notice_en="Sending you the mobility newsletter.",
        status=Form.Status.PUBLISHED,
        **overrides,
    )
    fields: list[dict[str, Any]] = [
        {"key": "email", "kind": Kind.EMAIL, "label_en": "Email", "required": True,
         "target": Target.CONTACT, "target_key": "email",
         "help_text_en": "We only use it for this."},
        {"key": "first_name", "kind": Kind.TEXT, "label_en": "First name",
         "target": Target.CONTACT, "target_key": "first_name"},
        {"key": "postal_code", "kind": Kind.POSTAL_CODE, "label_en": "Postal code",
         "target": Target.CONTACT, "target_key": "postal_code"},
        {"key": "last_name", "kind": Kind.TEXT, "label_en": "Last name", "progressive": True,
         "target": Target.CONTACT, "target_key": "last_name"},
        {"key": "topics", "kind": Kind.TOPICS, "label_en": "Topics that interest you"},
        {"key": "newsletter", "kind": Kind.CONSENT, "label_en": "Newsletter",
         "consent_purpose": Purpose.NEWSLETTER, "consent_text_en": NEWSLETTER_TEXT,
         "consent_text_es": "Quiero recibir el boletín de movilidad.", "consent_version": "v1"},
        {"key": "remember", "kind": Kind.CONSENT, "label_en": "Remember me",
         "consent_purpose": Purpose.TRACKING, "consent_text_en": TRACKING_TEXT,
         "consent_text_es": "Recordarme en este dispositivo.", "consent_version": "v1"},
        {"key": "utm", "kind": Kind.UTM, "label_en": "Campaign"},
    ]  # fmt: skip
    for order, values in enumerate(fields):
        values.setdefault("label_es", values["label_en"])
        FormField.objects.create(form=form, order=order, **values)
    return form


def form_url(form: Form, name: str = "form", language: str = "en") -> str:
    with translation.override(language):
        return reverse(f"conversion:{name}", kwargs={"slug": form.slug})


def confirm_url(token: str, language: str = "en") -> str:
    with translation.override(language):
        return reverse("conversion:optin-confirm", kwargs={"token": token})


def answers(**values: Any) -> dict[str, Any]:
    """A complete, valid set of answers, sent a minute after the form was shown."""
    data: dict[str, Any] = {
        "email": "lucia.vecina@correo.example",
        "first_name": "Lucía",
        "postal_code": "28999",
        "topics": ["movilidad"],
        "newsletter": "on",
        "started": started_token(at=time.time() - 60),
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def stored() -> tuple[int, int, int, int, int]:
    return (
        Submission.objects.count(),
        Contact.objects.count(),
        ConsentRecord.objects.count(),
        Subscription.objects.count(),
        SideEffect.objects.count(),
    )


NOTHING = (0, 0, 0, 0, 0)


@pytest.fixture
def form() -> Form:
    return demo_like_form()


# --- The page -------------------------------------------------------------------------------------


def test_published_form_shows_its_fields_and_the_data_protection_notice(
    client: Client, form: Form
) -> None:
    response = client.get(form_url(form))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Subscribe to the mobility newsletter" in html
    assert 'autocomplete="email"' in html
    assert 'autocomplete="given-name"' in html
    assert 'autocomplete="postal-code"' in html
    assert "<legend>Topics that interest you" in html
    assert NEWSLETTER_TEXT in html
    assert "checked" not in html  # consent is never ticked for the citizen
    assert "Basic information on data protection" in html
    assert "Sending you the mobility newsletter." in html
    assert reverse("privacy") in html
    assert f'href="{reverse("contacts_public:data-request")}"' in html  # access, erasure
    assert 'aria-describedby="id_email_helptext"' in html
    assert "Last name" not in html  # progressive fields are for recognised contacts only


def test_form_page_sets_only_the_csrf_cookie_and_is_never_cached(
    client: Client, form: Form
) -> None:
    response = client.get(form_url(form))

    assert set(response.cookies) == {"csrftoken"}
    assert "no-cache" in response["Cache-Control"]


def test_form_page_is_in_spanish_under_es(client: Client, form: Form) -> None:
    response = client.get(form_url(form, language="es"))

    assert response.status_code == 200
    assert "Suscríbete al boletín de movilidad" in response.content.decode()


def test_unknown_form_is_not_found_in_the_visitors_language(client: Client) -> None:
    response = client.get(form_url(Form(slug="no-such-form")))

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("status", [Form.Status.DRAFT, Form.Status.ARCHIVED])
def test_unpublished_form_is_not_found(client: Client, status: str) -> None:
    form = demo_like_form(slug=f"form-{status}")
    Form.objects.filter(pk=form.pk).update(status=status)

    assert client.get(form_url(form)).status_code == 404
    assert client.post(form_url(form), answers()).status_code == 404
    assert client.get(form_url(form, "thanks")).status_code == 404
    assert stored() == NOTHING


def test_campaign_parameters_in_the_address_reach_the_submission(
    client: Client, form: Form
) -> None:
    page = client.get(form_url(form) + "?utm_source=bus&utm_campaign=otono")
    assert 'name="utm_source" value="bus"' in page.content.decode()

    client.post(form_url(form), answers(utm_source="bus", utm_campaign="otono"))

    assert Submission.objects.get().utm == {"utm_source": "bus", "utm_campaign": "otono"}


# --- Sending --------------------------------------------------------------------------------------


def test_a_valid_submission_is_stored_and_answered_with_the_thanks_page(
    client: Client, form: Form
) -> None:
    response = client.post(form_url(form), answers(), follow=True)

    assert response.redirect_chain == [(form_url(form, "thanks"), 302)]
    assert response.status_code == 200
    assert SUCCESS in response.content.decode()
    submission = Submission.objects.get()
    assert submission.values["email"] == "lucia.vecina@correo.example"
    assert submission.language == "en"
    assert submission.page == form_url(form)
    # Staged: nothing about anyone changes until the citizen confirms from the e-mail.
    assert not Contact.objects.exists() and not ConsentRecord.objects.exists()
    assert CONTACT_COOKIE not in response.cookies
    effects_due()
    assert mail.outbox[0].to == ["lucia.vecina@correo.example"]

    client.post(confirm_url(services.optin_token(submission)))

    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.postal_code) == (
        "lucia.vecina@correo.example",
        "Lucía",
        "28999",
    )
    consent = ConsentRecord.objects.get()
    assert (consent.purpose, consent.text) == (Purpose.NEWSLETTER, NEWSLETTER_TEXT)
    subscription = Subscription.objects.get()
    assert (subscription.topic.slug, subscription.status) == ("movilidad", "active")


def test_a_form_with_a_redirect_path_sends_the_citizen_there(client: Client) -> None:
    form = demo_like_form(redirect_path="/en/privacy/")

    response = client.post(form_url(form), answers())

    assert response.status_code == 302
    assert response["Location"] == "/en/privacy/"


def test_the_same_answers_sent_twice_are_stored_once(client: Client, form: Form) -> None:
    first = client.post(form_url(form), answers())
    second = client.post(form_url(form), answers(started=started_token(at=time.time() - 30)))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == form_url(form, "thanks")
    assert Submission.objects.count() == 1
    assert SideEffect.objects.count() == 1


def test_errors_are_shown_by_each_field_and_in_a_summary_and_nothing_is_stored(
    client: Client, form: Form
) -> None:
    response = client.post(form_url(form), answers(email="", postal_code="99999"))

    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert '<a href="#id_email">Email: This field is required.</a>' in html
    assert 'href="#id_postal_code"' in html
    assert 'id="id_email_error"' in html
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert 'aria-invalid="true"' in html
    assert "Enter a valid Spanish postal code" in html
    assert 'value="Lucía"' in html  # what the citizen typed is kept, to correct and resend
    assert stored() == NOTHING


def test_errors_are_in_the_citizens_language(client: Client, form: Form) -> None:
    response = client.post(form_url(form, language="es"), answers(email="no-es-un-correo"))

    assert response.status_code == 400
    with translation.override("es"):
        expected = translation.gettext("Enter a valid email address.")
    assert expected in response.content.decode()
    assert stored() == NOTHING


def test_an_erased_address_gets_the_same_answer_as_any_other_and_nothing_personal_is_kept(
    client: Client, form: Form
) -> None:
    other = client.post(form_url(form), answers(email="otra@correo.example"), follow=True)
    Tombstone.objects.create(email_hash=email_hash("lucia.vecina@correo.example"))

    erased = client.post(form_url(form), answers(), follow=True)

    assert erased.status_code == other.status_code == 200
    assert erased.redirect_chain == other.redirect_chain
    assert erased.content.decode().replace("otra@", "") == other.content.decode().replace(
        "otra@", ""
    )
    assert "erased" not in erased.content.decode()
    kept = Submission.objects.get(email_hash="")
    assert kept.values == {} and kept.email_hash == "" and kept.visitor_key == ""
    effects_due()
    assert [m.to for m in mail.outbox] == [["otra@correo.example"]]


# --- Anti-abuse -----------------------------------------------------------------------------------


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(
    client: Client, form: Form
) -> None:
    response = client.post(form_url(form), answers(website="http://spam.example"))

    assert response.status_code == 302
    assert response["Location"] == form_url(form, "thanks")
    assert stored() == NOTHING


def test_the_honeypot_is_hidden_from_people(client: Client, form: Form) -> None:
    html = client.get(form_url(form)).content.decode()

    hidden_block = html.split("<div hidden>", 1)[1].split("</div>", 1)[0]
    assert 'name="website"' in hidden_block
    assert 'tabindex="-1"' in hidden_block


def test_a_form_sent_too_fast_is_shown_again_with_a_clear_message(
    client: Client, form: Form, settings: Any
) -> None:
    settings.CONVERSION_MIN_FILL_SECONDS = 3

    response = client.post(form_url(form), answers(started=started_token()))

    assert response.status_code == 400
    assert "Please take a moment to check your answers" in response.content.decode()
    assert stored() == NOTHING


@pytest.mark.parametrize("started", ["", "garbage", "form:1:forged"])
def test_a_missing_or_forged_start_time_stores_nothing(
    client: Client, form: Form, settings: Any, started: str
) -> None:
    settings.CONVERSION_MIN_FILL_SECONDS = 0

    response = client.post(form_url(form), answers(started=started))

    assert response.status_code == 400
    assert stored() == NOTHING


def test_too_many_submissions_from_one_connection_get_429(
    client: Client, form: Form, settings: Any
) -> None:
    settings.CONVERSION_RATE_LIMIT_PER_MINUTE = 2
    for n in range(2):
        client.post(form_url(form), answers(email=f"vecina{n}@correo.example"))

    response = client.post(form_url(form), answers(email="otra@correo.example"))

    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert Submission.objects.count() == 2


def test_a_request_larger_than_allowed_gets_413_and_stores_nothing(
    client: Client, form: Form, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = client.post(form_url(form), answers(first_name="x" * 20_000))

    assert response.status_code == 413
    assert "The form is too large" in response.content.decode()
    assert stored() == NOTHING


def test_a_missing_csrf_token_gets_a_clear_403_and_stores_nothing(form: Form) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(form_url(form), answers())

    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
    assert stored() == NOTHING


def test_a_form_with_its_csrf_token_is_accepted(form: Form) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(form_url(form))
    token = client.cookies["csrftoken"].value

    response = client.post(form_url(form), answers(csrfmiddlewaretoken=token))

    assert response.status_code == 302
    assert Submission.objects.count() == 1


# --- Double opt-in --------------------------------------------------------------------------------


def sent(client: Client, form: Form) -> Submission:
    client.post(form_url(form), answers())
    return Submission.objects.get()


def test_opening_the_optin_link_asks_and_changes_nothing(client: Client, form: Form) -> None:
    submission = sent(client, form)

    response = client.get(confirm_url(services.optin_token(submission)))

    assert response.status_code == 200
    assert "Yes, confirm my subscription" in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    submission.refresh_from_db()
    assert submission.optin_confirmed_at is None
    assert not Subscription.objects.exists() and not Contact.objects.exists()


def test_confirming_activates_the_subscription_and_twice_is_harmless(
    client: Client, form: Form
) -> None:
    submission = sent(client, form)
    url = confirm_url(services.optin_token(submission))

    first = client.post(url)
    again = client.post(url)
    reopened = client.get(url)

    assert first.status_code == again.status_code == reopened.status_code == 200
    assert "Thank you: your subscription is confirmed." in first.content.decode()
    assert "You had already confirmed your subscription." in again.content.decode()
    assert "You had already confirmed your subscription." in reopened.content.decode()
    assert Subscription.objects.get().status == "active"
    submission.refresh_from_db()
    confirmed_at = submission.optin_confirmed_at
    assert confirmed_at is not None
    assert submission.contact is not None
    assert submission.contact.touchpoints.filter(kind="optin_confirmed").count() == 1


def test_a_tampered_optin_link_gets_a_clear_page_and_changes_nothing(
    client: Client, form: Form
) -> None:
    submission = sent(client, form)
    token = services.optin_token(submission)

    for method in (client.get, client.post):
        response = method(confirm_url(token[:-4] + "abcd"))
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    submission.refresh_from_db()
    assert submission.optin_confirmed_at is None
    assert not Subscription.objects.exists() and not Contact.objects.exists()


def test_an_expired_optin_link_gets_a_clear_page_and_changes_nothing(
    client: Client, form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    submission = sent(client, form)
    eight_days_ago = time.time() - 8 * 24 * 3600
    with monkeypatch.context() as m:  # the link signed with the clock set back eight days
        m.setattr(time, "time", lambda: eight_days_ago)
        token = services.optin_token(submission)

    response = client.post(confirm_url(token))

    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    assert "Nothing has been changed." in response.content.decode()
    submission.refresh_from_db()
    assert submission.optin_confirmed_at is None
    assert not Subscription.objects.exists() and not Contact.objects.exists()


def test_confirming_without_csrf_token_changes_nothing(form: Form) -> None:
    client = Client(enforce_csrf_checks=True)
    client.post(form_url(form), answers())  # refused: no token
    submission = sent(Client(), form)

    response = client.post(confirm_url(services.optin_token(submission)))

    assert response.status_code == 403
    submission.refresh_from_db()
    assert submission.optin_confirmed_at is None


# --- Staff preview --------------------------------------------------------------------------------


@pytest.fixture
def draft() -> Form:
    form = demo_like_form(slug="borrador")
    Form.objects.filter(pk=form.pk).update(status=Form.Status.DRAFT)
    form.refresh_from_db()
    return form


@pytest.mark.parametrize("persona", ["marketer", "analyst"])
def test_staff_who_may_view_forms_preview_a_draft(
    client: Client, draft: Form, persona: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.get(form_url(draft, "preview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview — not published" in html
    assert "Subscribe to the mobility newsletter" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "disabled" in html.split('<button type="submit"')[-1].split(">")[0]


def test_the_preview_accepts_no_submission(client: Client, draft: Form, marketer: Any) -> None:
    client.force_login(marketer)

    response = client.post(form_url(draft, "preview"), answers())

    assert response.status_code == 405
    assert stored() == NOTHING


def test_an_editor_may_not_preview_forms(client: Client, draft: Form, editor: Any) -> None:
    client.force_login(editor)

    assert client.get(form_url(draft, "preview")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in_for_a_preview(client: Client, draft: Form) -> None:
    response = client.get(form_url(draft, "preview"))

    assert response.status_code == 302
    assert "login" in response["Location"]


# --- Progressive profiling ------------------------------------------------------------------------


@pytest.fixture
def known_contact() -> Contact:
    return ContactFactory.create(
        email="conocida@correo.example", first_name="Remedios", last_name="", postal_code="46001"
    )


def test_a_contact_from_our_email_sees_new_questions_not_known_ones(
    client: Client, form: Form, known_contact: Contact
) -> None:
    token = services.contact_token(known_contact)

    response = client.get(form_url(form) + f"?c={token}")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="first_name"' not in html
    assert 'name="postal_code"' not in html
    assert 'name="last_name"' in html  # the progressive question
    assert 'name="email"' in html
    for personal in ("Remedios", "conocida@correo.example", "46001"):
        assert personal not in html  # never prefilled: a forwarded link must not show them


def test_a_tampered_contact_token_is_ignored(
    client: Client, form: Form, known_contact: Contact
) -> None:
    token = services.contact_token(known_contact)

    html = client.get(form_url(form) + f"?c={token[:-3]}xyz").content.decode()

    assert 'name="first_name"' in html
    assert 'name="last_name"' not in html


def _confirmed(client: Client, form: Form, **changes: Any) -> Any:
    """Send the form, let the relay run, confirm from the e-mail: the confirmation's answer."""
    sent = client.post(form_url(form), answers(**changes))
    assert CONTACT_COOKIE not in sent.cookies  # never before the address is confirmed
    effects_due()
    submission = Submission.objects.order_by("-pk").first()
    assert submission is not None
    return client.post(confirm_url(services.optin_token(submission)))


def test_the_recognition_cookie_is_set_only_after_confirmation_with_tracking_consent(
    client: Client, form: Form
) -> None:
    without = _confirmed(client, form)
    assert CONTACT_COOKIE not in without.cookies

    response = _confirmed(client, form, email="recuerdame@correo.example", remember="on")

    cookie = response.cookies[CONTACT_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 180 * 24 * 3600
    html = client.get(form_url(form)).content.decode()
    assert 'name="last_name"' in html
    assert 'name="first_name"' not in html
    assert "Lucía" not in html and "recuerdame@correo.example" not in html


def test_the_recognition_cookie_stops_working_when_consent_is_withdrawn(
    client: Client, form: Form
) -> None:
    _confirmed(client, form, remember="on")
    contact = Contact.objects.get()
    grant(contact, Purpose.TRACKING, action=ConsentRecord.Action.WITHDRAWN)

    html = client.get(form_url(form)).content.decode()

    assert 'name="first_name"' in html
    assert 'name="last_name"' not in html

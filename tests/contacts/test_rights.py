"""Citizens' rights: preference centre by signed link, data download, erasure, retention."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
import zipfile
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.conf.urls.i18n import i18n_patterns
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, include, path, reverse
from django.utils import timezone, translation

import inbound.urls
from contacts import links, rights
from contacts.models import (
    ConsentRecord,
    Contact,
    Persona,
    Segment,
    SegmentMember,
    Subscription,
    Tag,
    Tombstone,
    Touchpoint,
    UsedToken,
)
from contacts.selectors import may_email
from contacts.services import contact_upsert, touchpoint_record
from inbound.celery import app as celery_app
from inbound.lib.errors import DomainError
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory, TopicFactory, grant


def _urlpatterns() -> list[URLPattern | URLResolver]:
    """The project's URLs, plus the citizens' rights pages until the lead includes them."""
    patterns = list(inbound.urls.urlpatterns)
    try:
        reverse("contacts_public:preferences-request", urlconf=inbound.urls)
    except NoReverseMatch:
        patterns += i18n_patterns(path("", include("contacts.urls_public")))
    return patterns


urlpatterns = _urlpatterns()
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Purpose = ConsentRecord.Purpose


def url(name: str, language: str = "es", **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(f"contacts_public:{name}", kwargs=kwargs or None)


def token_for(contact: Contact, purpose: str = rights.PREFERENCES) -> str:
    return rights.rights_token_make(contact=contact, purpose=purpose)


def old_token(monkeypatch: pytest.MonkeyPatch, contact: Contact, purpose: str, age: float) -> str:
    """A token signed `age` seconds ago: the signer's clock is set back while signing."""
    signed_at = time.time() - age
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: signed_at)
        return token_for(contact, purpose)


@pytest.fixture
def topics() -> dict[str, Any]:
    return {
        "obras": TopicFactory(slug="obras", name="Obras", order=1),
        "cultura": TopicFactory(slug="cultura", name="Cultura", order=2),
        "interno": TopicFactory(slug="interno", name="Interno", is_public=False),
    }


@pytest.fixture
def vecina(topics: dict[str, Any]) -> Contact:
    contact = ContactFactory(email="lucia.perez@correo.example", first_name="Lucía",
                             last_name="Pérez", phone="+34600123456", postal_code="28001",
                             district="Centro", birth_year=1980, language="es")  # fmt: skip
    Subscription.objects.create(contact=contact, topic=topics["obras"], status="active")
    grant(contact, Purpose.TOPIC, topics["obras"])
    grant(contact, Purpose.NEWSLETTER)
    return contact


@pytest.fixture
def eager_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run enqueued tasks in-process, so their emails land in the test outbox."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def save_preferences(client: Client, token: str, page_language: str = "es", **data: Any) -> Any:
    payload = {"language": "es", "pause": "none", **data}
    return client.post(url("preferences", page_language, token=token), payload)


# --- Signed links ---------------------------------------------------------------------------


def test_preference_centre_shows_public_topics_with_current_subscriptions_ticked(
    client: Client, vecina: Contact, topics: dict[str, Any]
) -> None:
    response = client.get(url("preferences", token=token_for(vecina)))

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Elige qué puede enviar {django_settings.INSTITUTION['name']} a" in page
    assert "lucia.perez@correo.example" in page
    assert "Obras" in page and "Cultura" in page and "Interno" not in page
    form = response.context["form"]
    assert set(form["topics"].value()) == {topics["obras"].pk}
    assert form["newsletter"].value() is True
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_tampered_token_answers_400_and_shows_no_data(client: Client, vecina: Contact) -> None:
    token = token_for(vecina)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = client.get(url("preferences", token=tampered))

    assert response.status_code == 400
    assert "Este enlace no es válido" in response.content.decode()
    assert "lucia.perez" not in response.content.decode()
    assert not response.cookies


def test_token_for_one_purpose_does_not_open_another(client: Client, vecina: Contact) -> None:
    crossings = [
        ("data-download", token_for(vecina)),
        ("data-erase", token_for(vecina)),
        ("data-download", token_for(vecina, rights.ERASURE)),
        ("data-erase", token_for(vecina, rights.DATA_EXPORT)),
        ("preferences", token_for(vecina, rights.DATA_EXPORT)),
    ]
    for name, token in crossings:
        for method in ("get", "post"):
            response = getattr(client, method)(url(name, token=token), {"confirm": "on"})

            assert response.status_code == 400, (name, method)
            page = response.content.decode()
            assert "Este enlace no es válido" in page and "lucia.perez" not in page
    vecina.refresh_from_db()
    assert not vecina.is_anonymised
    assert not AuditEntry.objects.filter(action="data_exported_by_citizen").exists()


def test_data_links_expire_after_an_hour(
    client: Client, vecina: Contact, monkeypatch: pytest.MonkeyPatch
) -> None:
    for purpose, name in ((rights.DATA_EXPORT, "data-download"), (rights.ERASURE, "data-erase")):
        fresh = old_token(monkeypatch, vecina, purpose, age=59 * 60)
        stale = old_token(monkeypatch, vecina, purpose, age=61 * 60)

        assert client.get(url(name, token=fresh)).status_code == 200
        expired = client.post(url(name, "en", token=stale), {"confirm": "on"})
        assert expired.status_code == 410
        page = expired.content.decode()
        assert "This link has expired" in page
        assert f'action="{url("data-request", "en")}"' in page
        assert re.search(rf'value="{purpose}"[^>]* checked', page)  # the same kind of link
    vecina.refresh_from_db()
    assert not vecina.is_anonymised
    assert not AuditEntry.objects.filter(action="data_exported_by_citizen").exists()


def test_link_dies_when_the_email_changes(client: Client, vecina: Contact) -> None:
    token = token_for(vecina)
    Contact.objects.filter(pk=vecina.pk).update(email="otra@correo.example")

    assert client.get(url("preferences", token=token)).status_code == 400


# --- Preferences ----------------------------------------------------------------------------


def test_every_topic_change_is_recorded_in_the_ledger_with_text_and_version(
    client: Client, vecina: Contact, topics: dict[str, Any]
) -> None:
    before = ConsentRecord.objects.count()

    response = save_preferences(
        client, token_for(vecina), topics=[topics["cultura"].pk], newsletter="on",
        REMOTE_ADDR="203.0.113.9",
    )  # fmt: skip

    assert response.status_code == 302
    records = {
        r.topic.slug: r
        for r in ConsentRecord.objects.filter(contact=vecina, purpose=Purpose.TOPIC).order_by("id")
        if r.topic
    }
    assert ConsentRecord.objects.count() == before + 2  # newsletter unchanged: no record
    assert records["cultura"].action == "granted"
    assert records["obras"].action == "withdrawn"
    for record in (records["cultura"], records["obras"]):
        assert record.source == ConsentRecord.Source.PREFERENCE_CENTRE
        assert record.text_version == rights.CONSENT_TEXT_VERSION
        assert "Cultura" in records["cultura"].text and record.text.strip()
        assert record.legal_basis == ConsentRecord.LegalBasis.CONSENT
    statuses = dict(Subscription.objects.filter(contact=vecina).values_list("topic__slug",
                                                                             "status"))  # fmt: skip
    assert statuses == {"obras": "unsubscribed", "cultura": "active"}
    assert may_email(contact=vecina, purpose=Purpose.TOPIC, topic=topics["cultura"])
    assert not may_email(contact=vecina, purpose=Purpose.TOPIC, topic=topics["obras"])
    touchpoint = Touchpoint.objects.get(contact=vecina, kind="preferences_updated")
    assert touchpoint.properties["topics_added"] == ["cultura"]
    assert touchpoint.properties["topics_removed"] == ["obras"]


def test_the_ledger_keeps_no_ip_derived_value(client: Client, vecina: Contact) -> None:
    """The ledger outlives erasure: a hash of the address there would be a lasting trace."""
    save_preferences(client, token_for(vecina), REMOTE_ADDR="203.0.113.9")

    record = ConsentRecord.objects.filter(contact=vecina, action="withdrawn").first()
    assert record is not None
    assert record.ip_hash == ""


def test_saving_shows_the_success_message_in_the_citizens_language(
    client: Client, vecina: Contact, topics: dict[str, Any]
) -> None:
    response = save_preferences(
        client, token_for(vecina), "en", topics=[topics["obras"].pk], newsletter="on"
    )
    page = client.get(response["Location"])

    assert page.status_code == 200
    assert "Your preferences have been saved." in page.content.decode()
    assert page.context["LANGUAGE_CODE"] == "en"


def test_newsletter_withdrawal_is_recorded(client: Client, vecina: Contact) -> None:
    save_preferences(client, token_for(vecina))

    latest = ConsentRecord.objects.filter(contact=vecina, purpose=Purpose.NEWSLETTER).first()
    assert latest is not None and latest.action == "withdrawn"
    assert not may_email(contact=vecina, purpose=Purpose.NEWSLETTER)


def test_pausing_for_three_months_stops_every_email_but_service(
    client: Client, vecina: Contact, topics: dict[str, Any]
) -> None:
    save_preferences(client, token_for(vecina), topics=[topics["obras"].pk], newsletter="on",
                     pause="3")  # fmt: skip

    vecina.refresh_from_db()
    today = timezone.localdate()
    assert vecina.email_paused_until is not None
    assert 89 <= (vecina.email_paused_until - today).days <= 92
    assert not may_email(contact=vecina, purpose=Purpose.NEWSLETTER)
    assert not may_email(contact=vecina, purpose=Purpose.TOPIC, topic=topics["obras"])
    assert may_email(contact=vecina, purpose=Purpose.SERVICE)


def test_pausing_until_a_date_and_resuming(client: Client, vecina: Contact) -> None:
    until = timezone.localdate() + dt.timedelta(days=10)
    save_preferences(client, token_for(vecina), newsletter="on", pause="date",
                     pause_date=until.isoformat())  # fmt: skip
    vecina.refresh_from_db()
    assert vecina.email_paused_until == until

    save_preferences(client, token_for(vecina), newsletter="on", pause="none")
    vecina.refresh_from_db()
    assert vecina.email_paused_until is None
    assert may_email(contact=vecina, purpose=Purpose.NEWSLETTER)


def test_a_pause_date_in_the_past_is_refused_with_a_message(
    client: Client, vecina: Contact
) -> None:
    response = save_preferences(client, token_for(vecina), "en", pause="date",
                                pause_date="2000-01-01")  # fmt: skip

    assert response.status_code == 400
    assert "Enter a date in the future." in response.content.decode()
    vecina.refresh_from_db()
    assert vecina.email_paused_until is None


def test_preferred_language_is_saved(client: Client, vecina: Contact) -> None:
    save_preferences(client, token_for(vecina), language="gl", newsletter="on")

    vecina.refresh_from_db()
    assert vecina.language == "gl"


def test_unsubscribe_all_leaves_only_service_email(
    client: Client, vecina: Contact, topics: dict[str, Any]
) -> None:
    Subscription.objects.create(contact=vecina, topic=topics["interno"], status="active")
    grant(vecina, Purpose.TOPIC, topics["interno"])
    token = token_for(vecina)

    response = client.post(url("preferences-unsubscribe", token=token))

    assert response.status_code == 302
    vecina.refresh_from_db()
    assert vecina.email_status == Contact.EmailStatus.UNSUBSCRIBED
    for topic in topics.values():
        assert not may_email(contact=vecina, purpose=Purpose.TOPIC, topic=topic)
        latest = ConsentRecord.objects.filter(contact=vecina, topic=topic).first()
        assert latest is None or latest.action == "withdrawn"
    assert not may_email(contact=vecina, purpose=Purpose.NEWSLETTER)
    assert may_email(contact=vecina, purpose=Purpose.SERVICE)
    assert not Subscription.objects.filter(contact=vecina, status="active").exists()
    assert Touchpoint.objects.filter(contact=vecina, kind="unsubscribe").exists()
    page = client.get(response["Location"]).content.decode()
    assert "Te has dado de baja de todos los correos." in page


def test_forms_are_protected_against_csrf(vecina: Contact) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(url("preferences-unsubscribe", token=token_for(vecina)))

    assert response.status_code == 403
    vecina.refresh_from_db()
    assert vecina.email_status == Contact.EmailStatus.ACTIVE


# --- Asking for a link: no enumeration, rate limited -----------------------------------------


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(
    client: Client, vecina: Contact, eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url("preferences-request"), {"email": "LUCIA.perez@correo.example"})
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(url("preferences-request"), {"email": "nadie@correo.example"})

    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert "Si esa dirección está en nuestras listas" in known.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lucia.perez@correo.example"]


def test_the_emailed_link_opens_the_preference_centre(
    client: Client, vecina: Contact, eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("preferences-request", "en"), {"email": vecina.email})

    message = mail.outbox[0]
    assert message.subject.startswith("Your email preferences")
    assert "The link works for 30 days." in message.body
    assert django_settings.INSTITUTION["name"] in message.body
    link = next(line for line in message.body.splitlines() if "/en/" in line).strip()
    path_only = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path_only)
    assert response.status_code == 200
    assert response.context["contact"] == vecina


def test_data_request_emails_a_download_link_in_the_citizens_language(
    client: Client, vecina: Contact, eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("data-request", "es"), {"purpose": rights.DATA_EXPORT, "email": vecina.email}
        )

    assert response.status_code == 200
    assert "El enlace funciona durante 60 minutos y una sola vez." in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "/es/mis-datos/" in message.body
    assert "El enlace funciona durante 60 minutos y una sola vez." in message.body
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    assert 'lang="es"' in html


def test_erasure_request_emails_an_erasure_link(
    client: Client, vecina: Contact, eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("data-request", "en"), {"purpose": rights.ERASURE, "email": vecina.email})

    [message] = mail.outbox
    assert message.subject.startswith("Erase your personal data")
    link = next(line for line in message.body.splitlines() if "/en/" in line).strip()
    assert "/en/my-data/erase/" in link
    response = Client().get("/" + link.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200
    assert "Erase your personal data" in response.content.decode()
    vecina.refresh_from_db()
    assert not vecina.is_anonymised


def test_the_data_request_needs_a_choice_and_an_address(client: Client) -> None:
    response = client.post(url("data-request", "en"), {"email": "no es una dirección"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose what you want to do." in page
    assert "Enter a valid email address." in page
    assert mail.outbox == []


def test_erased_contacts_get_no_link(vecina: Contact) -> None:
    rights.contact_anonymise(contact=vecina, reason="test")

    assert not rights.rights_link_email(contact=vecina, purpose=rights.PREFERENCES)
    assert mail.outbox == []


def test_too_many_link_requests_from_one_address_get_429(client: Client) -> None:
    data = {"purpose": rights.DATA_EXPORT, "email": "x@correo.example"}
    for _ in range(rights.RATE_LIMIT_PER_HOUR):
        assert client.post(url("data-request", "en"), data).status_code == 200

    response = client.post(url("data-request", "en"), data)

    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    other = client.post(url("data-request"), data, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200


def test_one_address_gets_a_limited_number_of_link_emails_a_day_whoever_asks(
    client: Client, vecina: Contact, eager_celery: None, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    settings.RIGHTS_EMAILS_PER_ADDRESS_PER_DAY = 3
    answers = []
    for attempt, purpose in enumerate(
        [rights.PREFERENCES, rights.DATA_EXPORT, rights.ERASURE, rights.DATA_EXPORT]
    ):
        name = "preferences-request" if purpose == rights.PREFERENCES else "data-request"
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url(name, "en"),
                {"purpose": purpose, "email": vecina.email.upper()},
                REMOTE_ADDR=f"198.51.100.{attempt + 1}",  # a new connection each time
            )
        answers.append((response.status_code, "Check your email" in response.content.decode()))

    assert answers == [(200, True)] * 4  # the fourth is answered the same, and sends nothing
    assert len(mail.outbox) == 3
    assert mail.outbox[-1].subject.startswith("Erase your personal data")


# --- Access and portability ------------------------------------------------------------------


def open_zip(content: bytes) -> tuple[dict[str, Any], str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == ["README.txt", "data.html", "data.json"]
        return json.loads(archive.read("data.json")), archive.read("README.txt").decode()


def test_the_data_download_holds_everything_we_know(
    client: Client, vecina: Contact, topics: dict[str, Any]
) -> None:
    vecina.tags.add(Tag.objects.create(name="voluntaria"))
    vecina.persona = Persona.objects.create(name="Vecina activa")
    vecina.properties = {"mascotas": 2}
    vecina.save()
    SegmentMember.objects.create(
        segment=Segment.objects.create(name="Feria 2026", kind="static"), contact=vecina
    )
    touchpoint_record(kind="survey_response", contact=vecina, properties={"score": 9})

    response = client.post(url("data-download", "en", token=token_for(vecina, rights.DATA_EXPORT)))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    data, readme = open_zip(response.content)
    assert data["contact"]["email"] == "lucia.perez@correo.example"
    assert data["contact"]["phone"] == "+34600123456"
    assert data["contact"]["custom_properties"] == {"mascotas": 2}
    assert data["contact"]["tags"] == ["voluntaria"]
    assert data["contact"]["persona"] == "Vecina activa"
    assert data["contact"]["static_lists"] == ["Feria 2026"]
    assert data["subscriptions"][0]["topic"] == "obras"
    assert {c["purpose"] for c in data["consents"]} == {"topic", "newsletter"}
    assert all(c["text"] and c["text_version"] for c in data["consents"])
    assert data["touchpoints"][-1] == {
        "occurred_at": data["touchpoints"][-1]["occurred_at"],
        "kind": "survey_response",
        "stage": "delight",
        "properties": {"score": 9},
    }
    assert "data.json" in readme and "consents" in readme
    entry = AuditEntry.objects.get(action="data_exported_by_citizen")
    assert entry.actor is None and entry.object_id == str(vecina.pk)


def test_the_readme_is_in_the_citizens_language(client: Client, vecina: Contact) -> None:
    response = client.post(url("data-download", "en", token=token_for(vecina, rights.DATA_EXPORT)))

    _data, readme = open_zip(response.content)
    assert "Your personal data held by" in readme


def test_opening_the_data_link_only_shows_a_button(client: Client, vecina: Contact) -> None:
    """A mail scanner follows the link (GET): it must download nothing and spend nothing."""
    token = token_for(vecina, rights.DATA_EXPORT)

    opened = client.get(url("data-download", "en", token=token))

    assert opened.status_code == 200
    assert opened["Content-Type"].startswith("text/html")
    page = opened.content.decode()
    assert "Download my data" in page and 'method="post"' in page
    assert "lucia.perez" not in page
    assert not AuditEntry.objects.filter(action="data_exported_by_citizen").exists()
    assert not UsedToken.objects.exists()
    assert client.post(url("data-download", token=token))["Content-Type"] == "application/zip"


def test_the_download_button_is_protected_against_csrf(vecina: Contact) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(url("data-download", token=token_for(vecina, rights.DATA_EXPORT)))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="data_exported_by_citizen").exists()


def test_a_data_link_works_only_once(client: Client, vecina: Contact) -> None:
    token = token_for(vecina, rights.DATA_EXPORT)
    assert client.post(url("data-download", token=token))["Content-Type"] == "application/zip"

    for method in ("get", "post"):
        again = getattr(client, method)(url("data-download", token=token))

        assert again.status_code == 410
        page = again.content.decode()
        assert "Este enlace ya se ha usado" in page
        assert f'action="{url("data-request")}"' in page
        assert "lucia.perez" not in page
    assert AuditEntry.objects.filter(action="data_exported_by_citizen").count() == 1
    # A link asked for afresh works.
    fresh = client.post(url("data-download", token=token_for(vecina, rights.DATA_EXPORT)))
    assert fresh["Content-Type"] == "application/zip"


def test_the_preference_centre_neither_downloads_nor_erases(
    client: Client, vecina: Contact
) -> None:
    token = token_for(vecina)
    preferences = url("preferences", "en", token=token)

    page = client.get(preferences).content.decode()

    assert f'href="{url("data-request", "en")}"' in page
    assert "Download my data" not in page and "Erase my data" not in page
    for old_action in ("download", "delete"):
        assert client.post(f"{preferences}{old_action}/", {"confirm": "on"}).status_code == 404
    vecina.refresh_from_db()
    assert not vecina.is_anonymised
    assert not AuditEntry.objects.filter(action="data_exported_by_citizen").exists()


# --- Erasure ---------------------------------------------------------------------------------


def test_erasure_asks_for_confirmation_first(client: Client, vecina: Contact) -> None:
    token = token_for(vecina, rights.ERASURE)
    opened = client.get(url("data-erase", "en", token=token))
    assert opened.status_code == 200
    assert 'method="post"' in opened.content.decode()

    response = client.post(url("data-erase", "en", token=token), {})

    assert response.status_code == 400
    assert "Tick the box to confirm." in response.content.decode()
    vecina.refresh_from_db()
    assert not vecina.is_anonymised
    assert not UsedToken.objects.exists()  # the link still works


def test_erasure_erases_the_citizen_and_the_link_dies(client: Client, vecina: Contact) -> None:
    erase = token_for(vecina, rights.ERASURE)
    preferences = token_for(vecina)

    response = client.post(url("data-erase", "en", token=erase), {"confirm": "on"})

    assert response.status_code == 200
    assert "Your data has been erased" in response.content.decode()
    vecina.refresh_from_db()
    assert vecina.is_anonymised and vecina.email is None
    assert Tombstone.objects.count() == 1
    assert client.get(url("preferences", token=preferences)).status_code == 400
    # Clicked twice (or the e-mail replayed): a clear page, and nothing more happens.
    again = client.post(url("data-erase", "en", token=erase), {"confirm": "on"})
    assert again.status_code == 410
    assert "This link has already been used" in again.content.decode()
    assert AuditEntry.objects.filter(action="contact_anonymised").count() == 1


def test_the_erase_button_is_protected_against_csrf(vecina: Contact) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        url("data-erase", token=token_for(vecina, rights.ERASURE)), {"confirm": "on"}
    )

    assert response.status_code == 403
    vecina.refresh_from_db()
    assert not vecina.is_anonymised


def test_a_tampered_erasure_link_erases_nothing(client: Client, vecina: Contact) -> None:
    token = token_for(vecina, rights.ERASURE)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = client.post(url("data-erase", "en", token=tampered), {"confirm": "on"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "This link is not valid" in page
    assert f'href="{url("data-request", "en")}"' in page
    vecina.refresh_from_db()
    assert not vecina.is_anonymised


def test_used_links_are_forgotten_once_they_would_have_expired(
    client: Client, vecina: Contact
) -> None:
    token = token_for(vecina, rights.DATA_EXPORT)
    client.post(url("data-download", token=token))
    [used] = UsedToken.objects.all()
    assert token not in used.token_hash

    assert links.used_tokens_purge(now=used.expires_at - dt.timedelta(seconds=1)) == 0
    assert links.used_tokens_purge(now=used.expires_at + dt.timedelta(seconds=1)) == 1
    assert not UsedToken.objects.exists()


def test_anonymisation_leaves_no_personal_data_anywhere(
    vecina: Contact, topics: dict[str, Any], marketer: Any
) -> None:
    vecina.tags.add(Tag.objects.create(name="voluntaria"))
    vecina.properties = {"mascotas": 2}
    vecina.save()
    segment = Segment.objects.create(name="Feria", kind="static")
    SegmentMember.objects.create(segment=segment, contact=vecina)
    touchpoint_record(
        kind="form_submit", contact=vecina, visitor_key="v-123",
        properties={"email": "lucia.perez@correo.example", "message": "Soy Lucía Pérez",
                    "field_count": 3, "form": "inscripcion"},
    )  # fmt: skip
    created_at = vecina.created_at

    rights.contact_anonymise(contact=vecina, actor=marketer, reason="RGPD art. 17, ref 42")

    vecina.refresh_from_db()
    row = {f.attname: getattr(vecina, f.attname) for f in Contact._meta.concrete_fields}
    identity = ["lucia", "pérez", "perez", "600123456", "28001", "centro", "1980"]
    text = json.dumps(row, default=str).lower()
    assert not [i for i in identity if i in text], text
    assert vecina.anonymised_at is not None
    assert vecina.email_status == Contact.EmailStatus.UNSUBSCRIBED
    assert vecina.created_at == created_at and vecina.source == Contact.Source.MANUAL
    assert not vecina.tags.exists()
    assert not Subscription.objects.filter(contact=vecina).exists()
    assert not SegmentMember.objects.filter(contact=vecina).exists()
    # Touchpoints survive for aggregates, unlinked and scrubbed of identifying text.
    touchpoint = Touchpoint.objects.get(kind="form_submit")
    assert touchpoint.contact_id is None and touchpoint.visitor_key == ""
    assert touchpoint.properties == {
        "email": "[erased]",
        "message": "Soy [erased]",
        "field_count": 3,
        "form": "inscripcion",
    }
    # The ledger stays as proof, on a row that no longer says who it was.
    assert ConsentRecord.objects.filter(contact=vecina).count() == 2
    assert Tombstone.objects.count() == 1
    entry = AuditEntry.objects.get(action="contact_anonymised")
    assert entry.actor == marketer and entry.detail["reason"] == "RGPD art. 17, ref 42"
    assert "lucia" not in entry.object_repr.lower()


def test_a_tombstone_stops_imports_bringing_the_person_back(vecina: Contact) -> None:
    rights.contact_anonymise(contact=vecina, reason="test")

    with pytest.raises(DomainError):
        contact_upsert(email="Lucia.Perez@correo.example", respect_tombstones=True)
    assert not Contact.objects.filter(email__iexact="lucia.perez@correo.example").exists()


def test_staff_can_anonymise_from_the_admin_with_a_reason(
    client: Client, vecina: Contact, marketer: Any
) -> None:
    client.force_login(marketer)
    changelist = reverse("admin:contacts_contact_changelist")
    selection = {"action": "contacts_anonymise", "_selected_action": [vecina.pk]}

    confirm = client.post(changelist, selection)
    assert confirm.status_code == 200
    assert "lucia.perez@correo.example" in confirm.content.decode()
    vecina.refresh_from_db()
    assert not vecina.is_anonymised

    done = client.post(changelist, {**selection, "confirmed": "yes", "reason": "ref 42"})

    assert done.status_code == 302
    vecina.refresh_from_db()
    assert vecina.is_anonymised
    assert AuditEntry.objects.get(action="contact_anonymised").actor == marketer


def test_staff_download_a_citizens_data_and_it_is_audited(
    client: Client, vecina: Contact, marketer: Any
) -> None:
    client.force_login(marketer)

    response = client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "contacts_data_download", "_selected_action": [vecina.pk]},
    )

    assert response.status_code == 200
    data, _readme = open_zip(response.content)
    assert data["contact"]["email"] == vecina.email
    assert AuditEntry.objects.get(action="contact_data_exported").actor == marketer


def test_staff_send_a_citizen_their_data_link_by_email(
    client: Client, vecina: Contact, marketer: Any,
    eager_celery: None, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    client.force_login(marketer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:contacts_contact_changelist"),
            {"action": "contacts_data_link_send", "_selected_action": [vecina.pk]},
        )

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["lucia.perez@correo.example"]]
    with translation.override("es"):  # the citizen's language, not the staff member's
        assert mail.outbox[0].subject.startswith(
            translation.gettext("Download a copy of your data")
        )
    assert AuditEntry.objects.get(action="contact_data_link_sent").actor == marketer


def test_analysts_cannot_export_or_anonymise(
    client: Client, vecina: Contact, analyst: Any
) -> None:
    client.force_login(analyst)
    changelist = reverse("admin:contacts_contact_changelist")

    for action in ("contacts_data_download", "contacts_anonymise"):
        response = client.post(changelist, {"action": action, "_selected_action": [vecina.pk]})
        assert response.get("Content-Type") != "application/zip"
    vecina.refresh_from_db()
    assert not vecina.is_anonymised
    assert not AuditEntry.objects.filter(action__in=["contact_data_exported",
                                                     "contact_anonymised"]).exists()  # fmt: skip


# --- Retention -------------------------------------------------------------------------------


def test_retention_sweep_anonymises_exactly_the_lapsed_contacts(
    topics: dict[str, Any], settings: Any
) -> None:
    settings.CONTACT_RETENTION_MONTHS = 24
    now = timezone.now()
    long_ago = now - dt.timedelta(days=800)
    recent = now - dt.timedelta(days=100)

    def contact(name: str, **fields: Any) -> Contact:
        return ContactFactory(email=f"{name}@correo.example", created_at=long_ago, **fields)

    lapsed = contact("lapsed")
    lapsed_withdrawn = contact("withdrawn")
    grant(lapsed_withdrawn, Purpose.NEWSLETTER)
    grant(lapsed_withdrawn, Purpose.NEWSLETTER, action="withdrawn")
    old_activity = contact("oldactivity", last_activity_at=now - dt.timedelta(days=760))
    lapsed_service = contact("service")
    grant(lapsed_service, Purpose.SERVICE)
    keep_newsletter = contact("newsletter")
    grant(keep_newsletter, Purpose.NEWSLETTER)
    keep_topic = contact("topic")
    grant(keep_topic, Purpose.TOPIC, topics["cultura"])
    grant(keep_topic, Purpose.TOPIC, topics["obras"], action="withdrawn")
    keep_tracking = contact("tracking")
    grant(keep_tracking, Purpose.TRACKING)
    keep_active = contact("active", last_activity_at=recent)
    keep_new = ContactFactory(email="new@correo.example", created_at=recent)

    count = rights.contacts_retention_sweep(now=now)

    erased = set(Contact.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True))
    assert count == 4
    assert erased == {lapsed.pk, lapsed_withdrawn.pk, old_activity.pk, lapsed_service.pk}
    for kept in (keep_newsletter, keep_topic, keep_tracking, keep_active, keep_new):
        kept.refresh_from_db()
        assert not kept.is_anonymised
    run = AuditEntry.objects.get(action="contacts_retention_sweep")
    assert run.detail == {"anonymised": 4, "months": 24}
    assert AuditEntry.objects.filter(action="contact_anonymised").count() == 4
    assert rights.contacts_retention_sweep(now=now) == 0


def test_retention_task_runs_the_sweep(settings: Any) -> None:
    from contacts.tasks_rights import contacts_retention_sweep

    ContactFactory(email="old@correo.example", created_at=timezone.now() - dt.timedelta(days=900))

    assert contacts_retention_sweep.apply().get() == 1

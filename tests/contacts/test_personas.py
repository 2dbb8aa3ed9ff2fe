"""Personas: assignment by priority, and the staff pages about them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Persona
from contacts.personas import contact_persona_assign, personas_assign
from inbound.models import AuditEntry
from inbound.roles import Role
from tests.contacts.factories import ContactFactory


def _project_urls() -> list[Any]:
    """The project's URLs, plus the persona pages where the lead has not included them yet."""
    from django.conf.urls.i18n import i18n_patterns
    from django.urls import NoReverseMatch, include, path

    from inbound.urls import urlpatterns as project

    try:
        reverse("contacts_personas:persona-list", urlconf="inbound.urls")
    except NoReverseMatch:
        return [
            *i18n_patterns(path("staff/personas/", include("contacts.urls_personas"))),
            *project,
        ]
    return list(project)


urlpatterns = _project_urls()
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

YEAR = timezone.localdate().year
SENIORS = {"all": [{"field": "age", "op": "gte", "value": 65}]}
CENTRE = {"all": [{"field": "district", "op": "eq", "value": "Centro"}]}


def _persona(name: str, priority: int, rules: dict[str, Any], **fields: Any) -> Persona:
    return Persona.objects.create(name=name, priority=priority, rules=rules, **fields)


def _contact(age: int, district: str = "Ensanche", **fields: Any) -> Contact:
    return ContactFactory(birth_year=YEAR - age, district=district, **fields)


def _persona_of(contact: Contact) -> str | None:
    contact.refresh_from_db()
    return contact.persona.name if contact.persona else None


def test_each_contact_gets_the_first_matching_persona_by_priority() -> None:
    _persona("Antonio, jubilado", 20, SENIORS)
    _persona("Vecina del centro", 10, CENTRE)
    senior_in_centre = _contact(70, "Centro")
    senior_elsewhere = _contact(70, "Ribera")
    young_in_centre = _contact(30, "Centro")
    nobody = _contact(30, "Ribera")

    assert personas_assign() == 3

    assert _persona_of(senior_in_centre) == "Vecina del centro"
    assert _persona_of(senior_elsewhere) == "Antonio, jubilado"
    assert _persona_of(young_in_centre) == "Vecina del centro"
    assert _persona_of(nobody) is None


def test_changing_priorities_moves_overlapping_members() -> None:
    seniors = _persona("Antonio, jubilado", 20, SENIORS)
    _persona("Vecina del centro", 10, CENTRE)
    senior_in_centre = _contact(70, "Centro")
    personas_assign()

    seniors.priority = 5
    seniors.save()
    personas_assign()

    assert _persona_of(senior_in_centre) == "Antonio, jubilado"


def test_equal_priorities_are_decided_by_name() -> None:
    _persona("Beatriz", 10, SENIORS)
    _persona("Ana", 10, SENIORS)
    senior = _contact(80)

    personas_assign()

    assert _persona_of(senior) == "Ana"


def test_a_contact_who_no_longer_matches_loses_the_persona() -> None:
    _persona("Antonio, jubilado", 20, SENIORS)
    contact = _contact(70)
    personas_assign()

    Contact.objects.filter(pk=contact.pk).update(birth_year=YEAR - 40)

    assert personas_assign() == 1
    assert _persona_of(contact) is None
    assert personas_assign() == 0


def test_empty_rules_match_everyone_left() -> None:
    _persona("Antonio, jubilado", 10, SENIORS)
    _persona("Resto de vecinos", 99, {})
    senior, other = _contact(70), _contact(20)

    personas_assign()

    assert _persona_of(senior) == "Antonio, jubilado"
    assert _persona_of(other) == "Resto de vecinos"


def test_anonymised_contacts_are_never_assigned() -> None:
    _persona("Todos", 10, {})
    erased = _contact(70, anonymised_at=timezone.now())

    personas_assign()

    assert _persona_of(erased) is None


def test_assignment_can_be_limited_to_some_contacts() -> None:
    _persona("Antonio, jubilado", 10, SENIORS)
    first, second = _contact(70), _contact(75)

    personas_assign(contacts=Contact.objects.filter(pk=first.pk))

    assert _persona_of(first) == "Antonio, jubilado"
    assert _persona_of(second) is None


def test_one_contact_is_assigned_after_a_change() -> None:
    _persona("Antonio, jubilado", 10, SENIORS)
    contact = _contact(60)
    Contact.objects.filter(pk=contact.pk).update(birth_year=YEAR - 66)

    persona = contact_persona_assign(contact=contact)

    assert persona is not None and persona.name == "Antonio, jubilado"
    assert _persona_of(contact) == "Antonio, jubilado"


def test_a_form_submission_queues_the_contact_and_the_next_tick_reassigns_it() -> None:
    from contacts.services import touchpoint_record
    from contacts.tasks_personas import derived_refresh

    _persona("Antonio, jubilado", 10, SENIORS)
    contact = _contact(60)
    personas_assign()
    Contact.objects.filter(pk=contact.pk).update(birth_year=YEAR - 67)

    touchpoint_record(kind="form_submit", contact=contact)
    assert _persona_of(contact) is None  # not in the request: by the next tick

    assert derived_refresh() == 1
    assert _persona_of(contact) == "Antonio, jubilado"


def test_rules_on_properties_and_topics_are_honoured() -> None:
    from contacts.models import ContactProperty, Subscription
    from contacts.services import subscription_set
    from tests.contacts.factories import TopicFactory

    ContactProperty.objects.create(
        key="situacion_laboral",
        label="Situación laboral",
        type=ContactProperty.Type.CHOICE,
        choices=["autonomo", "empleado"],
    )
    _persona(
        "Javier, autónomo",
        10,
        {
            "all": [
                {"property": "situacion_laboral", "op": "eq", "value": "autonomo"},
                {"topic": "empleo"},
            ]
        },
    )
    topic = TopicFactory(slug="empleo")
    matching = _contact(45, properties={"situacion_laboral": "autonomo"})
    no_topic = _contact(45, properties={"situacion_laboral": "autonomo"})
    employee = _contact(45, properties={"situacion_laboral": "empleado"})
    for contact in (matching, employee):
        subscription_set(contact=contact, topic=topic, status=Subscription.Status.ACTIVE)

    personas_assign()

    assert _persona_of(matching) == "Javier, autónomo"
    assert _persona_of(no_topic) is None
    assert _persona_of(employee) is None


def test_the_assign_task_assigns_every_contact() -> None:
    from contacts.tasks_personas import personas_assign_all

    _persona("Antonio, jubilado", 10, SENIORS)
    senior = _contact(70)

    assert personas_assign_all() == 1
    assert _persona_of(senior) == "Antonio, jubilado"


# --- Staff pages -------------------------------------------------------------------------------

LIST_URL = "/es/staff/personas/"


@pytest.fixture
def antonio() -> Persona:
    return _persona(
        "Antonio, jubilado",
        20,
        SENIORS,
        summary="71 años, jubilado en el Centro.",
        picture_alt="Un hombre mayor sonriente con gorra",
        background="Fue conductor de autobús.",
        goals="Conocer las actividades del centro de mayores.",
        frustrations="Letra pequeña en las webs.",
        motivations="Sentirse útil.",
        preferred_channels="Teléfono y atención presencial.",
        expectations="Un trato cercano.",
    )


def _login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_staff_pages_are_wired_under_staff_personas() -> None:
    assert reverse("contacts_personas:persona-list") == LIST_URL


def test_the_list_shows_each_persona_with_priority_summary_and_members(
    client: Client, analyst: Any, antonio: Persona
) -> None:
    _persona("Lucía, estudiante", 30, {"all": [{"field": "age", "op": "lte", "value": 25}]})
    for _n in range(3):
        _contact(70)
    _contact(20)
    _contact(40)
    personas_assign()

    response = _login(client, analyst).get(LIST_URL)

    assert response.status_code == 200
    rows = [(p.name, p.member_count) for p in response.context["personas"]]
    assert rows == [("Antonio, jubilado", 3), ("Lucía, estudiante", 1)]
    body = response.content.decode()
    assert "71 años, jubilado en el Centro." in body
    assert '<td class="persona-members">3</td>' in body
    assert reverse("contacts_personas:persona-detail", args=[antonio.pk]) in body


def test_the_detail_shows_every_field_figures_and_a_sample_of_ten(
    client: Client, marketer: Any, antonio: Persona
) -> None:
    seniors = [_contact(70, "San Roque", first_name=f"Vecino{n}") for n in range(12)]
    for _n in range(4):
        _contact(30)
    personas_assign()

    response = _login(client, marketer).get(
        reverse("contacts_personas:persona-detail", args=[antonio.pk])
    )

    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Fue conductor de autobús.",
        "Conocer las actividades del centro de mayores.",
        "Letra pequeña en las webs.",
        "Sentirse útil.",
        "Teléfono y atención presencial.",
        "Un trato cercano.",
    ):
        assert text in body
    assert '<dd id="persona-member-count">12</dd>' in body
    assert (
        '<dd id="persona-share">75.0 %</dd>' in body or '<dd id="persona-share">75,0 %</dd>' in body
    )
    figures = response.context["figures"]
    assert {stage: n for stage, _label, n in figures.lifecycle}["contact"] == 12
    assert len(figures.sample) == 10
    assert body.count("San Roque") == 10
    shown = figures.sample[0]
    assert reverse("admin:contacts_contact_change", args=[shown.pk]) in body
    assert {c.pk for c in figures.sample} <= {c.pk for c in seniors}


def test_viewing_the_members_of_a_persona_is_audited(
    client: Client, analyst: Any, antonio: Persona
) -> None:
    member = _contact(70)
    personas_assign()

    _login(client, analyst).get(reverse("contacts_personas:persona-detail", args=[antonio.pk]))

    entry = AuditEntry.objects.get(action="persona_members_viewed")
    assert entry.actor == analyst
    assert entry.object_id == str(antonio.pk)
    assert entry.detail["contact_ids"] == [member.pk]


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ANALYST, 200), (Role.MARKETER, 200), (Role.ADMINISTRATOR, 200), (Role.EDITOR, 403)],
)
def test_persona_pages_by_role(
    client: Client, personas: dict[Role, Any], antonio: Persona, role: Role, status: int
) -> None:
    _login(client, personas[role])

    assert client.get(LIST_URL).status_code == status
    detail = client.get(reverse("contacts_personas:persona-detail", args=[antonio.pk]))
    assert detail.status_code == status


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, antonio: Persona) -> None:
    for url in (LIST_URL, reverse("contacts_personas:persona-detail", args=[antonio.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert not AuditEntry.objects.filter(action="persona_members_viewed").exists()


def test_an_unknown_persona_is_not_found(client: Client, analyst: Any) -> None:
    response = _login(client, analyst).get(
        reverse("contacts_personas:persona-detail", args=[999999])
    )

    assert response.status_code == 404


def test_the_admin_lists_member_counts_and_refuses_invalid_rules(
    client: Client, admin_user: Any, antonio: Persona
) -> None:
    _contact(70)
    personas_assign()
    _login(client, admin_user)

    changelist = client.get(reverse("admin:contacts_persona_changelist"))
    assert changelist.status_code == 200
    assert '<td class="field-member_count">1</td>' in changelist.content.decode()

    response = client.post(
        reverse("admin:contacts_persona_add"),
        {
            "name": "Mal",
            "priority": 5,
            "rules": '{"all": [{"field": "nosuchfield", "op": "eq", "value": 1}]}',
        },
    )
    assert response.status_code == 200
    assert not Persona.objects.filter(name="Mal").exists()
    assert response.context["adminform"].form.errors["rules"]


def test_the_admin_asks_for_a_description_of_the_picture(
    client: Client, admin_user: Any, tmp_path: Any, settings: Any
) -> None:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "teal").save(png, "PNG")
    form = {"name": "Lucía, estudiante", "priority": 30, "rules": "{}"}

    refused = _login(client, admin_user).post(
        reverse("admin:contacts_persona_add"),
        {**form, "picture": SimpleUploadedFile("lucia.png", png.getvalue(), "image/png")},
    )
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["picture_alt"]
    assert not Persona.objects.exists()

    accepted = client.post(
        reverse("admin:contacts_persona_add"),
        {
            **form,
            "picture": SimpleUploadedFile("lucia.png", png.getvalue(), "image/png"),
            "picture_alt": "Una joven con casco de bicicleta",
        },
    )
    assert accepted.status_code == 302
    persona = Persona.objects.get()
    assert persona.picture_alt == "Una joven con casco de bicicleta"
    listing = client.get(LIST_URL).content.decode()
    assert f'<img src="{persona.picture.url}" alt="Una joven con casco de bicicleta"' in listing

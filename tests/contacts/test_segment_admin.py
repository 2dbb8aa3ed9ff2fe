"""The segment editor in the admin and the live member count behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.test import Client
from django.urls import URLPattern, URLResolver, include, path, reverse
from django.utils import translation

from contacts.models import Segment, SegmentSnapshot
from inbound.urls import urlpatterns as project_urlpatterns
from tests.contacts.factories import ContactFactory


def _namespaces(patterns: list[Any]) -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace:
                found.add(pattern.namespace)
            found |= _namespaces(pattern.url_patterns)
    return found


# The project's URLs plus the staff segment URLs, until the lead wires them in inbound/urls.py.
urlpatterns: list[URLPattern | URLResolver] = [*project_urlpatterns]
if "contacts_segments" not in _namespaces(project_urlpatterns):
    urlpatterns += i18n_patterns(path("staff/contacts/", include("contacts.urls_segments")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """English pages: the source messages, whatever the translations say."""
    with translation.override("en"):
        yield


@pytest.fixture
def contacts() -> None:
    ContactFactory(first_name="Ana", district="Centro")
    ContactFactory(first_name="Berta", district="Centro")
    ContactFactory(first_name="Carla", district="Norte")


@pytest.fixture
def centro(contacts: None) -> Segment:
    return Segment.objects.create(
        name="Centro", rules={"field": "district", "op": "eq", "value": "Centro"}
    )


def form_data(segment: Segment, rules: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": segment.name,
        "description": "",
        "kind": segment.kind,
        "rules": rules if isinstance(rules, str) else json.dumps(rules),
        **extra,
    }


def change_url(segment: Segment) -> str:
    return reverse("admin:contacts_segment_change", args=[segment.pk])


def count_url() -> str:
    return reverse("contacts_segments:segment-count")


def test_change_form_shows_members_now_and_wires_the_live_count(
    client: Client, marketer: Any, centro: Segment
) -> None:
    client.force_login(marketer)
    response = client.get(change_url(centro))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Members now: 2 contacts" in body
    assert f'hx-post="{count_url()}"' in body
    assert "vendor/htmx.min.js" in body


def test_invalid_rules_are_shown_on_the_field_and_not_saved(
    client: Client, marketer: Any, centro: Segment
) -> None:
    client.force_login(marketer)
    bad = {"all": [{"field": "district", "op": "eq", "value": "Sur"},
                   {"any": [{"field": "district", "op": "gtx", "value": "x"}]}]}
    response = client.post(change_url(centro), form_data(centro, bad))
    assert response.status_code == 200
    assert "all[1].any[0]: unknown operator &quot;gtx&quot; for field &quot;district&quot;" in (
        response.content.decode()
    )
    centro.refresh_from_db()
    assert centro.rules == {"field": "district", "op": "eq", "value": "Centro"}


def test_malformed_json_is_refused(client: Client, marketer: Any, centro: Segment) -> None:
    client.force_login(marketer)
    response = client.post(change_url(centro), form_data(centro, '{"all": ['))
    assert response.status_code == 200
    assert "Enter a valid JSON." in response.content.decode()


def test_valid_rules_are_saved(client: Client, marketer: Any, centro: Segment) -> None:
    client.force_login(marketer)
    rules = {"field": "district", "op": "eq", "value": "Norte"}
    response = client.post(change_url(centro), form_data(centro, rules))
    assert response.status_code == 302
    centro.refresh_from_db()
    assert centro.rules == rules


def test_a_cycle_is_refused_in_the_editor(client: Client, marketer: Any, centro: Segment) -> None:
    other = Segment.objects.create(name="Otro", rules={"segment": centro.pk})
    client.force_login(marketer)
    response = client.post(change_url(centro), form_data(centro, {"segment": other.pk}))
    assert "segments would include each other in a cycle: Centro → Otro → Centro" in (
        response.content.decode()
    )


def test_static_list_cannot_have_rules(client: Client, marketer: Any, contacts: None) -> None:
    listed = Segment.objects.create(name="Prensa", kind=Segment.Kind.STATIC)
    client.force_login(marketer)
    response = client.post(change_url(listed), form_data(listed, {"topic": "x"}))
    assert "A static list has no rules" in response.content.decode()


def test_snapshot_action_and_last_snapshot_column(
    client: Client, marketer: Any, centro: Segment
) -> None:
    client.force_login(marketer)
    changelist = reverse("admin:contacts_segment_changelist")
    response = client.post(changelist, {"action": "take_snapshot",
                                        "_selected_action": [centro.pk]}, follow=True)
    assert "Snapshot taken: Centro (2)." in response.content.decode()
    assert SegmentSnapshot.objects.get(segment=centro).size == 2
    response = client.get(changelist)
    assert '<td class="field-last_snapshot_size">2</td>' in response.content.decode()


def test_analyst_cannot_take_a_snapshot(client: Client, analyst: Any, centro: Segment) -> None:
    client.force_login(analyst)
    changelist = reverse("admin:contacts_segment_changelist")
    assert "take_snapshot" not in client.get(changelist).content.decode()
    response = client.post(changelist, {"action": "take_snapshot",
                                        "_selected_action": [centro.pk]}, follow=True)
    assert "Snapshot taken" not in response.content.decode()
    assert not SegmentSnapshot.objects.exists()


def test_analyst_sees_the_segment_read_only(client: Client, analyst: Any, centro: Segment) -> None:
    client.force_login(analyst)
    response = client.get(change_url(centro))
    assert response.status_code == 200
    assert "Members now: 2 contacts" in response.content.decode()
    assert client.post(change_url(centro), form_data(centro, {})).status_code == 403


# --- the live count endpoint -------------------------------------------------------------------


def test_live_count_answers_the_number_of_matching_contacts(
    client: Client, marketer: Any, centro: Segment
) -> None:
    client.force_login(marketer)
    response = client.post(count_url(), {
        "rules": json.dumps({"field": "district", "op": "eq", "value": "Norte"}),
        "kind": "dynamic",
    })
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<output id="segment-live-count"')
    assert "Members now: 1 contact<" in body


def test_live_count_shows_validation_errors(client: Client, analyst: Any,
                                            centro: Segment) -> None:
    client.force_login(analyst)
    response = client.post(count_url(), {
        "rules": json.dumps({"any": [{"topic": "nadie"}]}), "segment": centro.pk,
    })
    assert response.status_code == 200
    assert 'any[0]: unknown topic &quot;nadie&quot;' in response.content.decode()
    response = client.post(count_url(), {"rules": "{nope"})
    assert "The rules are not valid JSON." in response.content.decode()


def test_live_count_refuses_a_cycle_with_the_segment_being_edited(
    client: Client, marketer: Any, centro: Segment
) -> None:
    other = Segment.objects.create(name="Otro", rules={"segment": centro.pk})
    client.force_login(marketer)
    response = client.post(count_url(), {"rules": json.dumps({"segment": other.pk}),
                                          "segment": centro.pk})
    assert "cycle: Centro → Otro → Centro" in response.content.decode()


def test_live_count_needs_permission(client: Client, editor: Any, centro: Segment) -> None:
    assert client.post(count_url(), {"rules": "{}"}).status_code == 403
    client.force_login(editor)
    assert client.post(count_url(), {"rules": "{}"}).status_code == 403


def test_live_count_is_csrf_protected(marketer: Any, centro: Segment) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    assert client.post(count_url(), {"rules": "{}"}).status_code == 403
    page = client.get(change_url(centro))
    token = page.context["csrf_token"]
    response = client.post(count_url(), {"rules": "{}", "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 200
    assert "Members now: 3 contacts" in response.content.decode()

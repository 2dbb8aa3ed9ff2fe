"""The segment rule language: validation, the one-query compiler, static lists, snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from contacts.models import (
    ConsentRecord,
    Contact,
    ContactProperty,
    Persona,
    Segment,
    SegmentSnapshot,
    SnapshotMember,
    Subscription,
    Tag,
)
from contacts.segments import (
    rules_queryset,
    rules_validate,
    segment_count,
    segment_members,
    segment_snapshot_take,
    static_members_add,
    static_members_remove,
)
from contacts.services import subscription_set, touchpoint_record
from inbound.lib.errors import DomainError
from tests.contacts.factories import ContactFactory, TopicFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Validation messages in their source language, whatever the translations say."""
    with translation.override("en"):
        yield


THIS_YEAR = timezone.localdate().year


def names(rules: dict[str, Any]) -> set[str]:
    rules_validate(rules)
    return set(rules_queryset(rules).values_list("first_name", flat=True))


def messages(rules: Any, segment: Segment | None = None) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        rules_validate(rules, segment=segment)
    return caught.value.messages


@pytest.fixture
def people() -> dict[str, Contact]:
    ContactProperty.objects.create(key="score", label="Score", type="number")
    ContactProperty.objects.create(key="renewal", label="Renewal", type="date")
    ContactProperty.objects.create(key="volunteer", label="Volunteer", type="boolean")
    ContactProperty.objects.create(
        key="housing", label="Housing", type="choice", choices=["own", "rent"]
    )
    ContactProperty.objects.create(key="note", label="Note", type="text")
    today = timezone.localdate()
    return {
        "ana": ContactFactory(
            first_name="Ana",
            email="ana@correo.example",
            district="Centro",
            birth_year=1990,
            language="es",
            lifecycle="subscriber",
            postal_code="28001",
            properties={
                "score": 9,
                "renewal": (today + dt.timedelta(days=5)).isoformat(),
                "volunteer": True,
                "housing": "own",
                "note": "Llamar mañana",
            },
            created_at=timezone.now() - dt.timedelta(days=400),
        ),
        "berta": ContactFactory(
            first_name="Berta",
            email="berta@correo.example",
            district="Norte",
            birth_year=1960,
            language="en",
            lifecycle="engaged",
            properties={
                "score": 10.5,
                "renewal": "2020-01-15",
                "volunteer": False,
                "housing": "rent",
            },
            last_activity_at=timezone.now() - dt.timedelta(days=3),
        ),
        "carla": ContactFactory(
            first_name="Carla",
            email="carla@otro.example",
            district="centro",
            properties={"score": 2},
        ),
        "dora": ContactFactory(first_name="Dora", email="dora@correo.example", district=""),
    }


def test_empty_rules_match_every_contact_but_anonymised_ones(people: dict[str, Contact]) -> None:
    Contact.objects.filter(pk=people["dora"].pk).update(anonymised_at=timezone.now())
    assert names({}) == {"Ana", "Berta", "Carla"}
    assert names({"all": []}) == {"Ana", "Berta", "Carla"}
    assert names({"any": []}) == set()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "district", "op": "eq", "value": "centro"}, {"Ana", "Carla"}),
        ({"field": "district", "op": "ne", "value": "Centro"}, {"Berta", "Dora"}),
        ({"field": "email", "op": "contains", "value": "@correo."}, {"Ana", "Berta", "Dora"}),
        ({"field": "district", "op": "in", "value": ["Norte", "Sur"]}, {"Berta"}),
        ({"field": "district", "op": "is_set"}, {"Ana", "Berta", "Carla"}),
        ({"field": "district", "op": "is_not_set"}, {"Dora"}),
        ({"field": "postal_code", "op": "eq", "value": "28001"}, {"Ana"}),
        ({"field": "language", "op": "eq", "value": "en"}, {"Berta"}),
        ({"field": "lifecycle", "op": "in", "value": ["subscriber", "engaged"]}, {"Ana", "Berta"}),
        ({"field": "birth_year", "op": "lt", "value": 1990}, {"Berta"}),
        ({"field": "birth_year", "op": "gte", "value": 1990}, {"Ana"}),
        ({"field": "birth_year", "op": "between", "value": [1950, 1995]}, {"Ana", "Berta"}),
        ({"field": "birth_year", "op": "is_not_set"}, {"Carla", "Dora"}),
        ({"field": "age", "op": "gt", "value": THIS_YEAR - 1990}, {"Berta"}),
        ({"field": "age", "op": "lte", "value": THIS_YEAR - 1990}, {"Ana"}),
        ({"field": "age", "op": "eq", "value": THIS_YEAR - 1960}, {"Berta"}),
        ({"field": "age", "op": "between", "value": [THIS_YEAR - 1991, THIS_YEAR - 1989]}, {"Ana"}),
        (
            {
                "field": "created_at",
                "op": "lt",
                "value": (timezone.localdate() - dt.timedelta(days=100)).isoformat(),
            },
            {"Ana"},
        ),
        (
            {"field": "created_at", "op": "within_last_days", "value": 30},
            {"Berta", "Carla", "Dora"},
        ),
        (
            {"field": "created_at", "op": "eq", "value": timezone.localdate().isoformat()},
            {"Berta", "Carla", "Dora"},
        ),
        ({"field": "last_activity_at", "op": "within_last_days", "value": 7}, {"Berta"}),
        ({"field": "last_activity_at", "op": "is_not_set"}, {"Ana", "Carla", "Dora"}),
    ],
)
def test_field_conditions(
    people: dict[str, Contact], rule: dict[str, Any], expected: set[str]
) -> None:
    assert names(rule) == expected


def test_persona_condition(people: dict[str, Contact]) -> None:
    persona = Persona.objects.create(name="Familias jóvenes")
    Contact.objects.filter(pk=people["ana"].pk).update(persona=persona)
    assert names({"field": "persona", "op": "eq", "value": persona.pk}) == {"Ana"}
    assert names({"field": "persona", "op": "is_not_set"}) == {"Berta", "Carla", "Dora"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # Numbers compare as numbers: "10.5" > 9 although the text "10.5" < "9".
        ({"property": "score", "op": "gt", "value": 9}, {"Berta"}),
        ({"property": "score", "op": "gte", "value": 9}, {"Ana", "Berta"}),
        ({"property": "score", "op": "lt", "value": 3}, {"Carla"}),
        ({"property": "score", "op": "eq", "value": 9}, {"Ana"}),
        ({"property": "score", "op": "ne", "value": 9}, {"Berta", "Carla", "Dora"}),
        ({"property": "score", "op": "between", "value": [2, 9]}, {"Ana", "Carla"}),
        ({"property": "score", "op": "in", "value": [2, 10.5]}, {"Berta", "Carla"}),
        ({"property": "score", "op": "is_not_set"}, {"Dora"}),
        ({"property": "renewal", "op": "within_next_days", "value": 7}, {"Ana"}),
        ({"property": "renewal", "op": "lt", "value": "2021-01-01"}, {"Berta"}),
        ({"property": "renewal", "op": "eq", "value": "2020-01-15"}, {"Berta"}),
        ({"property": "volunteer", "op": "eq", "value": True}, {"Ana"}),
        ({"property": "volunteer", "op": "eq", "value": False}, {"Berta"}),
        ({"property": "volunteer", "op": "is_set"}, {"Ana", "Berta"}),
        ({"property": "housing", "op": "in", "value": ["rent"]}, {"Berta"}),
        ({"property": "note", "op": "contains", "value": "LLAMAR"}, {"Ana"}),
        ({"not": {"property": "score", "op": "gt", "value": 5}}, {"Carla", "Dora"}),
    ],
)
def test_custom_property_conditions(
    people: dict[str, Contact], rule: dict[str, Any], expected: set[str]
) -> None:
    assert names(rule) == expected


def test_topic_tag_and_consent_conditions(people: dict[str, Contact]) -> None:
    movilidad = TopicFactory(slug="movilidad")
    subscription_set(contact=people["ana"], topic=movilidad, status=Subscription.Status.ACTIVE)
    subscription_set(
        contact=people["berta"], topic=movilidad, status=Subscription.Status.UNSUBSCRIBED
    )
    people["carla"].tags.add(Tag.objects.create(name="voluntariado"))
    grant(people["ana"])
    grant(people["berta"])
    grant(people["berta"], action=ConsentRecord.Action.WITHDRAWN)
    grant(people["carla"], purpose=ConsentRecord.Purpose.TOPIC, topic=movilidad)

    assert names({"topic": "movilidad"}) == {"Ana"}
    assert names({"tag": "voluntariado"}) == {"Carla"}
    assert names({"consent": "newsletter"}) == {"Ana"}
    assert names({"not": {"consent": "newsletter"}}) == {"Berta", "Carla", "Dora"}
    assert names({"consent": "topic", "topic": "movilidad"}) == {"Carla"}


def test_behaviour_conditions_count_touchpoints_in_a_window(people: dict[str, Contact]) -> None:
    long_ago = timezone.now() - dt.timedelta(days=90)
    for _ in range(3):
        touchpoint_record(kind="email_open", contact=people["ana"])
    touchpoint_record(kind="email_open", contact=people["berta"])
    touchpoint_record(kind="email_open", contact=people["carla"], occurred_at=long_ago)
    touchpoint_record(kind="page_view", contact=people["dora"], subject=people["ana"])

    assert names({"behaviour": {"kind": "email_open"}}) == {"Ana", "Berta", "Carla"}
    assert names({"behaviour": {"kind": "email_open", "days": 30}}) == {"Ana", "Berta"}
    assert names({"behaviour": {"kind": "email_open", "min": 2}}) == {"Ana"}
    assert names({"behaviour": {"kind": "email_open", "min": 1, "max": 1}}) == {"Berta", "Carla"}
    assert names({"behaviour": {"kind": "email_open", "max": 1}}) == {"Berta", "Carla", "Dora"}
    assert names({"behaviour": {"kind": "email_open", "days": 30, "min": 0, "max": 0}}) == {
        "Carla",
        "Dora",
    }
    assert names(
        {
            "behaviour": {
                "kind": "page_view",
                "subject_type": "contacts.contact",
                "subject_id": str(people["ana"].pk),
            }
        }
    ) == {"Dora"}
    assert names({"behaviour": {"kind": "page_view", "subject_type": "contacts.topic"}}) == set()


def test_touchpoint_property_conditions(people: dict[str, Contact]) -> None:
    touchpoint_record(kind="survey_response", contact=people["ana"], properties={"score": 10})
    touchpoint_record(kind="survey_response", contact=people["berta"], properties={"score": 4})
    touchpoint_record(
        kind="survey_response",
        contact=people["carla"],
        properties={"score": 6, "channel": "web"},
        occurred_at=timezone.now() - dt.timedelta(days=60),
    )
    touchpoint_record(kind="page_view", contact=people["dora"], properties={"score": 1})

    def tp(**spec: Any) -> set[str]:
        return names({"touchpoint_property": {"kind": "survey_response", "key": "score", **spec}})

    assert tp(op="lte", value=6) == {"Berta", "Carla"}
    assert tp(op="lte", value=6, days=30) == {"Berta"}
    assert tp(op="gt", value=9) == {"Ana"}
    assert tp(op="between", value=[5, 10]) == {"Ana", "Carla"}
    assert tp(op="eq", value=4) == {"Berta"}
    assert names(
        {
            "touchpoint_property": {
                "kind": "survey_response",
                "key": "channel",
                "op": "eq",
                "value": "web",
            }
        }
    ) == {"Carla"}
    assert names(
        {"touchpoint_property": {"kind": "survey_response", "key": "channel", "op": "is_set"}}
    ) == {"Carla"}


def test_touchpoint_property_booleans_and_text_lists(people: dict[str, Contact]) -> None:
    touchpoint_record(
        kind="form_submit", contact=people["ana"], properties={"accepted": True, "form": "padron"}
    )
    touchpoint_record(
        kind="form_submit", contact=people["berta"], properties={"accepted": False, "form": "becas"}
    )

    def tp(**spec: Any) -> set[str]:
        return names({"touchpoint_property": {"kind": "form_submit", **spec}})

    assert tp(key="accepted", op="eq", value=True) == {"Ana"}
    assert tp(key="accepted", op="ne", value=True) == {"Berta"}
    assert tp(key="form", op="in", value=["becas", "obras"]) == {"Berta"}
    assert tp(key="form", op="contains", value="PAD") == {"Ana"}


def test_nested_and_or_not(people: dict[str, Contact]) -> None:
    rules = {
        "all": [
            {
                "any": [
                    {"field": "district", "op": "eq", "value": "Centro"},
                    {"field": "language", "op": "eq", "value": "en"},
                ]
            },
            {"not": {"field": "email", "op": "contains", "value": "otro.example"}},
        ]
    }
    assert names(rules) == {"Ana", "Berta"}
    assert names({"not": rules}) == {"Carla", "Dora"}


def test_segment_of_segments_static_and_dynamic(people: dict[str, Contact]) -> None:
    centro = Segment.objects.create(
        name="Centro", rules={"field": "district", "op": "eq", "value": "Centro"}
    )
    listed = Segment.objects.create(name="Lista", kind=Segment.Kind.STATIC)
    static_members_add(segment=listed, contacts=[people["berta"]])
    rules = {"any": [{"segment": centro.pk}, {"segment": listed.pk}]}
    assert names(rules) == {"Ana", "Berta", "Carla"}
    assert names({"not": {"segment": centro.pk}}) == {"Berta", "Dora"}


def test_a_segment_counts_with_one_query(
    people: dict[str, Contact], django_assert_num_queries: Any
) -> None:
    topic = TopicFactory(slug="cultura")
    subscription_set(contact=people["ana"], topic=topic, status=Subscription.Status.ACTIVE)
    grant(people["ana"])
    touchpoint_record(kind="email_open", contact=people["ana"])
    segment = Segment.objects.create(
        name="Activos",
        rules={
            "all": [
                {"topic": "cultura"},
                {"consent": "newsletter"},
                {"not": {"consent": "topic", "topic": "cultura"}},
                {"field": "age", "op": "gt", "value": 18},
                {"property": "score", "op": "gte", "value": 9},
                {"property": "renewal", "op": "within_next_days", "value": 30},
                {"property": "volunteer", "op": "eq", "value": True},
                {"property": "housing", "op": "in", "value": ["own"]},
                {"behaviour": {"kind": "email_open", "days": 30, "min": 1, "max": 5}},
                {"touchpoint_property": {"kind": "email_open", "key": "x", "op": "is_not_set"}},
                {"not": {"behaviour": {"kind": "unsubscribe", "min": 1}}},
                {"any": [{"tag": "nada"}, {"field": "district", "op": "eq", "value": "Centro"}]},
            ]
        },
    )
    with django_assert_num_queries(1):
        assert segment_count(segment=segment) == 1


def test_referenced_segments_are_read_once_and_members_counted_in_one_query(
    people: dict[str, Contact], django_assert_num_queries: Any
) -> None:
    inner = Segment.objects.create(
        name="Centro", rules={"field": "district", "op": "eq", "value": "Centro"}
    )
    outer = Segment.objects.create(
        name="Centro en español",
        rules={"all": [{"segment": inner.pk}, {"field": "language", "op": "eq", "value": "es"}]},
    )
    members = segment_members(segment=outer)
    with django_assert_num_queries(1):
        assert members.count() == 2
    assert set(members.values_list("first_name", flat=True)) == {"Ana", "Carla"}


def test_static_lists_add_and_remove_members(people: dict[str, Contact]) -> None:
    listed = Segment.objects.create(name="Prensa", kind=Segment.Kind.STATIC)
    assert static_members_add(segment=listed, contacts=[people["ana"], people["berta"]]) == 2
    assert static_members_add(segment=listed, contacts=[people["ana"]]) == 0
    assert static_members_remove(segment=listed, contacts=[people["berta"]]) == 1
    assert list(segment_members(segment=listed)) == [people["ana"]]
    dynamic = Segment.objects.create(name="Dinámico")
    with pytest.raises(DomainError):
        static_members_add(segment=dynamic, contacts=[people["ana"]])


def test_snapshot_freezes_current_members(people: dict[str, Contact]) -> None:
    segment = Segment.objects.create(
        name="Centro", rules={"field": "district", "op": "eq", "value": "centro"}
    )
    snapshot = segment_snapshot_take(segment=segment)
    Contact.objects.filter(pk=people["dora"].pk).update(district="Centro")

    snapshot.refresh_from_db()
    assert snapshot.size == 2
    assert set(
        SnapshotMember.objects.filter(snapshot=snapshot).values_list(
            "contact__first_name", flat=True
        )
    ) == {"Ana", "Carla"}
    assert segment_count(segment=segment) == 3
    assert SegmentSnapshot.objects.filter(segment=segment).count() == 1


def test_snapshot_of_a_static_list(people: dict[str, Contact]) -> None:
    listed = Segment.objects.create(name="Prensa", kind=Segment.Kind.STATIC)
    static_members_add(segment=listed, contacts=[people["carla"]])
    snapshot = segment_snapshot_take(segment=listed)
    assert snapshot.size == 1
    assert list(snapshot.rows.values_list("contact_id", flat=True)) == [people["carla"].pk]


# --- validation -------------------------------------------------------------------------------


def test_validation_names_the_condition_by_its_path(people: dict[str, Contact]) -> None:
    rules = {
        "all": [
            {"field": "district", "op": "eq", "value": "Centro"},
            {"topic": "no-existe"},
            {"any": [{"field": "district", "op": "gtx", "value": 1}]},
        ]
    }
    assert messages(rules) == [
        'all[1]: unknown topic "no-existe"',
        'all[2].any[0]: unknown operator "gtx" for field "district"',
    ]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"field": "shoe_size", "op": "eq", "value": 1}, 'rules: unknown field "shoe_size"'),
        (
            {"field": "birth_year", "op": "eq", "value": "1990"},
            "rules: the value must be a number value",
        ),
        (
            {"field": "district", "op": "gt", "value": "A"},
            'rules: unknown operator "gt" for field "district"',
        ),
        (
            {"field": "language", "op": "eq", "value": "fr"},
            "rules: the value must be one of: es, ca, eu, gl, en",
        ),
        (
            {"field": "created_at", "op": "gt", "value": "ayer"},
            "rules: the value must be a date (YYYY-MM-DD) value",
        ),
        (
            {"field": "age", "op": "between", "value": [1]},
            "rules: the value must be a list of two number values [low, high]",
        ),
        ({"field": "persona", "op": "eq", "value": 999}, "rules: unknown persona 999"),
        ({"property": "shoe", "op": "eq", "value": 1}, 'rules: unknown custom property "shoe"'),
        (
            {"property": "score", "op": "contains", "value": "9"},
            'rules: unknown operator "contains" for property "score"',
        ),
        (
            {"property": "volunteer", "op": "eq", "value": "yes"},
            "rules: the value must be a true/false value",
        ),
        (
            {"property": "housing", "op": "eq", "value": "castle"},
            "rules: the value must be one of: own, rent",
        ),
        ({"tag": "nadie"}, 'rules: unknown tag "nadie"'),
        ({"consent": "marketing"}, 'rules: unknown consent purpose "marketing"'),
        ({"consent": "topic"}, 'rules: a topic is given exactly for the "topic" consent purpose'),
        ({"segment": 999}, "rules: unknown segment 999"),
        (
            {"behaviour": {"kind": "email_open", "min": 3, "max": 1}},
            'rules: "min" cannot be more than "max"',
        ),
        (
            {"behaviour": {"kind": "email_open", "days": 0}},
            'rules: "days" must be a whole number of days, at least 1',
        ),
        (
            {
                "touchpoint_property": {
                    "kind": "survey_response",
                    "key": "score",
                    "op": "lte",
                    "value": "bad",
                }
            },
            "rules: the value must be a number value",
        ),
        ({"any": {"field": "district"}}, 'rules: "any" must be a list of conditions'),
        ({"all": [], "any": []}, "rules: a group has exactly one key: all, any or not"),
        (
            {"color": "blue"},
            "rules: unknown condition: expected one of all, any, not, field, "
            "property, topic, tag, consent, segment, behaviour, "
            "touchpoint_property",
        ),
        ({"not": [1]}, "not: expected an object, a group or a condition"),
    ],
)
def test_invalid_rules_are_refused(people: dict[str, Contact], rules: Any, expected: str) -> None:
    assert messages(rules) == [expected]


def test_a_segment_cannot_include_itself() -> None:
    segment = Segment.objects.create(name="A")
    assert messages({"segment": segment.pk}, segment) == ["rules: a segment cannot include itself"]


def test_segments_cannot_include_each_other() -> None:
    a = Segment.objects.create(name="A")
    b = Segment.objects.create(name="B", rules={"all": [{"segment": a.pk}]})
    assert messages({"not": {"segment": b.pk}}, a) == [
        "not: segments would include each other in a cycle: A → B → A"
    ]


def test_malformed_rules_saved_behind_validation_are_refused_not_crashed() -> None:
    segment = Segment.objects.create(name="Roto", rules={"all": [{"field": "district"}]})
    with pytest.raises(ValidationError):
        segment_count(segment=segment)


def test_a_cycle_saved_behind_validation_is_refused_when_compiling() -> None:
    a = Segment.objects.create(name="A")
    b = Segment.objects.create(name="B", rules={"segment": a.pk})
    Segment.objects.filter(pk=a.pk).update(rules={"segment": b.pk})
    a.refresh_from_db()
    with pytest.raises(ValidationError):
        segment_count(segment=a)


def test_text_where_a_number_or_date_is_expected_does_not_break_the_segment(
    people: dict[str, Contact],
) -> None:
    # Touchpoint properties come from other systems; PostgreSQL aborts on a failed cast.
    touchpoint_record(kind="survey_response", contact=people["ana"], properties={"score": "n/a"})
    touchpoint_record(kind="survey_response", contact=people["berta"], properties={"score": "5"})
    touchpoint_record(kind="survey_response", contact=people["carla"], properties={"score": 3.5})
    touchpoint_record(kind="survey_response", contact=people["dora"], properties={"score": None})
    rules = {
        "touchpoint_property": {"kind": "survey_response", "key": "score", "op": "lte", "value": 6}
    }
    assert names(rules) == {"Berta", "Carla"}

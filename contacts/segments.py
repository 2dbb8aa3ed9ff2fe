"""Segments: the rule compiler (rules → one SQL query), members, counts and snapshots.

Rules are validated by `contacts.segment_rules.rules_validate` and compiled here to a single
`Q` over `Contact`: relations become correlated `EXISTS`/`COUNT` subqueries, custom properties
JSON key transforms with casts, so counting a segment is one `SELECT COUNT(*)` on PostgreSQL
and SQLite alike, whatever the size of the contact table. Every condition compiles to a
predicate that is never SQL NULL, so `not` is always the complement of its child.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    Expression,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IExact,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Lookup,
    Range,
    Regex,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import (
    ConsentRecord,
    Contact,
    Segment,
    SegmentMember,
    SegmentSnapshot,
    SnapshotMember,
    Subscription,
    Topic,
    Touchpoint,
)
from contacts.segment_rules import (
    BOOLEAN,
    DATE,
    FIELD_TYPES,
    MAX_DEPTH,
    NUMBER,
    TEXT,
    parse_date,
    rules_validate,
)
from contacts.selectors import consent_latest_action
from inbound.lib.errors import DomainError

__all__ = [
    "rules_q",
    "rules_queryset",
    "rules_validate",
    "segment_count",
    "segment_members",
    "segment_snapshot_take",
    "static_members_add",
    "static_members_remove",
]

NOTHING = Q(pk__in=[])


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _field_q(field: str, op: str, value: Any) -> Q:
    """A condition on a column of Contact; Django adds the NULL handling under negation."""
    kind = FIELD_TYPES[field]
    if field == "age":
        return _age_q(op, value)
    column = "persona_id" if field == "persona" else field
    if op in {"is_set", "is_not_set"}:
        present = Q(**{f"{column}__isnull": False})
        if kind == TEXT:
            present &= ~Q(**{column: ""})
        return present if op == "is_set" else ~present
    if kind == DATE:
        return _datetime_q(column, op, value)
    if op == "ne":
        return ~_field_q(field, "eq", value)
    if op == "eq":
        return Q(**{f"{column}__iexact" if kind == TEXT else column: value})
    if op == "contains":
        return Q(**{f"{column}__icontains": value})
    if op == "in":
        return Q(**{f"{column}__in": value})
    if op == "between":
        return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    return Q(**{f"{column}__{op}": value})


def _age_q(op: str, value: Any) -> Q:
    # Age is this year minus the birth year: conditions become ranges on the indexed column.
    year = timezone.localdate().year
    if op in {"is_set", "is_not_set"}:
        return Q(birth_year__isnull=op == "is_not_set")
    if op == "ne":
        return ~_age_q("eq", value)
    if op == "in":
        return Q(birth_year__in=[year - v for v in value])
    if op == "between":
        return Q(birth_year__gte=year - value[1], birth_year__lte=year - value[0])
    mirrored = {"eq": "exact", "gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}[op]
    return Q(**{f"birth_year__{mirrored}": year - value})


def _datetime_q(column: str, op: str, value: Any) -> Q:
    """Dates given as YYYY-MM-DD compare whole local days, as half-open datetime ranges."""
    now = timezone.now()
    if op == "within_last_days":
        return Q(**{f"{column}__gte": now - dt.timedelta(days=value), f"{column}__lte": now})
    if op == "within_next_days":
        return Q(**{f"{column}__gte": now, f"{column}__lte": now + dt.timedelta(days=value)})
    if op == "between":
        low, high = parse_date(value[0]), parse_date(value[1])
        assert low is not None and high is not None  # noqa: S101 - validated
        return Q(
            **{
                f"{column}__gte": _day_start(low),
                f"{column}__lt": _day_start(high + dt.timedelta(days=1)),
            }
        )
    day = parse_date(value)
    assert day is not None  # noqa: S101 - validated
    start, end = _day_start(day), _day_start(day + dt.timedelta(days=1))
    if op == "ne":
        return ~_datetime_q(column, "eq", value)
    return {
        "eq": Q(**{f"{column}__gte": start, f"{column}__lt": end}),
        "gt": Q(**{f"{column}__gte": end}),
        "gte": Q(**{f"{column}__gte": start}),
        "lt": Q(**{f"{column}__lt": start}),
        "lte": Q(**{f"{column}__lt": end}),
    }[op]


CORE_LOOKUPS: dict[str, type[Lookup]] = {
    "exact": Exact,
    "iexact": IExact,
    "icontains": IContains,
    "in": In,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
    "isnull": IsNull,
}


def _lookup(lhs: Expression, name: str, value: Any) -> Q:
    # Plain SQL lookups: the values compared are text or cast, never JSON.
    return Q(CORE_LOOKUPS[name](lhs, value))


def _compare(lhs: Expression, op: str, value: Any, *, text: bool = False) -> Q:
    """`lhs op value` as a predicate that is false, never NULL, where lhs is NULL."""
    present = _lookup(lhs, "isnull", False)
    if op == "is_set":
        # Plain SQL equality: the JSON-aware exact lookup would parse "" as JSON.
        return present & ~Q(Exact(lhs, "")) if text else present
    if op == "is_not_set":
        return ~_compare(lhs, "is_set", value, text=text)
    if op == "ne":
        return ~_compare(lhs, "eq", value, text=text)
    if op == "between":
        return present & _lookup(lhs, "gte", value[0]) & _lookup(lhs, "lte", value[1])
    name = {"eq": "iexact" if text else "exact", "contains": "icontains"}.get(op, op)
    return present & _lookup(lhs, name, list(value) if op == "in" else value)


# JSON written by other systems (touchpoints from the API, a survey tool) may hold text where a
# number or date is expected; PostgreSQL would abort the whole query on a failed cast, so only
# values of the right shape are cast and the rest compare as missing.
NUMBER_SHAPE = r"^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$"
DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _json_value(json_field: str, key: str, kind: str) -> Expression:
    text = KeyTextTransform(key, json_field)
    if kind == NUMBER:
        return Case(
            When(Regex(text, NUMBER_SHAPE), then=Cast(text, FloatField())),
            default=Value(None),
            output_field=FloatField(),
        )
    if kind == DATE:
        return Case(
            When(Regex(text, DATE_SHAPE), then=Cast(text, DateField())),
            default=Value(None),
            output_field=DateField(),
        )
    return text


def _json_boolean_q(json_field: str, key: str, op: str, value: Any) -> Q:
    # Through the field path, so the JSON literal is encoded per vendor; the explicit
    # "__exact" keeps a key named like a lookup ("contains") a key.
    if op in {"is_set", "is_not_set"}:
        present = Q(**{f"{json_field}__{key}__isnull": False})
        return present if op == "is_set" else ~present
    equal = Q(**{f"{json_field}__{key}__exact": value})
    return equal if op == "eq" else ~equal


def _date_window(op: str, value: Any) -> tuple[str, Any]:
    today = timezone.localdate()
    if op == "within_last_days":
        return "between", [today - dt.timedelta(days=value), today]
    if op == "within_next_days":
        return "between", [today, today + dt.timedelta(days=value)]
    if op == "between":
        return op, [parse_date(v) for v in value]
    if op in {"eq", "ne", "gt", "gte", "lt", "lte"}:
        return op, parse_date(value)
    return op, value


def _value_kind(op: str, value: Any) -> str:
    """How to compare a value, read off the validated rule so compiling needs no query.

    Validation matched the value to the property's type, so the value says it: booleans and
    numbers are themselves, and only dates take ordering operators on texts. Equality on a
    date compares the stored ISO text, which is the same as comparing the dates.
    """
    sample = value[0] if op in {"in", "between"} else value
    if isinstance(sample, bool):
        return BOOLEAN
    if op in {"within_last_days", "within_next_days"}:
        return DATE
    if isinstance(sample, int | float):
        return NUMBER
    if op in {"gt", "gte", "lt", "lte", "between"}:
        return DATE
    return TEXT


def _property_q(node: dict[str, Any]) -> Q:
    key, op = node["property"], node["op"]
    value: Any = node.get("value")
    if op in {"is_set", "is_not_set"}:
        return _compare(KeyTextTransform(key, "properties"), op, None, text=True)
    kind = _value_kind(op, value)
    if kind == BOOLEAN:
        return _json_boolean_q("properties", key, op, value)
    if kind == DATE:
        op, value = _date_window(op, value)
    elif kind == NUMBER:
        value = [float(v) for v in value] if isinstance(value, list) else float(value)
    return _compare(_json_value("properties", key, kind), op, value, text=kind == TEXT)


def _since(days: Any) -> Q:
    return Q(occurred_at__gte=timezone.now() - dt.timedelta(days=days)) if days else Q()


def _behaviour_q(spec: dict[str, Any]) -> Q:
    touchpoints = Touchpoint.objects.filter(contact=OuterRef("pk"), kind=spec["kind"]).filter(
        _since(spec.get("days"))
    )
    if spec.get("subject_type"):
        app_label, model = spec["subject_type"].lower().split(".", 1)
        touchpoints = touchpoints.filter(
            subject_type__app_label=app_label, subject_type__model=model
        )
    if "subject_id" in spec:
        touchpoints = touchpoints.filter(subject_id=str(spec["subject_id"]))
    low, high = spec.get("min"), spec.get("max")
    if low is None and high is None:
        low = 1
    if high == 0:
        return ~Q(Exists(touchpoints))
    if low == 1 and high is None:
        return Q(Exists(touchpoints))
    count = Coalesce(
        Subquery(
            touchpoints.order_by().values("contact").annotate(n=Count("id")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )
    if low and high is not None:
        return Q(Range(count, (low, high)))  # BETWEEN: the subquery appears once
    if low:
        return Q(GreaterThanOrEqual(count, low))
    return Q(LessThanOrEqual(count, high))


def _touchpoint_property_q(spec: dict[str, Any]) -> Q:
    op: str = spec["op"]
    value: Any = spec.get("value")
    sample = value[0] if op in {"in", "between"} else value
    if op in {"is_set", "is_not_set", "contains"} or (
        isinstance(sample, str) and op in {"eq", "ne", "in"}
    ):
        kind = TEXT
    elif isinstance(sample, bool):
        predicate = _json_boolean_q("properties", spec["key"], op, value)
        return Q(
            Exists(
                Touchpoint.objects.filter(
                    predicate, contact=OuterRef("pk"), kind=spec["kind"]
                ).filter(_since(spec.get("days")))
            )
        )
    else:
        kind = NUMBER
        value = [float(v) for v in value] if isinstance(value, list) else float(value)
    # ne is "some touchpoint whose value differs", not "no touchpoint with this value".
    predicate = _compare(
        _json_value("properties", spec["key"], kind),
        op,
        value,
        text=kind == TEXT,
    )
    touchpoints = Touchpoint.objects.filter(contact=OuterRef("pk"), kind=spec["kind"]).filter(
        _since(spec.get("days")), predicate
    )
    return Q(Exists(touchpoints))


class _Compiler:
    def node(self, node: dict[str, Any], seen: tuple[int, ...], depth: int = 0) -> Q:
        if depth > MAX_DEPTH:
            raise ValidationError(_("The rules are nested too deeply."))
        if not node:
            return Q()
        if "all" in node:
            result = Q()
            for child in node["all"]:
                result &= self.node(child, seen, depth + 1)
            return result
        if "any" in node:
            if not node["any"]:
                return NOTHING
            result = NOTHING
            for child in node["any"]:
                result |= self.node(child, seen, depth + 1)
            return result
        if "not" in node:
            return ~self.node(node["not"], seen, depth + 1)
        return self.condition(node, seen)

    def condition(self, node: dict[str, Any], seen: tuple[int, ...]) -> Q:
        if "field" in node:
            return _field_q(node["field"], node["op"], node.get("value"))
        if "property" in node:
            return _property_q(node)
        if "consent" in node:
            topic: Any = None
            if node.get("topic") is not None:
                # A subquery, not a lookup now: compiling must not add a query.
                topic = Subquery(
                    Topic.objects.filter(slug=node["topic"]).order_by().values("pk")[:1]
                )
            action = Coalesce(consent_latest_action(node["consent"], topic), Value(""))
            return Q(Exact(action, ConsentRecord.Action.GRANTED))
        if "topic" in node:
            return Q(
                Exists(
                    Subscription.objects.filter(
                        contact=OuterRef("pk"),
                        topic__slug=node["topic"],
                        status=Subscription.Status.ACTIVE,
                    )
                )
            )
        if "tag" in node:
            return Q(
                Exists(
                    Contact.tags.through.objects.filter(
                        contact_id=OuterRef("pk"), tag__name=node["tag"]
                    )
                )
            )
        if "segment" in node:
            return self.segment(node["segment"], seen)
        if "behaviour" in node:
            return _behaviour_q(node["behaviour"])
        if "touchpoint_property" in node:
            return _touchpoint_property_q(node["touchpoint_property"])
        raise ValidationError(_("Unknown condition in the rules."))

    def segment(self, pk: int, seen: tuple[int, ...]) -> Q:
        if pk in seen:
            raise ValidationError(_("Segments include each other in a cycle."))
        target = Segment.objects.filter(pk=pk).only("kind", "rules").first()
        if target is None:
            return NOTHING
        if target.kind == Segment.Kind.STATIC:
            return Q(Exists(SegmentMember.objects.filter(segment_id=pk, contact=OuterRef("pk"))))
        return self.node(target.rules or {}, (*seen, pk))


def rules_q(rules: dict[str, Any], *, _seen: tuple[int, ...] = ()) -> Q:
    """Compile validated rules to one `Q` over Contact (subqueries, never id lists).

    Referenced dynamic segments are inlined, so reading their rules costs one small query
    each; the members themselves are always found by the one query the Q is used in.
    """
    try:
        return _Compiler().node(rules or {}, _seen)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        # Rules saved without validation (e.g. by a data migration): refuse, never crash.
        raise ValidationError(
            _("The rules are not valid any more; edit the segment to see what to fix.")
        ) from None


def rules_queryset(rules: dict[str, Any], *, _seen: tuple[int, ...] = ()) -> QuerySet[Contact]:
    """Contacts matching the rules; erased (anonymised) contacts never match."""
    return Contact.objects.filter(anonymised_at__isnull=True).filter(rules_q(rules, _seen=_seen))


def segment_members(*, segment: Segment) -> QuerySet[Contact]:
    """A dynamic segment's contacts by its rules, or a static list's members."""
    if segment.kind == Segment.Kind.STATIC:
        return Contact.objects.filter(
            Exists(SegmentMember.objects.filter(segment=segment, contact=OuterRef("pk"))),
            anonymised_at__isnull=True,
        )
    seen = (segment.pk,) if segment.pk else ()
    return rules_queryset(segment.rules or {}, _seen=seen)


def segment_count(*, segment: Segment) -> int:
    """How many contacts the segment has now: one COUNT query, no rows fetched."""
    return segment_members(segment=segment).order_by().count()


@transaction.atomic
def segment_snapshot_take(*, segment: Segment) -> SegmentSnapshot:
    """Freeze the segment's members now, with one INSERT … SELECT inside the database."""
    snapshot = SegmentSnapshot.objects.create(segment=segment, taken_at=timezone.now())
    members = segment_members(segment=segment).order_by().values_list("pk")
    sql, params = members.query.get_compiler(using=members.db).as_sql()
    connection = connections[members.db]
    quote = connection.ops.quote_name
    table = quote(SnapshotMember._meta.db_table)
    # The snapshot id is our own integer, so it is safe to inline and needs no type inference.
    statement = (
        f"INSERT INTO {table} ({quote('snapshot_id')}, {quote('contact_id')}) "  # noqa: S608
        f"SELECT {int(snapshot.pk)}, members.* FROM ({sql}) AS members"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        snapshot.size = max(cursor.rowcount, 0)
    snapshot.save(update_fields=["size"])
    return snapshot


def _static(segment: Segment) -> None:
    if segment.kind != Segment.Kind.STATIC:
        raise DomainError(_("Only static lists have members added or removed by hand."))


@transaction.atomic
def static_members_add(*, segment: Segment, contacts: Iterable[Contact]) -> int:
    """Add contacts to a static list (already listed ones are skipped); returns how many."""
    _static(segment)
    ids = {c.pk for c in contacts if c.anonymised_at is None}
    present = set(
        SegmentMember.objects.filter(segment=segment, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, contact_id=pk) for pk in sorted(ids - present)],
        ignore_conflicts=True,
    )
    return len(ids - present)


@transaction.atomic
def static_members_remove(*, segment: Segment, contacts: Iterable[Contact]) -> int:
    """Remove contacts from a static list; returns how many were listed."""
    _static(segment)
    deleted, _by_model = SegmentMember.objects.filter(
        segment=segment, contact_id__in=[c.pk for c in contacts]
    ).delete()
    return deleted

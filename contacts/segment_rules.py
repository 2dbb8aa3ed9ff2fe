"""The segment rule language: its vocabulary and the validator staff edits go through.

The grammar (see docs/architecture.md) is a tree of groups (`all`, `any`, `not`) whose leaves are
conditions. Validation names the failing condition by its path, e.g. `all[2].any[0]`, so a staff
member editing a long rule can find it. `contacts.segments` compiles validated rules to SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import (
    CONTENT_LANGUAGES,
    ConsentRecord,
    Contact,
    ContactProperty,
    Persona,
    Segment,
    Tag,
    Topic,
)

TEXT, CHOICE, NUMBER, DATE, BOOLEAN, ID = "text", "choice", "number", "date", "boolean", "id"

FIELD_TYPES: dict[str, str] = {
    "email": TEXT,
    "first_name": TEXT,
    "last_name": TEXT,
    "postal_code": TEXT,
    "district": TEXT,
    "language": CHOICE,
    "source": CHOICE,
    "lifecycle": CHOICE,
    "email_status": CHOICE,
    "birth_year": NUMBER,
    "age": NUMBER,
    "created_at": DATE,
    "last_activity_at": DATE,
    "persona": ID,
}
FIELD_CHOICES: dict[str, list[str]] = {
    "language": [code for code, _label in CONTENT_LANGUAGES],
    "source": list(Contact.Source.values),
    "lifecycle": list(Contact.Lifecycle.values),
    "email_status": list(Contact.EmailStatus.values),
}
PROPERTY_TYPES: dict[str, str] = {
    ContactProperty.Type.TEXT: TEXT,
    ContactProperty.Type.CHOICE: CHOICE,
    ContactProperty.Type.NUMBER: NUMBER,
    ContactProperty.Type.DATE: DATE,
    ContactProperty.Type.BOOLEAN: BOOLEAN,
}
TYPE_NAMES = {
    TEXT: gettext_lazy("text"),
    CHOICE: gettext_lazy("choice"),
    NUMBER: gettext_lazy("number"),
    DATE: gettext_lazy("date (YYYY-MM-DD)"),
    BOOLEAN: gettext_lazy("true/false"),
    ID: gettext_lazy("id"),
}
PRESENCE = {"is_set", "is_not_set"}
TYPE_OPERATORS: dict[str, set[str]] = {
    TEXT: {"eq", "ne", "contains", "in", *PRESENCE},
    CHOICE: {"eq", "ne", "in", *PRESENCE},
    NUMBER: {"eq", "ne", "in", "gt", "gte", "lt", "lte", "between", *PRESENCE},
    DATE: {
        "eq", "ne", "gt", "gte", "lt", "lte", "between", "within_last_days", "within_next_days",
        *PRESENCE,
    },
    BOOLEAN: {"eq", "ne", *PRESENCE},
    ID: {"eq", "ne", "in", *PRESENCE},
}
# Touchpoint properties are untyped JSON: the value given decides how it compares.
TOUCHPOINT_OPERATORS = {"eq", "ne", "in", "contains", "gt", "gte", "lt", "lte", "between",
                        *PRESENCE}
BEHAVIOUR_KEYS = {"kind", "subject_type", "subject_id", "days", "min", "max"}
TOUCHPOINT_PROPERTY_KEYS = {"kind", "key", "op", "value", "days"}
CONDITION_KEYS = ("field", "property", "topic", "tag", "consent", "segment", "behaviour",
                  "touchpoint_property")
MAX_DEPTH = 20


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _scalar_ok(kind: str, value: Any, choices: list[str] | None) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == CHOICE:
        return isinstance(value, str) and (not choices or value in choices)
    if kind == NUMBER:
        return is_number(value)
    if kind == DATE:
        return parse_date(value) is not None
    if kind == BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, int) and not isinstance(value, bool)


def value_error(kind: str, op: str, value: Any, choices: list[str] | None = None) -> str | None:
    """Why `value` does not suit `op` on a value of type `kind`, or None when it does."""
    if op in PRESENCE:
        return None
    if op in {"within_last_days", "within_next_days"}:
        return None if is_count(value) else _("the value must be a whole number of days")
    if op == "between":
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(_scalar_ok(kind, v, choices) for v in value)
        ):
            return None
        return _("the value must be a list of two %(type)s values [low, high]") % {
            "type": TYPE_NAMES[kind]
        }
    if op == "in":
        if isinstance(value, list) and value and all(_scalar_ok(kind, v, choices) for v in value):
            return None
        return _("the value must be a non-empty list of %(type)s values") % {
            "type": TYPE_NAMES[kind]
        }
    if op == "contains" and not isinstance(value, str):
        return _("the value must be a text")
    if _scalar_ok(kind, value, choices):
        return None
    if choices and isinstance(value, str):
        return _("the value must be one of: %(choices)s") % {"choices": ", ".join(choices)}
    return _("the value must be a %(type)s value") % {"type": TYPE_NAMES[kind]}


def segment_refs(rules: Any) -> Iterator[Any]:
    """The segment ids a rule tree refers to (directly)."""
    if isinstance(rules, dict):
        if "segment" in rules:
            yield rules["segment"]
        for key in ("all", "any"):
            children = rules.get(key)
            for child in children if isinstance(children, list) else []:
                yield from segment_refs(child)
        if "not" in rules:
            yield from segment_refs(rules["not"])


def segment_cycle(start: int, *, target: int | None) -> list[str] | None:
    """Names along a chain of segment references from `start` back to `target` or to itself."""
    names = dict(Segment.objects.values_list("pk", "name"))
    rules = dict(Segment.objects.filter(kind=Segment.Kind.DYNAMIC).values_list("pk", "rules"))

    def walk(pk: int, path: list[int]) -> list[int] | None:
        if pk == target or pk in path:
            return [*path, pk]
        for ref in segment_refs(rules.get(pk, {})):
            if isinstance(ref, int) and ref in names:
                found = walk(ref, [*path, pk])
                if found:
                    return found
        return None

    chain = walk(start, [] if target is None else [target])
    return [names.get(pk, str(pk)) for pk in chain] if chain else None


class _Validator:
    def __init__(self, segment: Segment | None) -> None:
        self.segment = segment
        self.errors: list[ValidationError] = []
        self._properties: dict[str, ContactProperty] | None = None
        self._topics: set[str] | None = None

    def error(self, path: str, message: str) -> None:
        # Messages are translated where they are built; the path is code, never translated.
        self.errors.append(ValidationError("%(path)s: %(message)s",
                                           params={"path": path or "rules", "message": message}))

    @property
    def properties(self) -> dict[str, ContactProperty]:
        if self._properties is None:
            self._properties = {p.key: p for p in ContactProperty.objects.all()}
        return self._properties

    @property
    def topics(self) -> set[str]:
        if self._topics is None:
            self._topics = set(Topic.objects.values_list("slug", flat=True))
        return self._topics

    def node(self, node: Any, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.error(path, _("the rules are nested too deeply"))
            return
        if not isinstance(node, dict):
            self.error(path, _("expected an object, a group or a condition"))
            return
        groups = [k for k in ("all", "any", "not") if k in node]
        if groups:
            if len(node) != 1:
                self.error(path, _("a group has exactly one key: all, any or not"))
                return
            key = groups[0]
            if key == "not":
                self.node(node["not"], self._join(path, "not"), depth + 1)
                return
            children = node[key]
            if not isinstance(children, list):
                self.error(path, _('"%(key)s" must be a list of conditions') % {"key": key})
                return
            for index, child in enumerate(children):
                self.node(child, self._join(path, f"{key}[{index}]"), depth + 1)
            return
        # "topic" is also the optional companion of "consent".
        kinds = ["consent"] if "consent" in node else [k for k in CONDITION_KEYS if k in node]
        if len(kinds) != 1:
            self.error(path, _("unknown condition: expected one of %(keys)s")
                       % {"keys": ", ".join(("all", "any", "not", *CONDITION_KEYS))})
            return
        check: Callable[[dict[str, Any], str], None] = getattr(self, f"check_{kinds[0]}")
        check(node, path)

    @staticmethod
    def _join(path: str, part: str) -> str:
        return f"{path}.{part}" if path else part

    def _extra_keys(self, node: dict[str, Any], path: str, allowed: set[str]) -> bool:
        extra = sorted(set(node) - allowed)
        if extra:
            self.error(path, _("unexpected keys: %(keys)s") % {"keys": ", ".join(extra)})
        return bool(extra)

    def _operator(self, node: dict[str, Any], path: str, kind: str, subject: str,
                  choices: list[str] | None = None) -> None:
        op = node.get("op")
        if op not in TYPE_OPERATORS[kind]:
            self.error(path, _('unknown operator "%(op)s" for %(subject)s')
                       % {"op": op, "subject": subject})
            return
        if op not in PRESENCE and "value" not in node:
            self.error(path, _('operator "%(op)s" needs a value') % {"op": op})
            return
        problem = value_error(kind, op, node.get("value"), choices)
        if problem:
            self.error(path, problem)

    def check_field(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"field", "op", "value"}):
            return
        name = node["field"]
        if name not in FIELD_TYPES:
            self.error(path, _('unknown field "%(field)s"') % {"field": name})
            return
        subject = _('field "%(field)s"') % {"field": name}
        self._operator(node, path, FIELD_TYPES[name], subject, FIELD_CHOICES.get(name))
        if name == "persona" and node.get("op") in {"eq", "ne", "in"}:
            wanted: Any = node.get("value")
            ids: set[int] = set(wanted) if isinstance(wanted, list) else {wanted}
            if all(isinstance(i, int) for i in ids):
                known = set(Persona.objects.filter(pk__in=ids).values_list("pk", flat=True))
                for missing in sorted(ids - known):
                    self.error(path, _("unknown persona %(id)s") % {"id": missing})

    def check_property(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"property", "op", "value"}):
            return
        key = node["property"]
        definition = self.properties.get(key) if isinstance(key, str) else None
        if definition is None:
            self.error(path, _('unknown custom property "%(key)s"') % {"key": key})
            return
        subject = _('property "%(key)s"') % {"key": key}
        self._operator(node, path, PROPERTY_TYPES[definition.type], subject,
                       list(definition.choices) or None)

    def check_topic(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"topic"}):
            return
        if node["topic"] not in self.topics:
            self.error(path, _('unknown topic "%(slug)s"') % {"slug": node["topic"]})

    def check_tag(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"tag"}):
            return
        name = node["tag"]
        if not isinstance(name, str) or not Tag.objects.filter(name=name).exists():
            self.error(path, _('unknown tag "%(name)s"') % {"name": name})

    def check_consent(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"consent", "topic"}):
            return
        purpose = node["consent"]
        if purpose not in ConsentRecord.Purpose.values:
            self.error(path, _('unknown consent purpose "%(purpose)s"') % {"purpose": purpose})
            return
        has_topic = "topic" in node
        if (purpose == ConsentRecord.Purpose.TOPIC) != has_topic:
            self.error(path, _('a topic is given exactly for the "topic" consent purpose'))
        elif has_topic and node["topic"] not in self.topics:
            self.error(path, _('unknown topic "%(slug)s"') % {"slug": node["topic"]})

    def check_segment(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"segment"}):
            return
        ref = node["segment"]
        target = self.segment.pk if self.segment is not None else None
        if not isinstance(ref, int) or isinstance(ref, bool):
            self.error(path, _("the segment must be given by its number"))
            return
        if ref == target:
            self.error(path, _("a segment cannot include itself"))
            return
        if not Segment.objects.filter(pk=ref).exists():
            self.error(path, _("unknown segment %(id)s") % {"id": ref})
            return
        chain = segment_cycle(ref, target=target)
        if chain:
            self.error(path, _("segments would include each other in a cycle: %(chain)s")
                       % {"chain": " → ".join(chain)})

    def _days(self, spec: dict[str, Any], path: str) -> None:
        if "days" in spec and not (is_count(spec["days"]) and spec["days"] > 0):
            self.error(path, _('"days" must be a whole number of days, at least 1'))

    def _kind(self, spec: dict[str, Any], path: str) -> bool:
        kind = spec.get("kind")
        if not isinstance(kind, str) or not kind or len(kind) > 40:
            self.error(path, _('"kind" must name a touchpoint kind, e.g. "email_open"'))
            return False
        return True

    def check_behaviour(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"behaviour"}):
            return
        spec = node["behaviour"]
        if not isinstance(spec, dict):
            self.error(path, _('"behaviour" must be an object'))
            return
        if self._extra_keys(spec, path, BEHAVIOUR_KEYS) or not self._kind(spec, path):
            return
        self._days(spec, path)
        subject_type = spec.get("subject_type")
        if subject_type is not None and (
            not isinstance(subject_type, str) or subject_type.count(".") != 1
        ):
            self.error(path, _('"subject_type" must look like "app_label.model"'))
        if "subject_id" in spec and not isinstance(spec["subject_id"], str | int):
            self.error(path, _('"subject_id" must be a text'))
        for bound in ("min", "max"):
            if bound in spec and not is_count(spec[bound]):
                self.error(path, _('"%(key)s" must be a whole number, 0 or more') % {"key": bound})
                return
        if spec.get("min", 0) > spec.get("max", spec.get("min", 0)):
            self.error(path, _('"min" cannot be more than "max"'))

    def check_touchpoint_property(self, node: dict[str, Any], path: str) -> None:
        if self._extra_keys(node, path, {"touchpoint_property"}):
            return
        spec = node["touchpoint_property"]
        if not isinstance(spec, dict):
            self.error(path, _('"touchpoint_property" must be an object'))
            return
        if self._extra_keys(spec, path, TOUCHPOINT_PROPERTY_KEYS) or not self._kind(spec, path):
            return
        self._days(spec, path)
        if not isinstance(spec.get("key"), str) or not spec["key"]:
            self.error(path, _('"key" must name a touchpoint property'))
            return
        op = spec.get("op")
        if op not in TOUCHPOINT_OPERATORS:
            self.error(path, _('unknown operator "%(op)s" for touchpoint property "%(key)s"')
                       % {"op": op, "key": spec["key"]})
            return
        if op in PRESENCE:
            return
        value: Any = spec.get("value")
        listed = op in {"in", "between"} and isinstance(value, list) and value
        sample = value[0] if listed else value
        kind = NUMBER if is_number(sample) else BOOLEAN if isinstance(sample, bool) else TEXT
        if kind == BOOLEAN and op not in {"eq", "ne"}:
            kind = TEXT
        if kind == TEXT and op in {"gt", "gte", "lt", "lte", "between"}:
            kind = NUMBER
        problem = value_error(kind, op, value)
        if problem:
            self.error(path, problem)


def rules_validate(rules: Any, *, segment: Segment | None = None) -> None:
    """Raise ValidationError (one message per bad condition, named by path) unless valid.

    `segment` is the segment the rules belong to, so references back to it are refused.
    """
    if rules == {} or rules is None:
        return
    validator = _Validator(segment)
    validator.node(rules, "", 0)
    if validator.errors:
        raise ValidationError(validator.errors)

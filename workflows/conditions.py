"""Conditions of a touchpoint trigger on the interaction's properties (`[{"key": "nps", "op":
"lte", "value": 6}]`): how they are checked when staff save a workflow (`workflows.graph`) and
whether they hold for a touchpoint (`workflows.triggers`); and the staff a step may notify."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from inbound.lib.staff import staff_addresses_problem as staff_addresses_problem_of

CONDITION_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "contains"}


def conditions_problems(conditions: Any) -> list[str]:
    """What is wrong with a touchpoint trigger's conditions on its properties."""
    if conditions in (None, [], {}):
        return []
    if not isinstance(conditions, list):
        return [_("The interaction's conditions must be a list of conditions.")]
    problems = []
    for index, condition in enumerate(conditions, start=1):
        if (
            not isinstance(condition, dict)
            or not isinstance(condition.get("key"), str)
            or not condition.get("key")
            or condition.get("op") not in CONDITION_OPS
            or "value" not in condition
            or (condition["op"] == "in" and not isinstance(condition["value"], list))
        ):
            problems.append(
                _(
                    "Condition %(n)d of the interaction: give a key, an operator (%(ops)s) and "
                    "a value (a list for «in»)."
                )
                % {"n": index, "ops": ", ".join(sorted(CONDITION_OPS))}
            )
    return problems


def staff_addresses_problem(addresses: str) -> str | None:
    """Why these comma-separated addresses cannot be notified; None when all are active staff."""
    listed = [a.strip() for a in addresses.split(",") if a.strip()]
    if not listed:
        return _("it needs the addresses of the staff to notify.")
    return staff_addresses_problem_of(listed)


def _number(value: Any) -> float | None:
    """A number, or a text that reads as one (form values arrive as text); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    return None


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected  # a yes is not the number 1
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return a == b
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    return bool(actual == expected)


def _order(actual: Any, expected: Any, op: str) -> bool:
    a, b = _number(actual), _number(expected)
    left: Any
    right: Any
    if a is not None and b is not None:
        left, right = a, b
    elif isinstance(actual, str) and isinstance(expected, str):
        left, right = actual, expected  # ISO dates order as text
    else:
        return False
    return bool(
        {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]
    )


def condition_holds(condition: dict[str, Any], properties: Any) -> bool:
    """One {key, op, value} condition on a touchpoint's properties. Numbers (and texts that
    read as numbers) compare as numbers, texts without regard to case; a missing key fails."""
    if not isinstance(properties, dict) or condition.get("key") not in properties:
        return False
    actual, op, expected = properties[condition["key"]], condition.get("op"), condition.get("value")
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op in {"gt", "gte", "lt", "lte"}:
        return _order(actual, expected, str(op))
    if op == "in":
        return isinstance(expected, list) and any(_equal(actual, item) for item in expected)
    if op == "contains":
        if isinstance(actual, list):
            return any(_equal(item, expected) for item in actual)
        return isinstance(actual, str) and str(expected).casefold() in actual.casefold()
    return False


def conditions_hold(conditions: Any, properties: Any) -> bool:
    """Whether every condition holds (no conditions: it does)."""
    if not conditions:
        return True
    if not isinstance(conditions, list):
        return False
    return all(isinstance(c, dict) and condition_holds(c, properties) for c in conditions)

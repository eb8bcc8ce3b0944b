"""FHIRPath evaluation on a hand-made Patient and Observation (expected values worked out by hand)."""

from __future__ import annotations

from typing import Any

import pytest

from medlake.silver.views.engine.errors import ViewDefinitionError
from medlake.silver.views.engine.fhirpath_boundary import (
    date_boundary,
    datetime_boundary,
    decimal_boundary,
    time_boundary,
)
from medlake.silver.views.engine.fhirpath_eval import Context, evaluate
from medlake.silver.views.engine.fhirpath_parse import parse

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "active": True,
    "gender": "female",
    "birthDate": "1980-02",
    "deceasedBoolean": False,
    "name": [
        {"use": "official", "family": "Ng", "given": ["Ada", "B."]},
        {"use": "nickname", "given": ["Addie"]},
    ],
    "extension": [
        {"url": "http://x/race", "extension": [{"url": "omb", "valueCoding": {"code": "2106-3"}}]},
        {"url": "http://x/sex", "valueCode": "F"},
    ],
    "generalPractitioner": [{"reference": "Practitioner/dr1"}, {"reference": "http://h/fhir/Organization/o9/_history/2"}],
}
OBS: dict[str, Any] = {"resourceType": "Observation", "id": "o1", "valueQuantity": {"value": 7.25, "unit": "mg"}}


def run(expr: str, resource: dict[str, Any] = PATIENT, **constants: Any) -> list[Any]:
    return evaluate(parse(expr), [resource], Context(resource, constants, 3))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("id", ["p1"]),
        ("Patient.id", ["p1"]),
        ("name.given", ["Ada", "B.", "Addie"]),
        ("name[1].given", ["Addie"]),
        ("name[5].given", []),
        ("name.given.first()", ["Ada"]),
        ("name.given.last()", ["Addie"]),
        ("name.given.tail()", ["B.", "Addie"]),
        ("name.given.count()", [3]),
        ("name.where(use = 'official').family", ["Ng"]),
        ("name.where(use = %u).given", ["Addie"]),
        ("name.family.exists()", [True]),
        ("name.exists(use = 'maiden')", [False]),
        ("telecom.empty()", [True]),
        ("deceased", [False]),
        ("deceased.ofType(boolean)", [False]),
        ("deceased.ofType(dateTime)", []),
        ("gender.ofType(string)", ["female"]),
        ("extension('http://x/sex').value.ofType(code)", ["F"]),
        ("extension('http://x/race').extension('omb').value.ofType(Coding).code", ["2106-3"]),
        ("name.given.join(' ')", ["Ada B. Addie"]),
        ("telecom.value.join(',')", []),
        ("getResourceKey()", ["p1"]),
        ("generalPractitioner.getReferenceKey()", ["dr1", "o9"]),
        ("generalPractitioner.getReferenceKey(Organization)", ["o9"]),
        ("%rowIndex", [3]),
        ("1 + 2 * 3", [7]),
        ("7 / 2", [3.5]),
        ("7 div 2", [3]),
        ("7 mod 2", [1]),
        ("1 / 0", []),
        ("'a' + 'b'", ["ab"]),
        ("'a' & {}", ["a"]),
        ("-(2)", [-2]),
        ("2 > 1 and 'b' < 'a'", [False]),
        ("{} and false", [False]),
        ("{} and true", []),
        ("{} or true", [True]),
        ("false implies {}", [True]),
        ("true xor true", [False]),
        ("active.not()", [False]),
        ("active = 1", [False]),  # a boolean never equals a number
        ("name.given = 'Ada'", [False]),  # 3 items against 1
        ("name.given != {}", []),
        ("(1 | 2 | 1).count()", [2]),
        ("birthDate.lowBoundary()", ["1980-02-01"]),
        ("birthDate.highBoundary()", ["1980-02-29"]),
    ],
)  # fmt: skip
def test_patient_expressions(expr: str, expected: list[Any]) -> None:
    assert run(expr, u="nickname") == expected


def test_choice_and_quantity() -> None:
    assert run("value.ofType(Quantity).value", OBS) == [7.25]
    assert run("value.value", OBS) == [7.25]
    assert run("value.ofType(string)", OBS) == []
    assert run("value.ofType(Quantity).value.lowBoundary()", OBS) == [7.245]
    assert run("value.ofType(Quantity).value > 7", OBS) == [True]


def test_evaluation_errors_name_the_problem() -> None:
    with pytest.raises(ViewDefinitionError) as info:
        run("name.given + 1")
    assert info.value.message == "path: expected one value, got a collection of 3"
    with pytest.raises(ViewDefinitionError) as info:
        run("gender > 1")
    assert info.value.message == "path: `>` cannot compare str with int"
    with pytest.raises(ViewDefinitionError) as info:
        run("-gender")
    assert info.value.message == "path: unary `-` needs a number, got str"
    with pytest.raises(ViewDefinitionError) as info:
        run("%missing")
    assert info.value.message == "constant: undefined constant `%missing` (defined: none)"


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [(1.0, 0.95, 1.05), (1, 0.5, 1.5), (7.25, 7.245, 7.255), (-2.5, -2.55, -2.45)],
)
def test_decimal_boundary(value: float, low: float, high: float) -> None:
    assert (decimal_boundary(value, False), decimal_boundary(value, True)) == (low, high)


def test_temporal_boundaries() -> None:
    assert (date_boundary("2024", False), date_boundary("2024", True)) == ("2024-01-01", "2024-12-31")
    assert date_boundary("2023-02", True) == "2023-02-28"
    assert date_boundary("not a date", True) is None
    assert time_boundary("12", False) == "12:00:00.000"
    assert time_boundary("12:34:56.7", True) == "12:34:56.700"
    assert datetime_boundary("2010-10-10", False) == "2010-10-10T00:00:00.000+14:00"
    assert datetime_boundary("2010-10", True) == "2010-10-31T23:59:59.999-12:00"
    assert datetime_boundary("2010-10-10T08:30Z", True) == "2010-10-10T08:30:59.999Z"
    assert datetime_boundary("2010-10-10T08:30:00.5-05:00", False) == "2010-10-10T08:30:00.500-05:00"

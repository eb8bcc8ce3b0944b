"""Properties of `run_view` on random Patients, checked against counts computed independently."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from medlake.silver.views.engine import run_view

_text = st.text(alphabet="abcxyz", min_size=1, max_size=4)
_name = st.fixed_dictionaries({}, optional={"family": _text, "given": st.lists(_text, max_size=3)})
_patients = st.lists(
    st.fixed_dictionaries({"resourceType": st.just("Patient")}, optional={"name": st.lists(_name, max_size=3)}),
    max_size=5,
).map(lambda ps: [{**p, "id": f"p{i}"} for i, p in enumerate(ps)])


def _view(iterator: str) -> dict[str, Any]:
    return {"resource": "Patient", "select": [
        {"column": [{"name": "id", "path": "id"}]},
        {iterator: "name", "column": [{"name": "i", "path": "%rowIndex"}, {"name": "family", "path": "family"}],
         "select": [{"column": [{"name": "given", "path": "given", "collection": True}]}]},
    ]}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(_patients)
def test_for_each_and_or_null_match_an_independent_count(patients: list[dict[str, Any]]) -> None:
    inner = run_view(_view("forEach"), patients)
    outer = run_view(_view("forEachOrNull"), patients)
    assert len(inner) == sum(len(p.get("name", [])) for p in patients)
    assert len(outer) == sum(max(1, len(p.get("name", []))) for p in patients)
    expected = [
        {"id": p["id"], "i": i, "family": n.get("family"), "given": n.get("given", [])}
        for p in patients for i, n in enumerate(p.get("name", []))
    ]  # fmt: skip
    assert inner == expected
    nulls = [r for r in outer if r not in expected]
    assert nulls == [{"id": p["id"], "i": 0, "family": None, "given": []} for p in patients if not p.get("name")]


_BOUNDS_VIEW = {"resource": "Observation", "select": [{"column": [
    {"name": "v", "path": "value.ofType(decimal)"}, {"name": "low", "path": "value.ofType(decimal).lowBoundary()"},
    {"name": "high", "path": "value.ofType(decimal).highBoundary()"},
    {"name": "d", "path": "effective.ofType(dateTime)"}, {"name": "d_low", "path": "effective.ofType(dateTime).lowBoundary()"},
    {"name": "d_high", "path": "effective.ofType(dateTime).highBoundary()"}]}]}  # fmt: skip
_dates = st.builds(lambda y, m, d, n: f"{y:04d}-{m:02d}-{d:02d}"[: (4, 7, 10)[n]],
                   st.integers(1900, 2100), st.integers(1, 12), st.integers(1, 28), st.integers(0, 2))  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-10**6, 10**6), _dates)
def test_boundaries_enclose_the_value_and_keep_its_prefix(value: float, date: str) -> None:
    resource = {"resourceType": "Observation", "id": "o", "valueDecimal": value, "effectiveDateTime": date}
    [row] = run_view(_BOUNDS_VIEW, [resource])
    assert row["low"] <= value <= row["high"]  # equal only where the half-digit is below the float resolution
    assert row["high"] - row["low"] <= 1.0 + 1e-9  # half a unit of the last written digit on each side
    assert row["d_low"].startswith(date) and row["d_high"].startswith(date[:4])
    assert row["d_low"] <= row["d_high"]
    assert row["d_low"].endswith("T00:00:00.000+14:00") and row["d_high"].endswith("T23:59:59.999-12:00")

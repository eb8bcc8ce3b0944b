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

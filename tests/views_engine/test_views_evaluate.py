"""`run_view` on hand-made resources: joins, null rows, repeat, unionAll, row indexes, errors."""

from __future__ import annotations

from typing import Any

import pytest

from medlake.silver.views.engine import ViewDefinitionError, run_view

P1: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "name": [{"family": "Ng", "given": ["Ada", "B."]}, {"family": "Oh"}],
    "telecom": [{"system": "phone", "value": "555"}],
}
P2: dict[str, Any] = {"resourceType": "Patient", "id": "p2"}
Q: dict[str, Any] = {
    "resourceType": "Questionnaire",
    "id": "q1",
    "item": [{"linkId": "1", "item": [{"linkId": "1.1", "item": [{"linkId": "1.1.1"}]}]}, {"linkId": "2"}],
}
RESOURCES = [P1, P2, Q]


def c(name: str, path: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "path": path, **kw}


def test_other_resource_types_are_skipped_and_columns_keep_order() -> None:
    rows = run_view({"resource": "Patient", "select": [{"column": [c("id", "id"), c("fam", "name.family.first()")]}]}, RESOURCES)
    assert rows == [{"id": "p1", "fam": "Ng"}, {"id": "p2", "fam": None}]
    assert [list(r) for r in rows] == [["id", "fam"], ["id", "fam"]]


def test_for_each_is_an_inner_join_and_or_null_a_left_join() -> None:
    inner = {"resource": "Patient", "select": [{"column": [c("id", "id")]},
                                               {"forEach": "name", "column": [c("i", "%rowIndex"), c("fam", "family")]}]}
    assert run_view(inner, RESOURCES) == [{"id": "p1", "i": 0, "fam": "Ng"}, {"id": "p1", "i": 1, "fam": "Oh"}]
    outer = {"resource": "Patient", "select": [{"column": [c("id", "id")]},
                                               {"forEachOrNull": "name", "column": [c("fam", "family")]}]}
    assert run_view(outer, RESOURCES) == [{"id": "p1", "fam": "Ng"}, {"id": "p1", "fam": "Oh"}, {"id": "p2", "fam": None}]


def test_sibling_selects_cross_join() -> None:
    view = {"resource": "Patient", "where": [{"path": "id = 'p1'"}],
            "select": [{"forEach": "name", "column": [c("fam", "family")]},
                       {"forEach": "name.given", "column": [c("g", "$this")]}]}
    assert run_view(view, RESOURCES) == [
        {"fam": "Ng", "g": "Ada"}, {"fam": "Ng", "g": "B."}, {"fam": "Oh", "g": "Ada"}, {"fam": "Oh", "g": "B."},
    ]  # fmt: skip


def test_repeat_walks_depth_first_with_row_index() -> None:
    view = {"resource": "Questionnaire", "select": [{"repeat": ["item"], "column": [c("i", "%rowIndex"), c("link", "linkId")]}]}
    assert run_view(view, RESOURCES) == [
        {"i": 0, "link": "1"}, {"i": 1, "link": "1.1"}, {"i": 2, "link": "1.1.1"}, {"i": 3, "link": "2"},
    ]  # fmt: skip


def test_union_all_concatenates_branches() -> None:
    view = {"resource": "Patient", "select": [{"column": [c("id", "id")], "unionAll": [
        {"forEach": "telecom", "column": [c("v", "value"), c("src", "'telecom'")]},
        {"forEach": "name", "column": [c("v", "family"), c("src", "'name'")]},
    ]}]}  # fmt: skip
    assert run_view(view, RESOURCES) == [
        {"id": "p1", "v": "555", "src": "telecom"}, {"id": "p1", "v": "Ng", "src": "name"}, {"id": "p1", "v": "Oh", "src": "name"},
    ]  # fmt: skip


def test_collection_columns_are_lists_and_constants_substitute() -> None:
    view = {"resource": "Patient", "constant": [{"name": "who", "valueString": "p2"}],
            "select": [{"column": [c("id", "id"), c("given", "name.given", collection=True), c("me", "id = %who")]}]}
    assert run_view(view, RESOURCES) == [
        {"id": "p1", "given": ["Ada", "B."], "me": False}, {"id": "p2", "given": [], "me": True},
    ]  # fmt: skip


def test_several_values_in_a_single_column_is_an_error() -> None:
    with pytest.raises(ViewDefinitionError) as info:
        run_view({"resource": "Patient", "select": [{"column": [c("fam", "name.family")]}]}, RESOURCES)
    assert info.value.message == (
        "column: column `fam` path `name.family` yielded 2 values; "
        "set `collection: true` or narrow the path (e.g. with first())"
    )
    assert info.value.context["resource_id"] == "p1"


def test_where_must_be_boolean() -> None:
    view = {"resource": "Patient", "select": [{"column": [c("id", "id")]}], "where": [{"path": "name.family"}]}
    with pytest.raises(ViewDefinitionError) as info:
        run_view(view, RESOURCES)
    assert info.value.message == "where: where path `name.family` must yield a boolean, got 2 value(s) of type str"

"""ViewDefinition validation: each invalid view with the exact message naming the element."""

from __future__ import annotations

from typing import Any

import pytest

from medlake.silver.views.engine import ViewDefinitionError, parse_view


def col(path: Any, name: str = "x") -> dict[str, Any]:
    return {"resource": "Patient", "select": [{"column": [{"name": name, "path": path}]}]}


BAD: list[tuple[Any, str]] = [
    ([], "a ViewDefinition must be a JSON object, got list"),
    ({}, 'resource: is required: the FHIR resource type the view reads, e.g. "Patient"'),
    ({"resource": "Patient"}, "select: must be a non-empty list of selects"),
    ({"resource": "Patient", "select": [{}]}, "select[0]: needs at least one of column, select, unionAll"),
    ({"resource": "Patient", "select": [{"forEach": 1}]}, "select[0].forEach: a FHIRPath must be a string, got int 1"),
    ({"resource": "Patient", "select": [{"forEach": "@@"}]},
     "select[0].forEach: unexpected character '@' at position 0 in FHIRPath `@@`"),
    ({"resource": "Patient", "select": [{"forEach": "a", "repeat": ["b"]}]},
     "select[0]: use one of forEach, forEachOrNull, repeat; got forEach, repeat"),
    ({"resource": "Patient", "select": [{"repeat": [], "column": [{"name": "x", "path": "id"}]}]},
     "select[0]: `repeat` needs at least one path"),
    ({"resource": "Patient", "select": [{"column": {"name": "x"}}]}, "select[0]: `column` must be a list, got dict"),
    (col("name."), "select[0].column[0].path: expected a name after '.', found end of expression at position 5 in FHIRPath `name.`"),
    (col(None), "select[0].column[0].path: a FHIRPath must be a string, got NoneType None"),
    (col("%nope"), "select[0].column[0].path: undefined constant `%nope` (defined: none)"),
    (col("id", "1x"), "select[0].column[0]: column name '1x' must start with a letter and hold only letters, digits and _"),
    ({"resource": "Patient", "select": [{"column": [{"name": "x", "path": "id", "collection": "yes"}]}]},
     "select[0].column[0]: `collection` must be true or false"),
    ({"resource": "Patient", "select": [{"column": [{"name": "x", "path": "id"}, {"name": "x", "path": "id"}]}]},
     "column: column name `x` is used twice; column names must be unique"),
    ({"resource": "Patient", "constant": [{"name": "a"}], "select": [{"column": [{"name": "x", "path": "%a"}]}]},
     "constant[0]: constant `a` needs exactly one value[x] (valueString, valueInteger, …), got 0"),
    ({"resource": "Patient", "constant": {"name": "a"}, "select": [{"column": [{"name": "x", "path": "id"}]}]},
     "constant: must be a list of {name, value[x]}"),
    ({"resource": "Patient", "select": [{"unionAll": [{"column": [{"name": "a", "path": "id"}]},
                                                      {"column": [{"name": "b", "path": "id"}]}]}]},
     "select[0].unionAll[1]: unionAll branches must have the same columns in the same order: "
     "branch 0 has ['a'], branch 1 has ['b']"),
    ({"resource": "Patient", "select": [{"column": [{"name": "x", "path": "id"}]}], "where": [{"path": "a b"}]},
     "where[0].path: unexpected 'b' at position 2 in FHIRPath `a b`"),
    ({"resource": "Patient", "select": [{"column": [{"name": "x", "path": "id"}]}], "where": [{}]},
     "where[0]: must be an object with a `path`"),
]  # fmt: skip


@pytest.mark.parametrize(("view", "message"), BAD)
def test_invalid_views_are_rejected_naming_the_element(view: Any, message: str) -> None:
    with pytest.raises(ViewDefinitionError) as info:
        parse_view(view)
    assert info.value.message == message


def test_column_order_is_columns_then_nested_selects_then_union() -> None:
    vd = parse_view({
        "resource": "Patient",
        "select": [
            {"column": [{"name": "a", "path": "id"}],
             "unionAll": [{"column": [{"name": "u", "path": "id"}]}, {"column": [{"name": "u", "path": "id"}]}],
             "select": [{"forEach": "name", "column": [{"name": "n", "path": "family"}]}]},
            {"column": [{"name": "z", "path": "id"}]},
        ],
        "constant": [{"name": "c", "valueInteger": 2}],
    })  # fmt: skip
    assert vd.column_names() == ["a", "n", "u", "z"]
    assert vd.constants == {"c": 2}

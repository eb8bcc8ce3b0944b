"""Value conversion: bad values → exact row problems; time zones, DST and original text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mapping_helpers import CTX, rows_table

from medlake.silver.mappings.delimited import MappingContext, MappingSpec, load_spec, map_rows

SPEC = """\
name: values
kinds:
  rows:
    match: ["*.csv"]
    resources:
      - type: Observation
        id: "{ID}"
        fields:
          status: final
          valueInteger: {column: INT, type: integer}
          valueDecimal: {column: DEC, type: decimal}
          valueBoolean: {column: BOOL, type: boolean}
          issued: {column: INSTANT, type: instant}
          effectiveDateTime: {column: TS, type: datetime}
          note[0].time: {column: DATE, type: date}
          code.text: {column: CODE, map: {a: A, b: B}, strict: true}
          valueDateTime: {template: "{DAY} {TIME}", type: datetime}
"""


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> MappingSpec:
    path: Path = tmp_path_factory.mktemp("spec") / "values.yaml"
    path.write_text(SPEC)
    return load_spec(str(path))


COLUMNS = ("INT", "DEC", "BOOL", "INSTANT", "TS", "DATE", "CODE", "DAY", "TIME")


def one(spec: MappingSpec, ctx: MappingContext = CTX, **row: str | None) -> Any:
    """Map one row (columns not given are empty): its problems, or its one resource."""
    full = {"ID": "1", **dict.fromkeys(COLUMNS), **row}
    out = map_rows(spec, "rows", rows_table([full]), ctx)
    if out.problems:
        return out.problems
    return out.resources[0].resource


TRIED = "tried ISO 8601, %Y%m%d, %Y%m%d%H%M%S, %m/%d/%Y, %m/%d/%Y %H:%M, %m/%d/%Y %H:%M:%S"
BAD_VALUES = [
    ("INT", "12a", "column `INT`: `12a` is not an integer"),
    ("INT", "1.5", "column `INT`: `1.5` is not an integer"),
    ("DEC", "NaN", "column `DEC`: `NaN` is not a decimal"),
    ("DEC", "1,5", "column `DEC`: `1,5` is not a decimal"),
    (
        "BOOL",
        "maybe",
        "column `BOOL`: `maybe` is not a boolean (use true/false, 1/0, y/n or yes/no)",
    ),
    ("DATE", "13/45/2001", f"column `DATE`: `13/45/2001` is not a date ({TRIED})"),
    ("DATE", "2023-02-30", f"column `DATE`: `2023-02-30` is not a date ({TRIED})"),
    ("TS", "yesterday", f"column `TS`: `yesterday` is not a date-time ({TRIED})"),
    (
        "INSTANT",
        "2023-01-05",
        "column `INSTANT`: `2023-01-05` is not an instant (it has no time of day)",
    ),
    ("CODE", "c", "column `CODE`: `c` is not in the map (allowed: a, b)"),
]


@pytest.mark.parametrize(
    ("column", "value", "message"), BAD_VALUES, ids=[f"{c}={v}" for c, v, _ in BAD_VALUES]
)
def test_bad_value(spec: MappingSpec, column: str, value: str, message: str) -> None:
    problems = one(spec, **{column: value})
    assert [(p.record_index, p.column, p.message) for p in problems] == [(0, column, message)]


def test_template_problem_names_the_template(spec: MappingSpec) -> None:
    (problem,) = one(spec, DAY="2023-01-01", TIME="x")
    assert problem.column is None
    assert (
        problem.message
        == f"template `{{DAY}} {{TIME}}`: `2023-01-01 x` is not a date-time ({TRIED})"
    )
    assert one(spec, DAY="2023-01-01", TIME="08:00")["valueDateTime"] == "2023-01-01T14:00:00Z"


def test_bad_row_emits_nothing_other_rows_go_on(spec: MappingSpec) -> None:
    table = rows_table(
        [
            {"ID": str(i), **dict.fromkeys(COLUMNS), "INT": v}
            for i, v in ((1, "1"), (2, "x"), (3, "3"))
        ]
    )
    out = map_rows(spec, "rows", table, CTX)
    assert [r.source_id for r in out.resources] == ["1", "3"]
    assert [p.record_index for p in out.problems] == [1]


GOOD_VALUES = [
    ("INT", " 42 ", "valueInteger", 42),
    ("INT", "12.0", "valueInteger", 12),
    ("DEC", "0.50", "valueDecimal", 0.5),
    ("DEC", "174", "valueDecimal", 174),
    ("DEC", "-1e3", "valueDecimal", -1000.0),
    ("BOOL", "Y", "valueBoolean", True),
    ("BOOL", "no", "valueBoolean", False),
    ("BOOL", "1", "valueBoolean", True),
]


@pytest.mark.parametrize(("column", "value", "element", "expected"), GOOD_VALUES)
def test_good_value(
    spec: MappingSpec, column: str, value: str, element: str, expected: object
) -> None:
    resource = one(spec, **{column: value})
    assert resource[element] == expected
    assert type(resource[element]) is type(expected)


ORIGINAL = "https://medlake.dev/fhir/StructureDefinition/original-text"


def ext(text: str) -> dict[str, Any]:
    return {"extension": [{"url": ORIGINAL, "valueString": text}]}


# (source text, output in America/Chicago, original text kept?)
TIMES = [
    ("2023-01-05 13:30", "2023-01-05T19:30:00Z", True),  # CST, -6
    ("2023-07-05T13:30:00", "2023-07-05T18:30:00Z", True),  # CDT, -5
    ("2023-03-12 02:30", "2023-03-12T08:30:00Z", True),  # gap → 03:30 CDT
    ("2023-03-12 03:30", "2023-03-12T08:30:00Z", True),  # the same instant
    ("2023-11-05 01:30", "2023-11-05T06:30:00Z", True),  # ambiguous → first (CDT)
    ("2023-11-05 01:30-06:00", "2023-11-05T07:30:00Z", True),  # explicit: second one
    ("2023-01-05T13:30:00+0530", "2023-01-05T08:00:00Z", True),
    ("2023-01-05T19:30:00Z", "2023-01-05T19:30:00Z", False),  # same text: no extension
    ("2023-01-05T19:30:00.250Z", "2023-01-05T19:30:00.25Z", True),
    ("01/05/2023 13:30", "2023-01-05T19:30:00Z", True),
    ("20230105133000", "2023-01-05T19:30:00Z", True),
    ("2023-01-05", "2023-01-05", False),  # a date stays a date
    ("2023-01", "2023-01", False),
    ("1999", "1999", False),
]


@pytest.mark.parametrize(("text", "expected", "kept"), TIMES, ids=[t for t, _, _ in TIMES])
def test_datetime_in_chicago(spec: MappingSpec, text: str, expected: str, kept: bool) -> None:
    resource = one(spec, TS=text)
    assert resource["effectiveDateTime"] == expected
    shadow = resource.get("_effectiveDateTime")
    # the first extension is the original text; the DST cases (02:30, 01:30) carry a
    # time-adjustment extension after it (tested in tests/silver/test_time_dst.py)
    assert (shadow["extension"][:1] if shadow else None) == (ext(text)["extension"] if kept else None)


def test_timezone_comes_from_context(spec: MappingSpec) -> None:
    tokyo = MappingContext("acme", "clinic", "urn:acme:clinic", "Asia/Tokyo")
    assert one(spec, tokyo, TS="2023-01-05 09:00")["effectiveDateTime"] == "2023-01-05T00:00:00Z"


DATES = [
    ("2023-01-05", "2023-01-05", False),
    ("20230105", "2023-01-05", True),
    ("1/5/2023", "2023-01-05", True),
    ("2023-01", "2023-01", False),
    ("2023", "2023", False),
    ("2023-01-05T23:30:00-06:00", "2023-01-05", True),  # the date as written, not shifted
]


@pytest.mark.parametrize(("text", "expected", "kept"), DATES, ids=[t for t, _, _ in DATES])
def test_dates(spec: MappingSpec, text: str, expected: str, kept: bool) -> None:
    resource = one(spec, DATE=text)
    assert resource["note"] == [{"time": expected, **({"_time": ext(text)} if kept else {})}]


def test_instant(spec: MappingSpec) -> None:
    assert one(spec, INSTANT="2023-06-01 08:00")["issued"] == "2023-06-01T13:00:00Z"


def test_empty_values_are_never_written(spec: MappingSpec) -> None:
    resource = one(spec, INT="", DEC="  ", BOOL=None, CODE=None, TS=None, DATE=None)
    assert set(resource) == {"resourceType", "id", "meta", "status"}


def test_original_text_in_a_list_is_aligned(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: l\nkinds:\n  k:\n    match: ['*']\n    resources:\n      - type: Basic\n"
        "        id: '{ID}'\n        fields:\n"
        "          extension[0].url: urn:x\n"
        "          extension[0].valueString: '{A}'\n"
        "          code.coding[0].version: {column: B, type: date}\n"
        "          code.coding[1].version: {column: C, type: date}\n"
    )
    out = map_rows(
        load_spec(str(path)),
        "k",
        rows_table([{"ID": "1", "A": "a", "B": "2020-01-01", "C": "1/2/2020"}]),
        CTX,
    )
    coding = out.resources[0].resource["code"]["coding"]
    assert coding == [
        {"version": "2020-01-01"},
        {"version": "2020-01-02", "_version": ext("1/2/2020")},
    ]

"""parse_fhir and references: containers, bad inputs with exact messages, reference styles."""

from __future__ import annotations

import copy

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medlake.errors import ParseError
from medlake.formats.fhir import (
    FhirEntry,
    ReferenceIndex,
    Target,
    is_contained,
    iter_references,
    parse_fhir,
    rewrite_references,
    source_key,
)

PATIENT = {"resourceType": "Patient", "id": "p1"}


def bundle(*entries: object, type_: str = "collection") -> bytes:
    return orjson.dumps({"resourceType": "Bundle", "type": type_, "entry": list(entries)})


# ------------------------------------------------------------------------------ containers

@pytest.mark.parametrize("type_", ["transaction", "batch", "collection", "searchset", "document", "message"])
def test_bundle_of_any_type(type_: str) -> None:
    result = parse_fhir(bundle({"resource": PATIENT, "fullUrl": "urn:uuid:x"}, type_=type_))
    assert (result.container, result.bundle_type) == ("bundle", type_)
    assert result.entries == [FhirEntry(0, PATIENT, full_url="urn:uuid:x")]


def test_nested_bundle_is_kept_whole() -> None:
    inner = orjson.loads(bundle({"resource": PATIENT}))
    result = parse_fhir(bundle({"resource": inner}, {"resource": PATIENT}))
    assert [e.resource["resourceType"] for e in result.entries] == ["Bundle", "Patient"]
    assert result.entries[0].resource["entry"][0]["resource"] == PATIENT


def test_single_resource_and_ndjson() -> None:
    single = parse_fhir(orjson.dumps(PATIENT, option=orjson.OPT_INDENT_2))
    assert (single.container, single.entries) == ("resource", [FhirEntry(0, PATIENT)])
    ndjson = parse_fhir(b'{"resourceType":"Patient","id":"a"}\n\n{"resourceType":"Patient","id":"b"}\n')
    assert ndjson.container == "ndjson"
    assert [(e.index, e.resource["id"]) for e in ndjson.entries] == [(1, "a"), (3, "b")]


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),
        lambda s: s.encode("utf-16"),
        lambda s: s.encode("utf-16-le"),
        lambda s: s.encode("utf-16-be"),
    ],
    ids=["utf-8-bom", "utf-16-bom", "utf-16-le", "utf-16-be"],
)
def test_bom_and_utf16(encode: object) -> None:
    text = '{"resourceType": "Patient", "id": "p1", "name": [{"family": "Zoë"}]}'
    result = parse_fhir(encode(text))  # type: ignore[operator]
    assert result.entries[0].resource["name"][0]["family"] == "Zoë"


# ------------------------------------------------------------------------ bad entries

BAD_ENTRIES = [
    pytest.param(
        bundle({"resource": PATIENT}, "oops"),
        ["entry 1: expected a Bundle entry (a JSON object), found a string"], id="entry-not-object",
    ),
    pytest.param(
        bundle({"resource": {"id": "x"}}, {"resource": PATIENT}),
        ["entry 0: the object has no `resourceType`; every FHIR resource needs one"], id="no-type",
    ),
    pytest.param(
        bundle({"resource": {"resourceType": 7}}, {"resource": PATIENT}),
        ['entry 0: `resourceType` is a number; expected a resource type name such as "Patient"'],
        id="type-not-string",
    ),
    pytest.param(
        bundle({"resource": ["x"]}, {"resource": PATIENT}),
        ["entry 0: expected a FHIR resource (a JSON object), found an array"], id="resource-array",
    ),
    pytest.param(
        bundle({"request": {"method": "DELETE", "url": "Patient/p9"}}, {"resource": PATIENT}),
        ["entry 0: the entry has no `resource` (request: DELETE Patient/p9); only entries that "
         "carry a resource are read"],
        id="delete-entry",
    ),
    pytest.param(
        b'{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient",\n[1]\n{"id":"b"}\n',
        ['line 2: not valid JSON (unexpected end of data) at col 27: "{\\"resourceType\\":\\"Patient\\","',
         "line 3: expected a FHIR resource (a JSON object), found an array",
         "line 4: the object has no `resourceType`; every FHIR resource needs one"],
        id="ndjson-bad-lines",
    ),
    pytest.param(
        b'{"resourceType":"Patient",\n{"resourceType":"Patient","id":"b"}\n',
        ['line 1: not valid JSON (unexpected end of data) at col 27: "{\\"resourceType\\":\\"Patient\\","'],
        id="ndjson-first-line-broken",
    ),
]


@pytest.mark.parametrize(("data", "expected"), BAD_ENTRIES)
def test_bad_entries_are_problems_and_the_rest_continues(data: bytes, expected: list[str]) -> None:
    result = parse_fhir(data)
    assert [str(p) for p in result.problems] == expected
    assert result.entries, "the good entries are still read"


def test_entry_problem_names_its_type_and_keeps_text() -> None:
    bad = {"resource": {"resourceType": "Observation", "status": "final"}, "fullUrl": 3}
    result = parse_fhir(bundle(bad), errors="collect")
    assert result.problems == []  # a non-string fullUrl is ignored, not fatal
    result = parse_fhir(bundle({"resource": PATIENT}, {"resource": {"resourceType": ""}}))
    [problem] = result.problems
    assert problem.position == "entry 1"
    assert orjson.loads(problem.text or "") == {"resource": {"resourceType": ""}}


def test_error_level_raise_names_the_entry() -> None:
    with pytest.raises(ParseError) as info:
        parse_fhir(bundle({"resource": PATIENT}, {"resource": {"id": "x"}}), name="b.json", errors="raise")
    assert str(info.value) == (
        "b.json: entry 1: the object has no `resourceType`; every FHIR resource needs one"
    )


FILE_ERRORS = [
    pytest.param(b"", "`f.json`: the file is empty; expected FHIR JSON", id="empty"),
    pytest.param(
        b'{"resourceType":"../../evil","id":"1"}',
        '`f.json`: `resourceType` "../../evil" is not a resource type name (letters only, starting upper-case, e.g. "Patient")',
        id="path-like-type",
    ),
    pytest.param(b" \n", "`f.json`: the file is empty; expected FHIR JSON", id="blank"),
    pytest.param(
        b'{\n  "resourceType": "Bundle",\n  "entry": [ }\n',
        '`f.json`: line 3 col 14: not valid JSON (unexpected character, expected a JSON value) at "}\\n"; expected a '
        "FHIR resource, a Bundle, or NDJSON (one resource per line)",
        id="broken-pretty-json",
    ),
    pytest.param(
        b"MSH|^~\\&|EPIC|\r", '`f.json`: line 1 col 1: not valid JSON (unexpected character, expected a JSON value) at '
        '"MSH|^~\\\\&|EPIC|\\r"; expected a FHIR resource, a Bundle, or NDJSON (one resource per line)',
        id="hl7-not-json",
    ),
    pytest.param(
        b"[1, 2]", "`f.json`: expected a FHIR resource (a JSON object), found an array", id="array",
    ),
    pytest.param(
        b'{"id": 1}', "`f.json`: the object has no `resourceType`; every FHIR resource needs one",
        id="no-type",
    ),
    pytest.param(
        b'{"resourceType": "Bundle", "entry": {}}',
        "`f.json`: Bundle.entry is an object; expected an array of entries", id="entry-object",
    ),
]


@pytest.mark.parametrize(("data", "message"), FILE_ERRORS)
def test_whole_file_errors(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_fhir(data, name="f.json", errors="ignore")
    assert str(info.value) == message


def test_not_json_carries_line_and_column() -> None:
    with pytest.raises(ParseError) as info:
        parse_fhir(b'{\n  "resourceType": "Bundle",\n  "entry": [ }\n')
    assert (info.value.line, info.value.column) == (3, 14)


# -------------------------------------------------------------------------- references

ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "e1",
    "subject": {"reference": "urn:uuid:p"},
    "participant": [
        {"individual": {"reference": "Practitioner/d1", "display": "Dr. X"}},
        {"individual": {"display": "no reference here"}},
        {"individual": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|99"}},
    ],
    "contained": [{"resourceType": "Coverage", "id": "cov", "payor": [{"reference": "Organization/o1"}]}],
    "extension": [{"url": "x", "valueReference": {"reference": "#cov"}}],
    "identifier": [{"value": "v", "assigner": {"reference": "Organization/o2"}}],
}


def test_iter_references_paths() -> None:
    assert [(path, ref["reference"]) for path, ref in iter_references(ENCOUNTER)] == [
        ("subject", "urn:uuid:p"),
        ("participant[0].individual", "Practitioner/d1"),
        ("participant[2].individual", "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|99"),
        ("contained[0].payor[0]", "Organization/o1"),
        ("extension[0].valueReference", "#cov"),
        ("identifier[0].assigner", "Organization/o2"),
    ]


def test_rewrite_references_is_a_deep_copy_and_skips_contained() -> None:
    before = copy.deepcopy(ENCOUNTER)
    seen: list[str] = []

    def fn(ref: str) -> str | None:
        seen.append(ref)
        return None if ref.startswith("urn:") else "X/" + ref

    out = rewrite_references(ENCOUNTER, fn)
    assert before == ENCOUNTER, "the input is not mutated"
    assert "#cov" not in seen
    assert out["subject"] == {"reference": "urn:uuid:p"}
    assert out["participant"][0]["individual"] == {"reference": "X/Practitioner/d1", "display": "Dr. X"}
    assert out["contained"][0]["payor"][0]["reference"] == "X/Organization/o1"
    assert out["extension"][0]["valueReference"]["reference"] == "#cov"
    out["participant"][1]["individual"]["display"] = "changed"
    assert ENCOUNTER["participant"][1]["individual"]["display"] == "no reference here"  # type: ignore[index]


def _entry(resource: dict[str, object], full_url: str | None = None, ine: str | None = None) -> FhirEntry:
    return FhirEntry(0, resource, full_url=full_url, if_none_exist=ine)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        (_entry({"resourceType": "Practitioner", "id": "u1"}, "urn:uuid:u1", "identifier=http://npi|9"), "identifier:http://npi|9"),
        (_entry({"resourceType": "Patient", "id": "p1"}, "urn:uuid:u2"), "p1"),
        (_entry({"resourceType": "Patient"}, "urn:uuid:u3"), "u3"),
        (_entry({"resourceType": "Patient"}, "https://ehr.example/fhir/Patient/p4"), "p4"),
        (_entry({"resourceType": "Patient"}, None, "name=Smith"), None),
        (_entry({"resourceType": "Patient"}), None),
    ],
)
def test_source_key(entry: FhirEntry, key: str | None) -> None:
    assert source_key(entry) == key


INDEX = ReferenceIndex.build([
    _entry({"resourceType": "Patient", "id": "p1"}, "urn:uuid:aaaa"),
    _entry({"resourceType": "Organization", "id": "o1"}, "urn:oid:1.2.36.1"),
    _entry({"resourceType": "Patient", "id": "p2"}, "https://ehr.example/fhir/Patient/p2"),
    _entry(
        {"resourceType": "Practitioner", "id": "d1", "identifier": [{"system": "http://npi", "value": "9"}]},
        "urn:uuid:bbbb", "identifier=http://npi|9",
    ),
    _entry({"resourceType": "Location", "id": "l1", "identifier": [{"system": "s", "value": "L 1"}]}),
])


@pytest.mark.parametrize(
    ("reference", "target"),
    [
        ("urn:uuid:aaaa", Target("Patient", "p1")),
        ("urn:uuid:0000", None),
        ("urn:oid:1.2.36.1", Target("Organization", "o1")),
        ("Patient/p1", Target("Patient", "p1")),
        ("Patient/p1/_history/3", Target("Patient", "p1")),
        ("Patient/elsewhere", Target("Patient", "elsewhere")),
        ("Practitioner/d1", Target("Practitioner", "identifier:http://npi|9")),
        ("https://ehr.example/fhir/Patient/p2", Target("Patient", "p2")),
        ("https://other.example/r4/Patient/p9/_history/1", Target("Patient", "p9")),
        ("https://other.example/not-a-reference", None),
        ("Practitioner?identifier=http://npi|9", Target("Practitioner", "identifier:http://npi|9")),
        ("Practitioner?identifier=http%3A%2F%2Fnpi%7C9", Target("Practitioner", "identifier:http://npi|9")),
        ("Practitioner?identifier=http://npi|404", Target("Practitioner", "identifier:http://npi|404")),
        ("Location?identifier=s|L 1", Target("Location", "l1")),
        ("Location?identifier=L 1", Target("Location", "l1")),
        ("Patient?name=Smith", None),
        ("#cov", None),
        ("", None),
        ("not a reference", None),
    ],
)
def test_resolve(reference: str, target: Target | None) -> None:
    assert INDEX.resolve(reference) == target


def test_is_contained() -> None:
    assert is_contained("#x") and not is_contained("Patient/x")


def test_an_empty_ndjson_file_is_zero_resources_not_an_error() -> None:
    from medlake.formats.fhir import parse_fhir

    result = parse_fhir(b"", name="Observation.ndjson")
    assert (result.container, result.entries, result.problems) == ("ndjson", [], [])


def _json_values() -> st.SearchStrategy[object]:
    leaf = st.one_of(st.text(max_size=12), st.integers(-(2**53), 2**53), st.booleans(), st.none())
    ref = st.fixed_dictionaries({"reference": st.text(max_size=20)})
    return st.recursive(
        st.one_of(leaf, ref),
        lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.sampled_from(["a", "subject", "x"]), kids, max_size=4)),
        max_leaves=20,
    )


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(st.sampled_from(["subject", "code", "part", "note"]), _json_values(), max_size=4))
def test_text_rewriting_equals_tree_rewriting(body: dict[str, object]) -> None:
    import orjson

    from medlake.formats.fhir import rewrite_reference_text, rewrite_references

    resource = {"resourceType": "Observation", **body}

    def fn(ref: str) -> str | None:
        return None if ref.startswith("k") else f"X/{ref[::-1]}"

    by_tree = rewrite_references(resource, fn)
    by_text = orjson.loads(rewrite_reference_text(orjson.dumps(resource).decode(), fn))
    assert by_text == by_tree

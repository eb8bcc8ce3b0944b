"""ORU^R01 (and OUL) → DiagnosticReport + Observation (+ Specimen).

Inputs:
- golden/hl7v2_results/oru_r01_results.hl7: written by hand for this test from HL7 v2.5.1
  chapter 7 (ORU^R01): two order groups; NM, SN (comparator, ratio, range), ST with a note,
  TX with formatting and repetitions, DT and CWE values; UCUM named and unnamed units;
  reference ranges `a-b`, `<b`, and text; flags H, LL, N, A; a sub-id and a repeated test;
  an SPM; OBR-8, OBR-24, OBR-32. The expected JSON beside it was worked out by hand.
- golden/hl7v2_results/oru_r01_correction.hl7: written by hand: a final HbA1c and its
  correction (OBR-25 and OBX-11 `C`).
- the public sample messages in ../shared (see its SOURCE.md) and the synthetic lab feed
  (`medlake synth`, `src/medlake/synth/emit_hl7.py`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest
from hl7v2_golden import CTX, GOLDEN, check_golden, map_all, validate_r4

from medlake.formats.hl7v2 import Message, parse_hl7
from medlake.silver.ids import SOURCE_TAG_SYSTEM
from medlake.silver.mappings import hl7v2
from medlake.silver.mappings.hl7v2_common import MESSAGE_TAG_SYSTEM, MessageMapper
from medlake.silver.mappings.hl7v2_values import looks_like_ucum
from medlake.silver.views import flat
from shared_data import shared_path

LOINC = "http://loinc.org"


def test_oru_golden() -> None:
    check_golden("oru_r01_results")
    for m in map_all(GOLDEN / "oru_r01_results.hl7"):
        validate_r4(m)


def test_every_resource_names_the_message_it_came_from() -> None:
    (m,) = map_all(GOLDEN / "oru_r01_results.hl7")
    report = next(r.resource for r in m.resources if r.resource_type == "DiagnosticReport")
    assert report["meta"] == {
        "source": "urn:acme:lab",
        "tag": [
            {"system": SOURCE_TAG_SYSTEM, "code": "lab"},
            {"system": MESSAGE_TAG_SYSTEM, "code": "MSG-ORU-001", "display": "ORU^R01"},
        ],
    }


def test_correction_is_a_new_version_of_the_same_observation() -> None:
    original, correction = map_all(GOLDEN / "oru_r01_correction.hl7")

    def first(m: MessageMapper, rtype: str) -> tuple[str, dict[str, object]]:
        r = next(r for r in m.resources if r.resource_type == rtype)
        return r.id, r.resource

    (obs_id, before), (again_id, after) = first(original, "Observation"), first(correction, "Observation")
    assert obs_id == again_id
    assert (before["status"], before["valueQuantity"]) == ("final", {"value": 7.9, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"})
    assert (after["status"], after["valueQuantity"]) == ("corrected", {"value": 6.9, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"})
    assert after["note"] == [{"text": "Corrected result: previously reported as 7.9 %"}]
    (report_id, report), (report_again, corrected) = first(original, "DiagnosticReport"), first(correction, "DiagnosticReport")
    assert report_id == report_again
    assert (report["status"], corrected["status"]) == ("final", "corrected")
    assert (report["issued"], corrected["issued"]) == ("2024-03-06T18:00:00Z", "2024-03-07T15:00:00Z")


def test_result_of_an_order_points_at_the_orders_service_request() -> None:
    """The ORU's DiagnosticReport.basedOn is the id the ORM gives its ServiceRequest."""
    (oru,) = map_all(GOLDEN / "oru_r01_results.hl7")
    orm = map_all(GOLDEN / "orm_o01_orders.hl7")[0]
    request = next(r for r in orm.resources if r.resource_type == "ServiceRequest")
    report = next(r.resource for r in oru.resources if r.resource_type == "DiagnosticReport")
    assert report["basedOn"] == [{"reference": f"ServiceRequest/{request.id}"}]


def _map_text(text: str, record_index: int = 0) -> MessageMapper:
    (msg,) = parse_hl7(text.replace("\n", "\r")).messages
    return hl7v2.map_message(msg, CTX, record_index)


HEAD = "MSH|^~\\&|LIS|LAB|EHR|CLINIC|20240305101500||ORU^R01^ORU_R01|BAD-1|P|2.5.1\nPID|1||MRN1^^^HOSP^MR||Doe^Jo\n"
OBR = "OBR|1|P1|F1|GLU^Glucose^L|||20240305081500||||||||||||||||||F\n"


def test_encounter_and_ordering_segments_are_linked() -> None:
    m = _map_text(HEAD + "PV1|1|O|||||||||||||||||V1\n" + OBR + "OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||F\n")
    obs = next(r.resource for r in m.resources if r.resource_type == "Observation")
    assert obs["encounter"] == m.encounter_reference
    assert obs["subject"] == m.patient_reference
    assert {m.msg.ids[i] for i in m.used} >= {"PID", "OBR", "OBX"}


@pytest.mark.parametrize(
    ("segments", "problems"),
    [
        (OBR + "OBX|1|NM|GLU^Glucose^L||12,5|mg/dL|||||F\n",
         ["message 1 OBX.5: `12,5` is not a number (NM: an optional sign, digits and a decimal point); kept as valueString"]),
        (OBR + "OBX|1|NM|GLU^Glucose^L||5.1~5.3|mg/dL|||||F\n",
         ["message 1 OBX.5: NM value repeats (2 values `5.1~5.3`); only the first is mapped"]),
        (OBR + "OBX|1|SN|GLU^Glucose^L||<^abc|mg/dL|||||F\n",
         ["message 1 OBX.5: `<^abc` is not a structured numeric (SN: comparator^number^separator^number); kept as valueString"]),
        (OBR + "OBX|1|TM|TOB^Time of birth^L||2561||||||F\n",
         ["message 1 OBX.5: `2561` is not an HL7 time (TM: HH[MM[SS[.S]]][+/-ZZZZ]); kept as valueString"]),
        (OBR + "OBX|1|DT|LMP^Last period^L||20240231||||||F\n",
         ["message 1 OBX.5: `20240231` is not a valid date"]),
        (OBR + "OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||F|||202402311200\n",
         ["message 1 OBX.14: `202402311200` is not a valid date/time"]),
        (OBR + "OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||Q\n",
         ["message 1 OBX.11: `Q` is not an observation result status (table 0085: C, D, F, I, N, O, P, R, S, U, W, X); status `unknown` is used"]),
        (OBR + "OBX|1|NM|||5.4|mmol/L|||||F\n",
         ["message 1 OBX.3: OBX-3 (observation identifier) is empty: no Observation can be made"]),
        (OBR + "OBX|1|ED|PDF^Report^L||^AP^pdf^Base64^not*base64||||||F\n",
         ["message 1 OBX.5: ED data is not valid base64 (10 characters); the attachment is left out"]),
        ("OBR|1|P1|F1|GLU^Glucose^L|||2024-03-05||||||||||||||||||Q\n",
         ["message 1 OBR.7: `2024-03-05` is not an HL7 date/time (YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ])",
          "message 1 OBR.25: `Q` is not a result status (table 0123: A, C, D, F, I, M, N, O, P, R, S, X, Y, Z); status `unknown` is used"]),
        ("OBR|1|P1|F1||||20240305081500\n",
         ["message 1 OBR.4: OBR-4 (universal service identifier) is empty: no DiagnosticReport can be made"]),
        (OBR + "OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||F\nPID|2||MRN2^^^HOSP^MR||Roe^Al\n" + OBR,
         ["message 1 PID[2]: a second patient (PID) in one message: what follows it is not mapped (one patient per message)"]),
    ],
)  # fmt: skip
def test_bad_values_are_reported_with_their_position(segments: str, problems: list[str]) -> None:
    m = _map_text(HEAD + segments)
    assert [f"{p.position}: {p.message}" for p in m.problems] == problems


def test_a_bad_number_is_kept_as_text() -> None:
    m = _map_text(HEAD + OBR + "OBX|1|NM|GLU^Glucose^L||12,5|mg/dL|||||F\n")
    obs = next(r.resource for r in m.resources if r.resource_type == "Observation")
    assert obs["valueString"] == "12,5" and "valueQuantity" not in obs


def test_report_text_and_documents_become_the_presented_form() -> None:
    """Text OBX without an identifier are the report's narrative; ED values are documents."""
    m = _map_text(HEAD + OBR + "OBX|1|TX|||Line one\\.br\\Line two||||||F\nOBX|2|TX|||Line three||||||F\n"
                  "OBX|3|ED|PDF^Report PDF^L||^AP^pdf^Base64^SGVsbG8=||||||F\n")  # fmt: skip
    report = next(r.resource for r in m.resources if r.resource_type == "DiagnosticReport")
    assert report["presentedForm"] == [
        {"contentType": "text/plain", "data": "TGluZSBvbmUKTGluZSB0d28KTGluZSB0aHJlZQ=="},
        {"contentType": "application/pdf", "data": "SGVsbG8=", "title": "Report PDF"},
    ]
    assert "result" not in report and m.problems == []


def test_oul_specimen_first_and_order_after_its_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """OUL^R22 (v2.5.1 ch. 7): SPM before the OBR, and the ORC (optional) after the OBR."""
    monkeypatch.setitem(hl7v2.FAMILIES, "OUL", "hl7v2_oru")
    m = _map_text(
        HEAD.replace("ORU^R01^ORU_R01", "OUL^R22^OUL_R22")
        + "SPM|1|S9^F9||119297000^Blood specimen^SCT\n"
        + "OBR|1|P9|F9|GLU^Glucose^L|||20240305081500||||||||||||||||||F\n"
        + "ORC|SC|P9|F9||CM\n"
        + "OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||F\n"
    )
    spec = m.reference("Specimen", "specimen:S9")
    report = next(r.resource for r in m.resources if r.resource_type == "DiagnosticReport")
    obs = next(r.resource for r in m.resources if r.resource_type == "Observation")
    assert report["specimen"] == [spec] and obs["specimen"] == spec
    assert report["basedOn"] == [m.reference("ServiceRequest", "P9")]
    assert [i["value"] for i in report["identifier"]] == ["P9", "F9"]
    assert m.used == set(range(1, len(m.msg)))
    assert m.problems == []


@pytest.mark.parametrize(
    ("unit", "ucum"),
    [("mg/dL", True), ("mmol/L", True), ("%", True), ("10*3/uL", True), ("mL/min/{1.73_m2}", True),
     ("/mm3", True), ("mm[Hg]", True), ("[IU]/L", True), ("g", True), ("umol/l", True),
     ("grams", False), ("beats/min", False), ("mill/mm3", False), ("43", False), ("mg/hr", False), ("", False)],
)  # fmt: skip
def test_units_that_read_as_ucum(unit: str, ucum: bool) -> None:
    assert looks_like_ucum(unit) is ucum


# -- the sample messages in ../shared ---------------------------------------------------------
RESULT_TYPES = ("ORU", "OUL")


def sample_messages(types: tuple[str, ...]) -> Iterator[tuple[str, int, Message]]:
    root = shared_path("data", "hl7v2-samples")
    with (root / "INDEX.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        path = root / row["file"]
        parsed = parse_hl7(path.read_bytes(), name=path.name, errors="ignore")
        for i, msg in enumerate(parsed.messages):
            if (msg.message_type or "").upper() in types:
                yield row["file"], i, msg


@pytest.mark.shared
def test_every_sample_result_message_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fhir.resources", reason="fhir.resources (dev extra) validates FHIR")
    monkeypatch.setitem(hl7v2.FAMILIES, "OUL", "hl7v2_oru")  # OUL results are ORU-shaped
    reports = observations = 0
    for name, i, msg in sample_messages(RESULT_TYPES):
        m = hl7v2.map_message(msg, CTX, i)
        validate_r4(m, per_type=15)
        kinds = [r.resource_type for r in m.resources]
        reports += kinds.count("DiagnosticReport")
        observations += kinds.count("Observation")
        assert kinds.count("DiagnosticReport") + kinds.count("Observation") > 0, name
    assert reports > 100 and observations > 1000


# -- the synthetic lab feed ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab_feed(tmp_path_factory: pytest.TempPathFactory) -> list[MessageMapper]:
    from medlake.synth.generate import generate

    out = tmp_path_factory.mktemp("labsynth")
    generate(out, 40, seed=7)
    mapped = []
    for path in sorted((out / "lab").glob("oru_*.hl7")):
        parsed = parse_hl7(path.read_bytes(), name=path.name)
        assert parsed.problems == []
        mapped += [hl7v2.map_message(msg, CTX, i) for i, msg in enumerate(parsed.messages)]
    return mapped


def test_synthetic_lab_feed_maps_without_problems(lab_feed: list[MessageMapper]) -> None:
    assert len(lab_feed) > 50
    assert [p for m in lab_feed for p in m.problems] == []
    for m in lab_feed:
        kinds = {r.resource_type for r in m.resources}
        assert {"Patient", "DiagnosticReport", "Observation"} <= kinds
        assert {i for i, sid in enumerate(m.msg.ids) if sid not in ("MSH",)} <= m.used


def test_synthetic_hba1c_carries_loinc_and_a_quantity(lab_feed: list[MessageMapper]) -> None:
    a1c = [
        r.resource for m in lab_feed for r in m.resources
        if r.resource_type == "Observation" and r.resource["code"]["coding"][0]["code"] == "A1C"
    ]  # fmt: skip
    assert len(a1c) > 5
    for obs in a1c:
        assert {"system": LOINC, "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"} in obs["code"]["coding"]
        assert isinstance(obs["valueQuantity"]["value"], int | float)
        assert obs["valueQuantity"]["code"] == "%"
        assert obs["effectiveDateTime"].endswith("Z")


def test_synthetic_corrections_land_on_the_originals(lab_feed: list[MessageMapper]) -> None:
    first_seen: dict[str, str] = {}
    corrected = 0
    for m in lab_feed:
        for r in m.resources:
            if r.resource_type != "Observation":
                continue
            if r.resource["status"] == "corrected":
                assert first_seen.get(r.id) == "final", r.source_id
                corrected += 1
            first_seen.setdefault(r.id, r.resource["status"])
    assert corrected > 0


def test_synthetic_observations_flow_into_the_observation_view(lab_feed: list[MessageMapper]) -> None:
    """The flat view gold reads: LOINC as `code`, the quantity as `value_number`, the time."""
    import json

    latest = {r.id: r for m in lab_feed for r in m.resources if r.resource_type == "Observation"}
    table = pa.table({
        "id": [r.id for r in latest.values()],
        "patient_id": [r.patient_id for r in latest.values()],
        "source": ["lab"] * len(latest),
        "source_system": ["urn:acme:lab"] * len(latest),
        "last_updated": pa.array([None] * len(latest), pa.timestamp("us", tz="UTC")),
        "resource": [json.dumps(r.resource) for r in latest.values()],
    })  # fmt: skip
    con = duckdb.connect()
    con.execute("CREATE SCHEMA silver")
    con.register("observation_rows", table)
    con.execute("CREATE TABLE silver.observation AS SELECT * FROM observation_rows")
    rows = flat.materialize(con, "observation").to_pylist()
    a1c = [r for r in rows if r["code"] == "4548-4"]
    assert a1c and all(r["value_number"] is not None and r["effective_at"] is not None for r in a1c)
    assert all(r["category"] == "laboratory" and r["patient_id"] for r in rows)

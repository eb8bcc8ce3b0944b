"""HL7 v2 ADT → FHIR R4: golden messages, events, merges, bad values, real and synthetic feeds.

Golden inputs (`golden/hl7v2/adt_*.hl7`) were written by hand for these tests from the segment
definitions of HL7 v2.5 chapter 3 (patient administration): one admit exercising every PID,
PD1, NK1, PV1, PV2, AL1, DG1 and IN1 field the mapping reads, then the same stay transferred
(A02), discharged (A03) and cancelled (A11), an ED registration (A04) and its update (A08), a
person registration (A28) and a merge (A40, in the exact shape the synthetic ADT feed writes:
`src/medlake/synth/emit_hl7.py`). The expected resources (`*.expected.json`) were worked out by
hand from the inputs, the HL7 tables and the FHIR R4 value sets; resource ids in them are
written `Type[source key]` and references `Type/Type[source key]` (the test swaps the silver
ids for these), and `meta` is checked once, in `test_ids_meta_and_patient_ids`.

FHIR validation uses `fhir.resources.R4B`: fhir.resources 8 ships R5 (top level), R4B and STU3
but no R4 package, and R4B is R4 for every resource mapped here (as in
`test_mapping_synthea.py`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medlake.formats.hl7v2 import Message, parse_hl7
from medlake.silver.ids import SOURCE_TAG_SYSTEM, silver_id
from medlake.silver.mappings.hl7v2 import ALWAYS_USED, map_message
from medlake.silver.mappings.hl7v2_common import MESSAGE_TAG_SYSTEM, Hl7Context, MessageMapper
from medlake.silver.store import content_hash

GOLDEN = Path(__file__).parent / "golden" / "hl7v2"
CTX = Hl7Context("acme", "adt", "urn:acme:adt", "America/Chicago")


# -- helpers (the SIU/DFT tests use them too) ------------------------------------------------------
def parse(text: str) -> Message:
    """The one message of `text` (segments may be given one per line)."""
    messages = parse_hl7(text.replace("\n", "\r").encode(), name="test.hl7").messages
    assert len(messages) == 1
    return messages[0]


def run(text: str) -> MessageMapper:
    return map_message(parse(text), CTX, 0)


def readable(m: MessageMapper) -> list[dict[str, Any]]:
    """The resources without `meta`, silver ids replaced by `Type[source key]`."""
    names = {r.id: f"{r.resource_type}[{r.source_id}]" for r in m.resources}
    for rtype, key in (("Patient", m.patient_key), ("Encounter", m.encounter_key)):
        if key:
            names[m.id_of(rtype, key)] = f"{rtype}[{key}]"
    text = json.dumps([{k: v for k, v in r.resource.items() if k != "meta"} for r in m.resources])
    for rid, name in names.items():
        text = text.replace(rid, name)
    out: list[dict[str, Any]] = json.loads(text)
    return out


def unmapped(m: MessageMapper) -> list[str]:
    return [sid for i, sid in enumerate(m.msg.ids) if i not in m.used and sid not in ALWAYS_USED]


def check_golden(name: str) -> MessageMapper:
    """Map `golden/hl7v2/<name>.hl7` and compare with `<name>.expected.json`."""
    m = run((GOLDEN / f"{name}.hl7").read_text("utf-8"))
    expected = json.loads((GOLDEN / f"{name}.expected.json").read_text("utf-8"))
    got = {r["id"]: r for r in readable(m)}
    want = {r["id"]: r for r in expected["resources"]}
    assert sorted(got) == sorted(want)
    for rid, resource in want.items():
        assert got[rid] == resource, rid
    assert [[p.position, p.message] for p in m.problems] == expected["problems"]
    assert unmapped(m) == expected["unmapped"]
    validate(m)
    return m


def validate(m: MessageMapper) -> None:
    """Every resource of `m` parses as its FHIR R4(B) model."""
    pytest.importorskip("fhir.resources", reason="fhir.resources (dev extra) validates FHIR")
    for r in m.resources:
        module = importlib.import_module(f"fhir.resources.R4B.{r.resource_type.lower()}")
        getattr(module, r.resource_type).model_validate(r.resource)


def sample_messages(*types: str) -> Iterator[tuple[str, int, Message]]:
    """(file, index, message) of every message of `types` in the shared HL7 v2 samples."""
    from shared_data import shared_path

    root = shared_path("data", "hl7v2-samples")
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".hl7", ".txt")):
        for i, msg in enumerate(parse_hl7(path.read_bytes(), name=path.name, errors="ignore").messages):
            if (msg.message_type or "").upper() in types:
                yield str(path.relative_to(root)), i, msg


def by_type(m: MessageMapper, rtype: str) -> list[dict[str, Any]]:
    return [r.resource for r in m.resources if r.resource_type == rtype]


def seg(sid: str, fields: dict[int, str]) -> str:
    """A segment from its fields by number (`seg("PV1", {2: "I", 19: "V1"})`)."""
    return "|".join([sid, *(fields.get(n, "") for n in range(1, max(fields) + 1))])


# -- golden messages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["adt_a01", "adt_a02", "adt_a03", "adt_a04", "adt_a11", "adt_a28", "adt_a40"])
def test_golden(name: str) -> None:
    check_golden(name)


def test_ids_meta_and_patient_ids() -> None:
    m = run((GOLDEN / "adt_a01.hl7").read_text("utf-8"))
    patient = silver_id("acme", "urn:acme:adt", "Patient", "1001^HOSP")
    for r in m.resources:
        assert r.id == silver_id("acme", "urn:acme:adt", r.resource_type, r.source_id)
        assert r.resource["id"] == r.id
        assert r.resource["meta"] == {
            "source": "urn:acme:adt",
            "tag": [
                {"system": SOURCE_TAG_SYSTEM, "code": "adt"},
                {"system": MESSAGE_TAG_SYSTEM, "code": "A01-1", "display": "ADT^A01"},
            ],
        }
        shared = r.resource_type in ("Practitioner", "Location", "Organization")
        assert r.patient_id == (None if shared else patient), r.resource_type


def test_a08_is_a_new_version_of_the_same_resources() -> None:
    """A04 then A08 (the address changed): the same ids; only the Patient's content changed."""
    a04 = run((GOLDEN / "adt_a04.hl7").read_text("utf-8"))
    a08 = run((GOLDEN / "adt_a08.hl7").read_text("utf-8"))
    assert a08.problems == [] and unmapped(a08) == []
    validate(a08)
    before = {r.id: r.resource for r in a04.resources}
    after = {r.id: r.resource for r in a08.resources}
    assert sorted(before) == sorted(after)
    changed = {rid for rid in after if content_hash(after[rid]) != content_hash(before[rid])}
    patient = next(r.id for r in a08.resources if r.resource_type == "Patient")
    assert changed == {patient}
    expected = {**before[patient], "address": [{"line": ["40 Oak Rd"], "city": "Skokie", "state": "IL", "postalCode": "60076", "country": "USA"}]}
    assert {k: v for k, v in after[patient].items() if k != "meta"} == {k: v for k, v in expected.items() if k != "meta"}


A01_HEAD = """MSH|^~\\&|HIS|LAKESIDE|MEDLAKE|LAKESIDE|20240305101500||ADT^{event}|C-1|P|2.5
EVN|{event}|20240305101500
PID|1||1001^^^HOSP^MR||Rivera^Ana||19800214|F"""


def adt(event: str, *segments: str) -> str:
    return "\n".join([A01_HEAD.format(event=event), *segments])


def test_a08_with_a_bare_pv1_refers_to_the_visit_without_restating_it() -> None:
    """The synthetic feed's address-change A08 (PV1 without PV1-44) must not reopen a
    finished stay: no Encounter, but what the message maps refers to the visit."""
    bare = seg("PV1", {1: "1", 2: "E", 3: "ED^12", 4: "E", 19: "E0000446-003"})
    m = run(adt("A08", bare, "DG1|1||S93.401A^^I10"))
    assert by_type(m, "Encounter") == []
    assert m.encounter_key == "E0000446-003"
    assert by_type(m, "Condition")[0]["encounter"] == {"reference": m.ref("Encounter", "E0000446-003")}
    assert unmapped(m) == [] and m.problems == []


PV1_OK = seg("PV1", {1: "1", 2: "I", 3: "4W^401", 19: "V1", 44: "202403051000"})


@pytest.mark.parametrize(
    ("event", "discharge", "status", "period"),
    [
        ("A01", "", "in-progress", {"start": "2024-03-05T16:00:00Z"}),
        ("A04", "", "in-progress", {"start": "2024-03-05T16:00:00Z"}),
        ("A05", "", "planned", {"start": "2024-03-05T16:00:00Z"}),
        ("A03", "202403081100", "finished", {"start": "2024-03-05T16:00:00Z", "end": "2024-03-08T17:00:00Z"}),
        ("A11", "", "entered-in-error", {"start": "2024-03-05T16:00:00Z"}),
        # the discharge is cancelled: PV1-45 (still sent) is not the end of the stay
        ("A13", "202403081100", "in-progress", {"start": "2024-03-05T16:00:00Z"}),
        ("A21", "", "onleave", {"start": "2024-03-05T16:00:00Z"}),
        # A08 states no status: a discharge time means the stay is over
        ("A08", "202403081100", "finished", {"start": "2024-03-05T16:00:00Z", "end": "2024-03-08T17:00:00Z"}),
        ("A08", "", "in-progress", {"start": "2024-03-05T16:00:00Z"}),
    ],
)
def test_encounter_status_by_event(event: str, discharge: str, status: str, period: dict[str, str]) -> None:
    m = run(adt(event, PV1_OK + (f"|{discharge}" if discharge else "")))
    (encounter,) = by_type(m, "Encounter")
    assert (encounter["status"], encounter["period"]) == (status, period)
    location_status = "completed" if status == "finished" else "active"
    assert [x["status"] for x in encounter["location"]] == [location_status]


def test_a06_class_change_takes_the_new_class() -> None:
    """A06 (outpatient → inpatient): PV1-2 is the new class; the MRG (prior visit) is left."""
    m = run(adt("A06", PV1_OK, "MRG|1001^^^HOSP^MR||||V0"))
    (encounter,) = by_type(m, "Encounter")
    assert (encounter["class"]["code"], encounter["status"]) == ("IMP", "in-progress")
    assert unmapped(m) == ["MRG"]


@pytest.mark.parametrize("event", ["A28", "A31"])
def test_person_events_map_the_patient_only(event: str) -> None:
    """A28/A31 carry a PV1 (here even with a visit number): no Encounter is written."""
    m = run(adt(event, "PD1||||P9^Moss^Ida", seg("PV1", {1: "1", 2: "O", 19: "V9"})))
    assert sorted({r.resource_type for r in m.resources}) == ["Patient", "Practitioner"]
    assert m.encounter_key == "V9"
    assert unmapped(m) == []


def test_a40_with_two_patient_groups_merges_each() -> None:
    m = run(
        adt(
            "A40",
            "MRG|1002^^^HOSP^MR",
            "PID|1||2001^^^HOSP^MR||Okoro^Ben",
            "MRG|2002^^^HOSP^MR",
        )
    )
    links = {r.source_id: r.resource.get("link") for r in m.resources if r.resource_type == "Patient"}
    assert links == {
        "1001^HOSP": [{"other": {"reference": m.ref("Patient", "1002^HOSP")}, "type": "replaces"}],
        "1002^HOSP": [{"other": {"reference": m.ref("Patient", "1001^HOSP")}, "type": "replaced-by"}],
        "2001^HOSP": [{"other": {"reference": m.ref("Patient", "2002^HOSP")}, "type": "replaces"}],
        "2002^HOSP": [{"other": {"reference": m.ref("Patient", "2001^HOSP")}, "type": "replaced-by"}],
    }
    assert [r.resource.get("active") for r in m.resources] == [None, False, None, False]
    assert unmapped(m) == []


def test_a24_links_the_two_patients_both_ways() -> None:
    m = run(adt("A24", "PID|2||7007^^^CLINIC^MR||Rivera^Ana"))
    links = {r.source_id: r.resource["link"] for r in m.resources}
    assert links == {
        "1001^HOSP": [{"other": {"reference": m.ref("Patient", "7007^CLINIC")}, "type": "seealso"}],
        "7007^CLINIC": [{"other": {"reference": m.ref("Patient", "1001^HOSP")}, "type": "seealso"}],
    }


def test_subscriber_other_than_self_is_a_related_person() -> None:
    m = run(
        adt(
            "A04",
            "NK1|1|Rivera^Luis|SPO^Spouse^HL70063|||^PRN^PH^^^312^5550102",
            seg("IN1", {1: "1", 3: "AET^^^NAIC", 4: "Aetna", 16: "Rivera^Luis", 17: "SPO^Spouse^HL70063", 18: "19790101", 36: "W123"}),
        )
    )
    (coverage,) = by_type(m, "Coverage")
    key = "1001^HOSP|Luis Rivera|SPO"
    assert coverage["subscriber"] == {"reference": m.ref("RelatedPerson", key)}
    assert coverage["relationship"]["coding"][0]["code"] == "spouse"
    # the NK1 of the same person said more (a phone): it is kept, not replaced by the IN1's
    (spouse,) = by_type(m, "RelatedPerson")
    assert spouse["telecom"] == [{"system": "phone", "value": "312-5550102", "use": "home"}]


# -- bad values: the exact problem -------------------------------------------------------------------
BAD = [
    ("PID-7 not a date", adt("A01").replace("19800214", "19801345"),
     [("message 1 PID.7", "`19801345` is not a valid date")]),
    ("PID-7 in another format", adt("A01").replace("19800214", "14/02/1980"),
     [("message 1 PID.7", "`14/02/1980` is not an HL7 date (YYYY[MM[DD]])")]),
    ("PID-3 empty", adt("A01", PV1_OK).replace("1001^^^HOSP^MR", ""),
     [("message 1 PID.3", "PID-3 (patient identifier list) is empty: no Patient can be made")]),
    ("PID-8 not table 0001", adt("A01").replace("|F", "|X"),
     [("message 1 PID.8", "`X` is not an administrative sex (table 0001: A, F, M, N, O, U)")]),
    ("PID-30 not Y/N", adt("A01").replace("|F", "|F" + "|" * 22 + "maybe"),  # PID-8 + 22 = PID-30
     [("message 1 PID.30", "`maybe` is not a yes/no indicator (table 0136: Y, N)")]),
    ("PV1-44 minute 75", adt("A01", PV1_OK.replace("202403051000", "202403051075")),
     [("message 1 PV1.44", "`202403051075` is not a valid date/time")]),
    ("PV1-2 not table 0004", adt("A01", PV1_OK.replace("PV1|1|I|", "PV1|1|Z|")),
     [("message 1 PV1.2", "`Z` is not a patient class (table 0004: B, C, E, I, N, O, P, R, U)")]),
    ("no visit number, no admit time", adt("A01", "PV1|1|I|4W^401"),
     [("message 1 PV1.19", "PV1-19 (visit number) and PV1-44 (admit date/time) are both empty: no Encounter can be made")]),
    ("AL1-3 empty", adt("A01", "AL1|1|DA||SV"),
     [("message 1 AL1.3", "AL1-3 (allergen) is empty: no AllergyIntolerance can be made")]),
    ("AL1-4 not table 0128", adt("A01", "AL1|1|DA|70618^Penicillin^RXNORM|XX"),
     [("message 1 AL1.4", "`XX` is not an allergy severity (table 0128: SV, MO, MI, U)")]),
    ("DG1-5 with dashes", adt("A01", PV1_OK, "DG1|1||R07.9^^I10||2024-03-05"),
     [("message 1 DG1.5", "`2024-03-05` is not an HL7 date/time (YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ])")]),
    ("DG1 without anything", adt("A01", "DG1|||"),
     [("message 1 DG1.3", "DG1-3 (diagnosis code), DG1-4 and DG1-1 are empty: no Condition can be made")]),
    ("IN1 without payer", adt("A01", "IN1|1|PPO1"),
     [("message 1 IN1.3", "IN1-3 (insurance company id) and IN1-4 (company name) are empty: a Coverage needs its payor")]),
    ("MRG-1 empty", adt("A40", "MRG|"),
     [("message 1 MRG.1", "MRG-1 (prior patient identifier list) is empty: the merged patient is unknown")]),
    ("MRG-1 is the survivor", adt("A40", "MRG|1001^^^HOSP^MR"),
     [("message 1 MRG.1", "MRG-1 names the surviving patient itself (`1001^HOSP`): nothing to merge")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "problems"), [(t, p) for _, t, p in BAD], ids=[d for d, _, _ in BAD])
def test_bad_values(text: str, problems: list[tuple[str, str]]) -> None:
    m = run(text)
    assert [(p.position, p.message) for p in m.problems] == problems
    validate(m)


def test_problems_quote_no_patient_data_beyond_the_bad_value() -> None:
    """A problem names the position and the one offending value, never the name or id."""
    m = run(adt("A01").replace("19800214", "19801345"))
    assert all("Rivera" not in p.message and "1001" not in p.message for p in m.problems)


# -- real and synthetic feeds ------------------------------------------------------------------------
def test_shared_adt_samples_map_and_validate() -> None:
    seen = 0
    for _, i, msg in sample_messages("ADT"):
        m = map_message(msg, CTX, i)
        validate(m)
        seen += 1
    assert seen >= 150  # TestADT.txt alone holds 124


@pytest.fixture(scope="module")
def synthetic_adt(tmp_path_factory: pytest.TempPathFactory) -> list[Message]:
    from medlake.synth import emit_hl7
    from medlake.synth.generate import generate

    out = tmp_path_factory.mktemp("adt_feed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(emit_hl7, "DUPLICATE_RATE", 0.3)  # so a few A40 merges show up
        generate(out, 120, seed=5)
    return [msg for p in sorted((out / "adt").glob("*.hl7")) for msg in parse_hl7(p.read_bytes(), name=p.name).messages]


def test_synthetic_adt_feed_maps_without_problems_or_leftovers(synthetic_adt: list[Message]) -> None:
    kinds: set[str] = set()
    for i, msg in enumerate(synthetic_adt):
        m = map_message(msg, CTX, i)
        kinds.add(f"{msg.message_type}^{msg.trigger}")
        assert m.problems == [], msg.control_id
        assert unmapped(m) == [], msg.control_id
        validate(m)
        if msg.trigger == "A40":
            merged = [r.resource for r in m.resources if r.resource.get("active") is False]
            assert len(merged) == 1 and merged[0]["link"][0]["type"] == "replaced-by"
    assert {"ADT^A03", "ADT^A04", "ADT^A40", "DFT^P03"} <= kinds


def test_synthetic_stay_keeps_one_encounter_id(synthetic_adt: list[Message]) -> None:
    """A04/A01 … A03 … DFT of one visit: one Encounter id, finished by the A03, and the DFT's
    charges point at it without writing it again."""
    by_visit: dict[str, list[MessageMapper]] = {}
    for i, msg in enumerate(synthetic_adt):
        m = map_message(msg, CTX, i)
        if m.encounter_key:
            by_visit.setdefault(m.encounter_key, []).append(m)
    stays = [ms for ms in by_visit.values() if any(m.msg.trigger == "A03" for m in ms) and any(m.msg.message_type == "DFT" for m in ms)]
    assert stays
    for ms in stays:
        statuses = [e["status"] for m in ms for e in by_type(m, "Encounter")]
        assert statuses[-1] == "finished"
        for m in ms:
            for charge in by_type(m, "ChargeItem"):
                assert charge["context"] == {"reference": m.ref("Encounter", m.encounter_key or "")}

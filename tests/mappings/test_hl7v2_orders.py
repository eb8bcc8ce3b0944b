"""Orders, immunizations, pharmacy and documents: ORM/OML/OMG → ServiceRequest, VXU →
Immunization, RDE/OMP/RDS → MedicationRequest (+ MedicationDispense), MDM → DocumentReference.

Inputs (golden/hl7v2_results/, each written by hand for these tests from HL7 v2.5.1; the
expected JSON beside each was worked out by hand):
- orm_o01_orders.hl7: a new order (ORM^O01 NW with TQ1, DG1, NTE, OBX, SPM), its cancel
  (ORC-1 CA, no OBR) and an OML^O21 hold (chapter 4).
- vxu_v04.hl7: an administered vaccine with its funding/eligibility/VIS OBX and a refusal
  (chapter 4A, with the CDC immunization guide's conventions: NIP001, ORC-3 `9999`).
- rde_o11.hl7: an RDE^O11 order (RXE, TQ1, RXR, NTE) and the RDS^O13 dispense of it.
- mdm_t02.hl7: an MDM^T02 with three TX lines and its MDM^T11 cancel (chapter 9).
The public samples in ../shared (see its SOURCE.md) are mapped too.
"""

from __future__ import annotations

import pytest
from hl7v2_golden import CTX, GOLDEN, check_golden, map_all, validate_r4
from test_hl7v2_oru import sample_messages

from medlake.formats.hl7v2 import parse_hl7
from medlake.silver.mappings import hl7v2
from medlake.silver.mappings.hl7v2_common import MessageMapper
from shared_data import shared_path

GOLDENS = ["orm_o01_orders", "vxu_v04", "rde_o11", "mdm_t02"]


@pytest.mark.parametrize("name", GOLDENS)
def test_golden(name: str) -> None:
    check_golden(name)


@pytest.mark.parametrize("name", GOLDENS)
def test_golden_resources_are_valid_fhir(name: str) -> None:
    pytest.importorskip("fhir.resources", reason="fhir.resources (dev extra) validates FHIR")
    for m in map_all(GOLDEN / f"{name}.hl7"):
        validate_r4(m)


def _ids(m: MessageMapper, rtype: str) -> list[str]:
    return [r.id for r in m.resources if r.resource_type == rtype]


def test_cancel_is_a_new_version_of_the_order() -> None:
    new, cancel, _ = map_all(GOLDEN / "orm_o01_orders.hl7")
    assert _ids(new, "ServiceRequest") == _ids(cancel, "ServiceRequest")


def test_document_cancel_is_a_new_version_of_the_document() -> None:
    original, cancel = map_all(GOLDEN / "mdm_t02.hl7")
    assert _ids(original, "DocumentReference") == _ids(cancel, "DocumentReference")


def test_dispense_points_at_the_order() -> None:
    order, dispense = map_all(GOLDEN / "rde_o11.hl7")
    (request,) = _ids(order, "MedicationRequest")
    md = next(r.resource for r in dispense.resources if r.resource_type == "MedicationDispense")
    assert md["authorizingPrescription"] == [{"reference": f"MedicationRequest/{request}"}]


def test_immunization_observations_are_part_of_it() -> None:
    (m,) = map_all(GOLDEN / "vxu_v04.hl7")
    first, _refused = _ids(m, "Immunization")
    parts = [r.resource["partOf"] for r in m.resources if r.resource_type == "Observation"]
    assert parts == [[{"reference": f"Immunization/{first}"}]] * 5


def _map_text(text: str) -> MessageMapper:
    (msg,) = parse_hl7(text.replace("\n", "\r")).messages
    return hl7v2.map_message(msg, CTX, 0)


PID = "PID|1||MRN1^^^HOSP^MR||Doe^Jo\n"


def _msh(kind: str) -> str:
    return f"MSH|^~\\&|EHR|CLINIC|LIS|LAB|20240305101500||{kind}|BAD-1|P|2.5.1\n"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (_msh("ORM^O01") + PID + "ORC|NW|O1|||XX\nOBR|1|O1||GLU^Glucose^L\n",
         ["message 1 ORC.5: `XX` is not an order status (table 0038: A, CA, CM, DC, ER, HD, IP, RP, SC)"]),
        (_msh("ORM^O01") + PID + "ORC|ZZ|O1\nOBR|1|O1||GLU^Glucose^L\n",
         ["message 1 ORC.1: `ZZ` is not an order control code (table 0119, e.g. NW new, CA cancel, DC discontinue, SC status changed)"]),
        (_msh("ORM^O01") + PID + "ORC|NW|O1|||||||2024-03-05\nOBR|1|O1||GLU^Glucose^L\n",
         ["message 1 ORC.9: `2024-03-05` is not an HL7 date/time (YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ])"]),
        (_msh("ORM^O01") + "ORC|NW|O1\nOBR|1|O1||GLU^Glucose^L\n",
         ["message 1 ORC: an order without a patient (no PID-3): no ServiceRequest can be made"]),
        (_msh("RDE^O11") + PID + "ORC|NW|RX1\nRXE||860975^Metformin^RXNORM|two||mg\n",
         ["message 1 RXE.3: `two` is not a number (NM: an optional sign, digits and a decimal point)"]),
        (_msh("RDE^O11") + PID + "ORC|NW|RX1\nRXE|||1||mg\n",
         ["message 1 RXE.2: no medication: neither RXE-2 (give code) nor RXO-1 (requested give code) is valued"]),
        (_msh("VXU^V04") + PID + "RXA|0|1|||141^Influenza^CVX\n",
         ["message 1 RXA.3: RXA-3 (date/time start of administration) is empty or not a date: no Immunization can be made"]),
        (_msh("VXU^V04") + PID + "RXA|0|1|20240230||141^Influenza^CVX\n",
         ["message 1 RXA.3: `20240230` is not a valid date",
          "message 1 RXA.3: RXA-3 (date/time start of administration) is empty or not a date: no Immunization can be made"]),
        (_msh("VXU^V04") + PID + "RXA|0|1|20240305||141^Influenza^CVX|0,5||||||||||||||XX\n",
         ["message 1 RXA.20: `XX` is not a completion status (table 0322: CP, PA, RE, NA); status `completed` is used",
          "message 1 RXA.6: `0,5` is not a number (NM: an optional sign, digits and a decimal point)"]),
        (_msh("MDM^T02") + PID + "TXA|1|PN|TX||||||||||D1||||ZZ\n",
         ["message 1 TXA.17: `ZZ` is not a document completion status (table 0271: AU, DI, DO, IN, IP, LA, PA)"]),
    ],
)  # fmt: skip
def test_bad_values_are_reported_with_their_position(text: str, problems: list[str]) -> None:
    m = _map_text(text)
    assert [f"{p.position}: {p.message}" for p in m.problems] == problems


def test_pharmacy_order_in_an_orm_is_a_medication_request() -> None:
    m = _map_text(_msh("ORM^O01") + PID + "ORC|NW|RX2\nRXO|860975^Metformin^RXNORM|500||mg^mg^UCUM|||||G||60|TAB^Tablet|2\n")
    (mr,) = [r.resource for r in m.resources if r.resource_type == "MedicationRequest"]
    assert mr["dosageInstruction"] == [{"doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}]}]
    assert mr["dispenseRequest"] == {"numberOfRepeatsAllowed": 2, "quantity": {"value": 60, "unit": "Tablet"}}
    assert mr["substitution"] == {"allowedBoolean": True}
    assert not [r for r in m.resources if r.resource_type == "ServiceRequest"]


def test_older_quantity_timing_gives_the_schedule() -> None:
    """Before TQ1 (v2.5), RXE-1 (TQ) held the schedule: quantity ^ interval ^ duration ^ start."""
    m = _map_text(_msh("RDE^O11") + PID + "ORC|NW|RX3\nRXE|1^Q6H^^20240305080000|860975^Metformin^RXNORM|1||TAB\n")
    (mr,) = [r.resource for r in m.resources if r.resource_type == "MedicationRequest"]
    assert mr["dosageInstruction"][0]["timing"] == {
        "code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0335", "code": "Q6H"}]},
        "repeat": {"frequency": 1, "period": 6, "periodUnit": "h", "boundsPeriod": {"start": "2024-03-05T14:00:00Z"}},
    }


ORDER_TYPES = ("ORM", "OML", "OMG", "VXU", "RDE", "OMP", "RDS", "MDM")
MADE_BY = {
    "ORM": {"ServiceRequest", "MedicationRequest"}, "OML": {"ServiceRequest"}, "OMG": {"ServiceRequest"},
    "VXU": {"Immunization"}, "RDE": {"MedicationRequest"}, "OMP": {"MedicationRequest"},
    "RDS": {"MedicationDispense"}, "MDM": {"DocumentReference"},
}  # fmt: skip


@pytest.mark.shared
def test_every_sample_order_message_maps() -> None:
    pytest.importorskip("fhir.resources", reason="fhir.resources (dev extra) validates FHIR")
    shared_path("data", "hl7v2-samples")
    seen: dict[str, int] = {}
    for name, i, msg in sample_messages(ORDER_TYPES):
        m = hl7v2.map_message(msg, CTX, i)
        validate_r4(m)
        mtype = (msg.message_type or "").upper()
        made = {r.resource_type for r in m.resources} & MADE_BY[mtype]
        if m.patient_key is not None and {"ORC", "OBR", "RXA", "TXA"} & set(msg.ids):
            assert made, f"{name}: no {MADE_BY[mtype]}"
        seen[mtype] = seen.get(mtype, 0) + 1
    assert set(seen) == {"ORM", "OML", "OMG", "VXU", "RDE", "RDS", "MDM"}


def test_a_mapping_bug_quarantines_the_message_and_the_batch_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """One message whose mapping raises becomes a problem; the next message still maps."""
    from medlake.formats.hl7v2 import parse_hl7
    from medlake.silver.mappings import hl7v2 as dispatcher
    from medlake.silver.mappings.hl7v2_common import Hl7Context

    text = (
        "MSH|^~\\&|A|B|C|D|20240101000000||ORU^R01|M1|P|2.5.1\rPID|1||P1^^^H^MR||Doe^Jane\r"
        "MSH|^~\\&|A|B|C|D|20240101000000||ADT^A08|M2|P|2.5\rPID|1||P2^^^H^MR||Roe^Rick\r"
    )
    msgs = parse_hl7(text).messages

    def broken(m: object) -> None:
        raise KeyError("boom")

    real = dispatcher.family
    monkeypatch.setattr(dispatcher, "family", lambda t: broken if t == "ORU" else real(t))
    out = dispatcher.map_messages(list(enumerate(msgs)), Hl7Context("t", "s", "urn:s", "UTC"))
    assert [(p.record_index, p.position, p.message) for p in out.problems] == [
        (0, "message 1", "the ORU^R01 mapping failed: KeyError: 'boom'")
    ]
    assert {r.record_index for r in out.resources} == {1}

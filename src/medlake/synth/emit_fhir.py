"""`fhir_ehr/` — a FHIR R4 EHR: one transaction bundle per patient (`bundles/<id>.json`,
`urn:uuid:` references, `request.method` POST) and, for a share of patients, a bulk export
(`ndjson/<Type>.ndjson`, relative `Type/id` references). One NDJSON line is malformed JSON.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from medlake.synth.codes import MRN_SYSTEMS, NPI_SYSTEM
from medlake.synth.emit import icd10_dotted
from medlake.synth.model import (
    FHIR_EHR,
    Condition,
    Encounter,
    Immunization,
    MedicationOrder,
    Observation,
    PersonHistory,
    Procedure,
    Registration,
)
from medlake.synth.truth import TruthWriter

NDJSON_SHARE = 0.25
_NS = uuid.UUID("9b0e4a3c-6f51-5d2e-8c7a-2f4d1e0b9a63")
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
_PROC_SYSTEMS = {"CPT": "http://www.ama-assn.org/go/cpt", "HCPCS": "urn:oid:2.16.840.1.113883.6.285",
                 "ICD10PCS": "http://www.cms.gov/Medicare/Coding/ICD10"}
_TYPES = ("Patient", "Encounter", "Condition", "Observation", "MedicationRequest", "Procedure", "Immunization")
_RACE_OMB = {"2106-3", "2054-5", "2028-9", "1002-5", "2076-8"}


def _instant(t: datetime, tz: str) -> str:
    return t.replace(tzinfo=ZoneInfo(tz)).isoformat()


class FhirEmitter:
    source = FHIR_EHR

    def __init__(self, out: Path, seed: int, *, patients: int = 0) -> None:
        self.root = out / self.source
        self.seed = seed
        (self.root / "bundles").mkdir(parents=True, exist_ok=True)
        (self.root / "ndjson").mkdir(parents=True, exist_ok=True)
        self.nd: dict[str, IO[bytes]] = {t: (self.root / "ndjson" / f"{t}.ndjson").open("wb") for t in _TYPES}
        self.nd_lines: dict[str, int] = dict.fromkeys(_TYPES, 0)
        self.malformed_done = False

    def _id(self, rtype: str, key: str) -> str:
        return str(uuid.uuid5(_NS, f"{self.seed}|{rtype}|{key}"))

    def emit(self, h: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = h.registration(self.source)
        if reg is None:
            return
        bulk = rng.random() < NDJSON_SHARE
        pid = self._id("Patient", h.person.person_id)

        def ref(rtype: str, rid: str) -> dict[str, str]:
            return {"reference": f"{rtype}/{rid}" if bulk else f"urn:uuid:{rid}"}

        resources: list[tuple[str, str, dict[str, Any]]] = [("Patient", pid, self._patient(reg, h))]
        enc_ids: dict[str, str] = {}
        for e in h.encounters:
            if self.source in e.sources:
                eid = enc_ids[e.encounter_id] = self._id("Encounter", e.encounter_id)
                resources.append(("Encounter", eid, self._encounter(e, ref("Patient", pid))))

        def enc_ref(encounter_id: str) -> dict[str, dict[str, str]]:
            return {"encounter": ref("Encounter", enc_ids[encounter_id])} if encounter_id in enc_ids else {}

        tz = h.encounters[0].tz if h.encounters else "America/Chicago"
        for c in h.conditions:
            if self.source in c.sources:
                resources.append(("Condition", self._id("Condition", c.condition_id),
                                  self._condition(c, ref("Patient", pid), enc_ref(c.encounter_id))))
        for o in h.observations:
            if self.source in o.sources:
                resources.append(("Observation", self._id("Observation", o.observation_id),
                                  self._observation(o, tz, ref("Patient", pid), enc_ref(o.encounter_id))))
        for m in h.medications:
            if self.source in m.sources:
                resources.append(("MedicationRequest", self._id("MedicationRequest", m.order_id),
                                  self._medication(m, ref("Patient", pid), enc_ref(m.encounter_id))))
        for pr in h.procedures:
            if self.source in pr.sources:
                resources.append(("Procedure", self._id("Procedure", pr.procedure_id),
                                  self._procedure(pr, tz, ref("Patient", pid), enc_ref(pr.encounter_id))))
        for im in h.immunizations:
            if self.source in im.sources:
                resources.append(("Immunization", self._id("Immunization", im.immunization_id),
                                  self._immunization(im, ref("Patient", pid), enc_ref(im.encounter_id))))
        if bulk:
            self._write_ndjson(resources, h, reg, truth)
        else:
            self._write_bundle(pid, resources, h, reg, truth)

    def _write_bundle(self, pid: str, resources: list[tuple[str, str, dict[str, Any]]], h: PersonHistory,
                      reg: Registration, truth: TruthWriter) -> None:
        entries = []
        for rtype, rid, res in resources:
            req: dict[str, str] = {"method": "POST", "url": rtype}
            if rtype == "Patient":
                req["ifNoneExist"] = f"identifier={MRN_SYSTEMS[self.source]}|{reg.mrn}"
            entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": res, "request": req})
        path = self.root / "bundles" / f"{pid}.json"
        path.write_bytes(orjson.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries},
                                      option=orjson.OPT_INDENT_2))
        truth.patient_record(reg, h.person.person_id, "Patient", truth.rel(path), pid, "entry 0")

    def _write_ndjson(self, resources: list[tuple[str, str, dict[str, Any]]], h: PersonHistory, reg: Registration,
                      truth: TruthWriter) -> None:
        for rtype, rid, res in resources:
            f = self.nd[rtype]
            data = orjson.dumps({"resourceType": rtype, "id": rid, **{k: v for k, v in res.items() if k != "resourceType"}})
            self.nd_lines[rtype] += 1
            rel = f"{self.source}/ndjson/{rtype}.ndjson"
            if rtype == "Observation" and not self.malformed_done:
                self.malformed_done = True
                f.write(data[: len(data) // 2] + b"\n")
                truth.defect("malformed_json", self.source, rel, f"line {self.nd_lines[rtype]}",
                             f"Observation/{rid} cut after {len(data) // 2} of {len(data)} bytes")
                continue
            f.write(data + b"\n")
            if rtype == "Patient":
                truth.patient_record(reg, h.person.person_id, "Patient", rel, rid, f"line {self.nd_lines[rtype]}")

    # --- resources -----------------------------------------------------------------------------

    def _patient(self, reg: Registration, h: PersonHistory) -> dict[str, Any]:
        p = h.person
        res: dict[str, Any] = {"resourceType": "Patient"}
        if p.race in _RACE_OMB:
            res["extension"] = [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": [
                {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": p.race,
                                                       "display": p.race_display}},
                {"url": "text", "valueString": p.race_display}]}]
        res["identifier"] = [{"use": "usual", "type": {"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": MRN_SYSTEMS[self.source], "value": reg.mrn}]
        res["name"] = [{"use": "official", "family": reg.family, "given": [g for g in (reg.given, reg.middle) if g]}]
        res["telecom"] = [{"system": "phone", "value": reg.phone, "use": "home"}] + (
            [{"system": "email", "value": reg.email}] if reg.email else [])
        res["gender"] = {"M": "male", "F": "female"}.get(reg.sex, "unknown")
        if reg.birth_date:
            res["birthDate"] = reg.birth_date.isoformat()
        if p.death_date:
            res["deceasedDateTime"] = p.death_date.isoformat()
        res["address"] = [{"use": "home", "line": [reg.address_line], "city": reg.city, "state": reg.state,
                           "postalCode": reg.zip, "country": "US"}]
        res["maritalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                                            "code": p.marital}]}
        res["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": p.language}]}}]
        return res

    def _encounter(self, e: Encounter, subject: dict[str, str]) -> dict[str, Any]:
        res: dict[str, Any] = {
            "resourceType": "Encounter",
            "identifier": [{"system": MRN_SYSTEMS[self.source] + ".2", "value": e.encounter_id}],
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": e.enc_class},
            "type": [{"text": e.type_code}],
            "subject": subject,
            "participant": [{"individual": {"identifier": {"system": NPI_SYSTEM, "value": e.attending.npi},
                                            "display": f"{e.attending.given} {e.attending.family}"}}],
            "period": {"start": _instant(e.start, e.tz), "end": _instant(e.end, e.tz)},
        }
        if e.reason_codes:
            res["reasonCode"] = [{"coding": [{"system": ICD10, "code": icd10_dotted(c)}]} for c in e.reason_codes]
        if e.discharge_disposition:
            res["hospitalization"] = {"dischargeDisposition": {"coding": [
                {"system": "https://www.nubc.org/CodeSystem/PatDischargeStatus", "code": e.discharge_disposition}]}}
        res["serviceProvider"] = {"identifier": {"system": NPI_SYSTEM, "value": e.facility.npi}, "display": e.facility.name}
        return res

    def _condition(self, c: Condition, subject: dict[str, str], enc: dict[str, Any]) -> dict[str, Any]:
        coding = [{"system": ICD10, "code": icd10_dotted(c.icd10), "display": c.display}]
        if c.snomed:
            coding.append({"system": "http://snomed.info/sct", "code": c.snomed})
        res: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "resolved" if c.abatement else "active"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                      "code": "problem-list-item" if c.chronic else "encounter-diagnosis"}]}],
            "code": {"coding": coding, "text": c.display}, "subject": subject, **enc,
            "onsetDateTime": c.onset.isoformat(),
        }
        if c.abatement:
            res["abatementDateTime"] = c.abatement.isoformat()
        return res

    def _observation(self, o: Observation, tz: str, subject: dict[str, str], enc: dict[str, Any]) -> dict[str, Any]:
        value = o.corrected_value if o.corrected_value is not None else o.value
        flag = o.corrected_flag if o.corrected_value is not None else o.abnormal_flag
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "corrected" if o.corrected_value is not None else "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": o.category}]}],
            "code": {"coding": [{"system": LOINC, "code": o.loinc, "display": o.display}], "text": o.local_display},
            "subject": subject, **enc,
            "effectiveDateTime": _instant(o.effective, tz),
            "valueQuantity": {"value": value, "unit": o.unit, "system": UCUM, "code": o.unit},
        }
        if o.issued:
            res["issued"] = _instant(o.issued, tz)
        if flag:
            res["interpretation"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                                  "code": flag}]}]
        rr: dict[str, Any] = {}
        if o.ref_low is not None:
            rr["low"] = {"value": o.ref_low, "unit": o.unit, "system": UCUM, "code": o.unit}
        if o.ref_high is not None:
            rr["high"] = {"value": o.ref_high, "unit": o.unit, "system": UCUM, "code": o.unit}
        if rr:
            res["referenceRange"] = [rr]
        return res

    def _medication(self, m: MedicationOrder, subject: dict[str, str], enc: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "MedicationRequest",
            "status": "completed" if m.stop and m.stop < date(2023, 12, 31) else "active",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [
                {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": m.rxnorm, "display": m.display},
                {"system": "http://hl7.org/fhir/sid/ndc", "code": m.ndc}], "text": m.display},
            "subject": subject, **enc, "authoredOn": m.start.isoformat(),
            "requester": {"identifier": {"system": NPI_SYSTEM, "value": m.prescriber.npi}},
            "dosageInstruction": [{"text": m.sig}],
            "dispenseRequest": {"numberOfRepeatsAllowed": m.refills, "quantity": {"value": m.quantity},
                                "expectedSupplyDuration": {"value": m.days_supply, "unit": "days",
                                                           "system": UCUM, "code": "d"}},
        }

    def _procedure(self, pr: Procedure, tz: str, subject: dict[str, str], enc: dict[str, Any]) -> dict[str, Any]:
        coding: dict[str, str] = {"system": _PROC_SYSTEMS[pr.system], "code": pr.code}
        if pr.display:
            coding["display"] = pr.display
        return {"resourceType": "Procedure", "status": "completed", "code": {"coding": [coding]}, "subject": subject,
                **enc, "performedDateTime": _instant(pr.performed, tz)}

    def _immunization(self, im: Immunization, subject: dict[str, str], enc: dict[str, Any]) -> dict[str, Any]:
        return {"resourceType": "Immunization", "status": "completed",
                "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": im.cvx,
                                            "display": im.display}]},
                "patient": subject, **enc, "occurrenceDateTime": im.date.isoformat(), "primarySource": True,
                "lotNumber": im.lot}

    def close(self, truth: TruthWriter) -> None:
        for f in self.nd.values():
            f.close()

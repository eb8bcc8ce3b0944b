"""The search parameters the API supports, per resource type, as data.

Each parameter names its FHIR search type and where its values live: JSON paths into the
resource (`[*]` walks a list) or a column of the silver table (`id`, `last_updated`,
`patient_id`). Token paths say what they point at: a list of Codings, of Identifiers, or a
plain code string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["string", "token", "date", "reference"]
TokenShape = Literal["coding", "identifier", "code"]


@dataclass(frozen=True)
class SearchParam:
    name: str
    kind: Kind
    paths: tuple[str, ...] = ()
    column: str | None = None
    shape: TokenShape = "code"  # token parameters only
    targets: tuple[str, ...] = ()  # reference parameters: the types referred to
    doc: str = ""
    folded: bool = False  # string parameters: the serving copy keeps their values case- and accent-folded


@dataclass(frozen=True)
class TypeParams:
    params: dict[str, SearchParam] = field(default_factory=dict)

    def references(self) -> list[SearchParam]:
        return [p for p in self.params.values() if p.kind == "reference"]


_COMMON = (
    SearchParam("_id", "token", column="id", doc="logical id"),
    SearchParam("_lastUpdated", "date", column="last_updated", doc="when the lake last changed the resource"),
    SearchParam("identifier", "token", ("$.identifier[*]",), shape="identifier", doc="system|value"),
)

_PATIENT = (
    SearchParam("name", "string", ("$.name[*].family", "$.name[*].given[*]", "$.name[*].text"), doc="any part of a name, starts-with", folded=True),
    SearchParam("family", "string", ("$.name[*].family",), folded=True),
    SearchParam("given", "string", ("$.name[*].given[*]",), folded=True),
    SearchParam("birthdate", "date", ("$.birthDate",)),
    SearchParam("gender", "token", ("$.gender",)),
)

_CODE: dict[str, tuple[str, ...]] = {
    "Observation": ("$.code.coding[*]",),
    "Condition": ("$.code.coding[*]",),
    "Procedure": ("$.code.coding[*]",),
    "DiagnosticReport": ("$.code.coding[*]",),
    "ServiceRequest": ("$.code.coding[*]",),
    "ChargeItem": ("$.code.coding[*]",),
    "MedicationRequest": ("$.medicationCodeableConcept.coding[*]",),
    "MedicationDispense": ("$.medicationCodeableConcept.coding[*]",),
    "Immunization": ("$.vaccineCode.coding[*]",),
    "Encounter": ("$.type[*].coding[*]",),
}

_DATE: dict[str, tuple[str, ...]] = {
    "Observation": ("$.effectiveDateTime", "$.effectivePeriod.start", "$.effectiveInstant"),
    "DiagnosticReport": ("$.effectiveDateTime", "$.effectivePeriod.start"),
    "Encounter": ("$.period.start",),
    "Condition": ("$.onsetDateTime", "$.recordedDate"),
    "Procedure": ("$.performedDateTime", "$.performedPeriod.start"),
    "Immunization": ("$.occurrenceDateTime",),
    "MedicationRequest": ("$.authoredOn",),
    "MedicationDispense": ("$.whenHandedOver",),
    "ServiceRequest": ("$.authoredOn",),
    "ChargeItem": ("$.occurrenceDateTime",),
    "Appointment": ("$.start",),
    "Claim": ("$.created",),
    "ExplanationOfBenefit": ("$.created",),
    "Coverage": ("$.period.start",),
}

_CATEGORY = {"Observation", "Condition", "DiagnosticReport", "ServiceRequest", "MedicationRequest"}
_SUBJECT = {
    "Observation", "Encounter", "Condition", "Procedure", "DiagnosticReport", "MedicationRequest",
    "MedicationDispense", "ServiceRequest", "ChargeItem",
}
_ENCOUNTER = {"Observation", "Condition", "Procedure", "DiagnosticReport", "MedicationRequest", "ServiceRequest", "Immunization"}
_NO_PATIENT = {"Patient", "Practitioner", "Organization", "Location"}


def params_for(resource_type: str) -> TypeParams:
    """The search parameters of `resource_type` (the common ones for any type)."""
    found: dict[str, SearchParam] = {p.name: p for p in _COMMON}
    if resource_type == "Patient":
        found.update({p.name: p for p in _PATIENT})
    if resource_type not in _NO_PATIENT:
        found["patient"] = SearchParam("patient", "reference", column="patient_id", targets=("Patient",), doc="the patient it is about")
        found["status"] = SearchParam("status", "token", ("$.status",))
    if resource_type in _SUBJECT:
        found["subject"] = SearchParam("subject", "reference", ("$.subject.reference",), targets=("Patient",))
    if resource_type in _ENCOUNTER:
        found["encounter"] = SearchParam("encounter", "reference", ("$.encounter.reference",), targets=("Encounter",))
    if resource_type in _CODE:
        found["code"] = SearchParam("code", "token", _CODE[resource_type], shape="coding", doc="system|code")
    if resource_type in _DATE:
        found["date"] = SearchParam("date", "date", _DATE[resource_type])
    if resource_type in _CATEGORY:
        found["category"] = SearchParam("category", "token", ("$.category[*].coding[*]",), shape="coding")
    return TypeParams(found)

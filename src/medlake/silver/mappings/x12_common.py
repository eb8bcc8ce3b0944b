"""What every X12 → FHIR mapping shares: the per-transaction-set builder and value helpers.

A mapping module (`x12_837.py`, `x12_835.py` …) gets a `SetMapper` for one transaction set
and adds resources to it. As for HL7 (`hl7v2_common.py`): ids are deterministic (tenant,
source system, type, a key made of the set's own identifiers — a claim's CLM01, a payment's
TRN02), so a replacement claim (CLM05-3 = 7) or a reversal (CLP02 = 22) becomes a new version
of the same resource; `meta` names the source and the transaction set
(`https://medlake.dev/fhir/x12-transaction`, code `ISA13/GS06/ST02`, display the family).

Balancing rules (835 CLP03 − CLP04 = Σ CAS …) are not parse failures: a mapping records
each check with `balance(...)`, and the silver stage writes them to `meta.x12_balance`.

Shared conventions every mapping and the gold marts rely on (see docs/x12.md):

- money is a FHIR Money `{"value": <number>, "currency": "USD"}`;
- CARC: `https://x12.org/codes/claim-adjustment-reason-codes`, CAS group codes
  `https://x12.org/codes/claim-adjustment-group-codes`, RARC
  `https://x12.org/codes/remittance-advice-remark-codes` (codes only; descriptions come
  from a user-supplied file, never shipped);
- the claim's patient control number (CLM01 = CLP01) is an identifier with system
  `CLAIM_ID_SYSTEM`, the payer claim control number (CLP07, REF*F8) `PAYER_CLAIM_SYSTEM`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from medlake.silver.ids import SOURCE_TAG_SYSTEM, silver_id
from medlake.silver.mappings.local_time import report, to_utc, utc_text
from medlake.silver.mappings.values import original_text

if TYPE_CHECKING:
    from medlake.formats.x12 import Loop, Segment, TransactionSet

SET_TAG_SYSTEM = "https://medlake.dev/fhir/x12-transaction"
CLAIM_ID_SYSTEM = "https://medlake.dev/fhir/sid/patient-control-number"
PAYER_CLAIM_SYSTEM = "https://medlake.dev/fhir/sid/payer-claim-control-number"
CARC_SYSTEM = "https://x12.org/codes/claim-adjustment-reason-codes"
CAS_GROUP_SYSTEM = "https://x12.org/codes/claim-adjustment-group-codes"
RARC_SYSTEM = "https://x12.org/codes/remittance-advice-remark-codes"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TAX_ID_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CDT = "http://www.ada.org/cdt"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"

PRODUCT_SYSTEMS = {"HC": CPT, "HP": HCPCS, "AD": CDT, "NU": REVENUE, "N4": "http://hl7.org/fhir/sid/ndc"}
"""SV101-1 / SVC01-1 product/service id qualifiers → code systems (HC holds CPT or HCPCS II:
a code that starts with a letter is HCPCS Level II)."""


class X12ValueError(ValueError):
    """A value that does not convert; the message quotes it (for quarantine, not logs)."""


def money(text: str | None) -> dict[str, Any] | None:
    """An X12 amount (R type: `123.45`, `-10`, `.5`) as a FHIR Money; None when empty."""
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise X12ValueError(f"`{text}` is not an amount") from None
    return {"value": float(value), "currency": "USD"}


def decimal(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise X12ValueError(f"`{text}` is not a number") from None


def x12_date(text: str | None) -> str | None:
    """CCYYMMDD (D8) → FHIR date."""
    if not text:
        return None
    if len(text) != 8 or not text.isdigit():
        raise X12ValueError(f"`{text}` is not a CCYYMMDD date")
    try:
        datetime(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise X12ValueError(f"`{text}` is not a valid date") from None
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}"


def x12_datetime(text: str, zone: str) -> tuple[str, dict[str, Any]]:
    """A DT date-time (`CCYYMMDDHHMM[SS]`, local time in `zone`) as a UTC instant and the
    `_<element>` that keeps its text (and names the DST adjustment of an ambiguous or
    nonexistent local time, which is reported; see `local_time`)."""
    if len(text) not in (12, 14) or not text.isdigit():
        raise X12ValueError(f"`{text}` is not a CCYYMMDDHHMM date-time")
    try:
        wall = datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:14] or 0))
    except ValueError:
        raise X12ValueError(f"`{text}` is not a valid date-time") from None
    local = to_utc(wall, zone)
    shadow = original_text(text)
    if local.adjustment is not None:
        report(local.adjustment)
        shadow["extension"].append(local.adjustment.extension())
    return utc_text(local.utc), shadow


def _datetime_period(qualifier: str, text: str, zone: str) -> dict[str, Any]:
    """DT (`CCYYMMDDHHMM`) or RDT (`CCYYMMDDHHMM-CCYYMMDDHHMM`) as a Period of instants."""
    start, _, end = text.partition("-")
    first, first_text = x12_datetime(start, zone)
    out: dict[str, Any] = {"start": first, "_start": first_text}
    if qualifier == "DT":
        out["end"], out["_end"] = first, first_text
    elif end:
        out["end"], out["_end"] = x12_datetime(end, zone)
    return out


def x12_period(qualifier: str | None, text: str | None, zone: str = "UTC") -> dict[str, Any] | None:
    """A DTP date (D8), range (RD8 `CCYYMMDD-CCYYMMDD`), date-time (DT `CCYYMMDDHHMM`) or
    date-time range (RDT) as a FHIR Period; date-times are local time in `zone`."""
    if not text:
        return None
    if qualifier in ("DT", "RDT"):
        return _datetime_period(qualifier, text, zone)
    if qualifier == "RD8" or "-" in text:
        start, _, end = text.partition("-")
        out = {"start": x12_date(start) or ""}
        if end:
            out["end"] = x12_date(end) or ""
        return out
    d = x12_date(text) or ""
    return {"start": d, "end": d}


@dataclass(frozen=True)
class X12Context:
    tenant: str
    source: str
    system: str
    """Source system URI: part of every silver id and written to `meta.source`."""
    timezone: str


@dataclass(slots=True)
class MappedX12:
    resource_type: str
    source_id: str
    id: str
    resource: dict[str, Any]
    record_index: int
    patient_id: str | None


@dataclass(frozen=True)
class X12MapProblem:
    record_index: int
    position: str
    """`set 0001, loop 2300, CLM02` — where, in the guide's notation."""
    message: str


@dataclass(frozen=True)
class Balance:
    """One balancing check of one claim or payment: a data-quality result, not a failure."""

    record_index: int
    rule: str
    """`CLP03 - CLP04 = sum(CAS)`, `SVC02 - SVC03 = sum(line CAS)`, `BPR02 = sum(CLP04) - sum(PLB)`, `CLM02 = sum(line charges)`."""
    subject: str
    """What was checked: `claim <CLP01>`, `line <n> of claim <CLP01>`, `payment <TRN02>`."""
    expected: Decimal
    actual: Decimal

    @property
    def balanced(self) -> bool:
        return self.expected == self.actual


@dataclass
class SetMapper:
    """Builds the FHIR resources of one transaction set."""

    tset: TransactionSet
    ctx: X12Context
    record_index: int = 0
    resources: list[MappedX12] = field(default_factory=list)
    problems: list[X12MapProblem] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    _at: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _tags: list[dict[str, str]] | None = field(default=None, repr=False)

    def id_of(self, rtype: str, key: str) -> str:
        return silver_id(self.ctx.tenant, self.ctx.system, rtype, key)

    def ref(self, rtype: str, key: str) -> str:
        return f"{rtype}/{self.id_of(rtype, key)}"

    def reference(self, rtype: str, key: str, display: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"reference": self.ref(rtype, key)}
        if display:
            out["display"] = display
        return out

    def add(self, rtype: str, key: str, body: dict[str, Any], patient_key: str | None = None) -> str:
        """Add a resource (`body` without `resourceType`, `id`, `meta`); returns its reference.
        `patient_key` names the Patient it belongs to (a Patient belongs to itself). Adding the
        same resource again in one set replaces it."""
        rid = self.id_of(rtype, key)
        resource: dict[str, Any] = {"resourceType": rtype, "id": rid, "meta": self.meta(), **body}
        if rtype == "Patient":
            pid: str | None = rid
        else:
            pid = self.id_of("Patient", patient_key) if patient_key else None
        mapped = MappedX12(rtype, key, rid, resource, self.record_index, pid)
        at = self._at.get((rtype, rid))
        if at is not None:
            self.resources[at] = mapped
        else:
            self._at[(rtype, rid)] = len(self.resources)
            self.resources.append(mapped)
        return f"{rtype}/{rid}"

    def add_version(self, rtype: str, key: str, body: dict[str, Any], patient_key: str | None = None) -> str:
        """Like `add`, but a resource already added in this set is kept: this body follows it
        as its next version (an 835 claim, its reversal CLP02 = 22 and its correction share
        one EOB id; the silver store keeps each as a version, in file order)."""
        self._at.pop((rtype, self.id_of(rtype, key)), None)
        return self.add(rtype, key, body, patient_key)

    def find(self, rtype: str, key: str) -> dict[str, Any] | None:
        at = self._at.get((rtype, self.id_of(rtype, key)))
        return None if at is None else self.resources[at].resource

    def meta(self) -> dict[str, Any]:
        if self._tags is None:
            ts = self.tset
            code = "/".join(
                str(p or "") for p in (ts.interchange.control_number, ts.group.control_number if ts.group else "", ts.control_number)
            )
            self._tags = [
                {"system": SOURCE_TAG_SYSTEM, "code": self.ctx.source},
                {"system": SET_TAG_SYSTEM, "code": code, "display": ts.family},
            ]
        return {"source": self.ctx.system, "tag": self._tags}

    def position(self, loop: Loop | None = None, element: str | None = None) -> str:
        parts = [f"set {self.tset.control_number}"]
        if loop is not None:
            parts.append(f"loop {loop.id}")
        if element:
            parts.append(element)
        return ", ".join(parts)

    def problem(self, loop: Loop | None, element: str | None, message: str) -> None:
        self.problems.append(X12MapProblem(self.record_index, self.position(loop, element), message))

    def balance(self, rule: str, subject: str, expected: Decimal, actual: Decimal) -> None:
        self.balances.append(Balance(self.record_index, rule, subject, expected, actual))

    # -- values, with problems instead of exceptions ------------------------------------------
    def money(self, loop: Loop | None, element: str, text: str | None) -> dict[str, Any] | None:
        try:
            return money(text)
        except X12ValueError as err:
            self.problem(loop, element, str(err))
            return None

    def date(self, loop: Loop | None, element: str, text: str | None) -> str | None:
        try:
            return x12_date(text)
        except X12ValueError as err:
            self.problem(loop, element, str(err))
            return None

    def period(self, loop: Loop | None, element: str, qualifier: str | None, text: str | None) -> dict[str, Any] | None:
        try:
            return x12_period(qualifier, text, self.ctx.timezone)
        except X12ValueError as err:
            self.problem(loop, element, str(err))
            return None


def product_coding(qualifier: str | None, code: str | None) -> dict[str, Any] | None:
    """SV101 / SVC01 `qualifier:code` as a Coding (HC codes that start with a letter: HCPCS II)."""
    if not code:
        return None
    system = PRODUCT_SYSTEMS.get(qualifier or "")
    if qualifier == "HC" and code[:1].isalpha():
        system = HCPCS
    out: dict[str, Any] = {}
    if system:
        out["system"] = system
    out["code"] = code
    return out


def segment_amount(seg: Segment | None, n: int) -> Decimal:
    """Element `n` of `seg` as a Decimal (0 when empty or absent) — for balancing sums."""
    if seg is None:
        return Decimal(0)
    text = seg.get(n)
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


# -- parties: what the 835, 834, 270/271 and 276/277 mappings share with the 837's ----------------
# (the same keys, systems and shapes as `x12_837_parties`, so both feeds name one payer, member
# and provider alike)
MEMBER_ID_SYSTEM = "https://medlake.dev/fhir/sid/member-id"
"""Member ids are unique per payer: an identifier's system is this + `/<payer id>`."""
PAYER_ID_SYSTEM = "https://medlake.dev/fhir/sid/payer-id"
"""A payer's id as the file sends it (NM1*PR NM109, N1*PR N104, N1*IN N104 …)."""
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
HL7_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
GENDERS = {"M": "male", "F": "female", "U": "unknown"}
"""DMG03 → Patient.gender."""


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one coding."""
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return {"coding": [out]}


def member_identifier(payer_id: str, member_id: str) -> dict[str, Any]:
    """A member id (typed MB) under its payer's system."""
    return {
        "type": concept(f"{HL7_TERMINOLOGY}/v2-0203", "MB", "Member Number"),
        "system": f"{MEMBER_ID_SYSTEM}/{quote(payer_id, safe='')}",
        "value": member_id,
    }


def human_name(nm1: Segment) -> dict[str, Any] | None:
    """NM1 as a HumanName: NM103 family, NM104/NM105 given, NM106 prefix, NM107 suffix."""
    out: dict[str, Any] = {}
    if nm1.get(3):
        out["family"] = nm1.get(3)
    given = [g for g in (nm1.get(4), nm1.get(5)) if g]
    if given:
        out["given"] = given
    for n, key in ((6, "prefix"), (7, "suffix")):
        value = nm1.get(n)
        if value:
            out[key] = [value]
    return out or None


def postal_address(n3: Segment | None, n4: Segment | None, use: str) -> dict[str, Any] | None:
    """N3 (two lines) + N4 (city, state, postal code, country) as an Address."""
    out: dict[str, Any] = {"use": use}
    lines = [x for x in (n3.get(1), n3.get(2)) if x] if n3 is not None else []
    if lines:
        out["line"] = lines
    if n4 is not None:
        for n, key in ((1, "city"), (2, "state"), (3, "postalCode"), (4, "country")):
            value = n4.get(n)
            if value:
                out[key] = value
    return out if len(out) > 1 else None


def payer_organization(m: SetMapper, payer_id: str, name: str | None) -> dict[str, Any]:
    """Organization `payer|<id>` (identifier, type `pay`, name: what every family knows of a
    payer, so the 835's and the 837's payer are one unchanging resource); its reference."""
    key = f"payer|{payer_id}"
    if m.find("Organization", key) is None:
        body: dict[str, Any] = {}
        if not payer_id.startswith("name|"):
            body["identifier"] = [{"system": PAYER_ID_SYSTEM, "value": payer_id}]
        body["type"] = [concept(f"{HL7_TERMINOLOGY}/organization-type", "pay", "Payer")]
        if name:
            body["name"] = name
        m.add("Organization", key, body)
    return m.reference("Organization", key, name)


def provider_key(qualifier: str | None, ident: str | None, name: str | None, first: str | None = None) -> str:
    """A provider's key as the 837 makes it: the NPI; else `<qualifier>|<id>`; else the name."""
    if ident:
        return ident if qualifier == "XX" else f"{qualifier or ''}|{ident}"
    return f"name|{name or ''}|{first or ''}"


def provider_party(m: SetMapper, nm1: Segment) -> dict[str, Any]:
    """An NM1 provider as a Practitioner (NM102 = 1) or Organization (NPI identifier, name;
    key `provider_key`); its reference. The first made for a key in a set is kept."""
    rtype = "Practitioner" if nm1.get(2) == "1" else "Organization"
    key = provider_key(nm1.get(8), nm1.get(9), nm1.get(3), nm1.get(4))
    name = nm1.get(3) if rtype == "Organization" else " ".join(x for x in (nm1.get(4), nm1.get(3)) if x)
    if m.find(rtype, key) is None:
        body: dict[str, Any] = {}
        if nm1.get(8) == "XX" and nm1.get(9):
            body["identifier"] = [{"system": NPI_SYSTEM, "value": nm1.get(9)}]
        if rtype == "Organization":
            body["type"] = [concept(f"{HL7_TERMINOLOGY}/organization-type", "prov", "Healthcare Provider")]
            if nm1.get(3):
                body["name"] = nm1.get(3)
        else:
            hn = human_name(nm1)
            if hn:
                body["name"] = [hn]
        m.add(rtype, key, body)
    return m.reference(rtype, key, name or None)


def ancestor(loop: Loop, loop_id: str) -> Loop | None:
    """The nearest loop above `loop` with id `loop_id` (`2000A` above a claim status loop …)."""
    up = loop.parent
    while up is not None and up.id != loop_id:
        up = up.parent
    return up


def name_loop(level: Loop | None) -> Loop | None:
    """The 2100x name loop (NM1) directly inside an HL level loop (2000x)."""
    if level is None:
        return None
    return next((c for c in level.children if c.id.startswith("2100")), None)


def group_date(m: SetMapper) -> str | None:
    """GS04 (CCYYMMDD) as a FHIR date: the date of last resort for a required `created`."""
    group = m.tset.group
    text = str(group.date or "") if group is not None else ""
    try:
        return x12_date(text) if text else None
    except X12ValueError:
        return None

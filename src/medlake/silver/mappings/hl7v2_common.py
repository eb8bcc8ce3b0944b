"""What every HL7 v2 → FHIR mapping shares: the per-message builder and the data types.

A mapping module (`hl7v2_adt.py`, `hl7v2_oru.py` …) gets a `MessageMapper` for one message and
adds resources to it. The builder gives each resource its deterministic silver id (from the
source system and a key made of the message's own identifiers, so a later message about the
same thing becomes a new version of the same resource), its `meta` (source system, source
tag, and the message it came from), and keeps track of which segments were used, so that
everything else is counted as unmapped instead of silently dropped.

Data types: TS/DTM → FHIR dateTime (UTC when there is a time; local times are in the
source's zone), CX → Identifier, XPN → HumanName, XAD → Address, XTN → ContactPoint,
CE/CWE/CNE → CodeableConcept, XCN → Practitioner, PL → Location, XON → Organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from medlake.formats.hl7v2 import Message, Segment, leaf
from medlake.silver.ids import SOURCE_TAG_SYSTEM, silver_id
from medlake.silver.mappings.local_time import Adjustment, report, to_utc, utc_text
from medlake.silver.mappings.values import attach_shadows, original_text

MESSAGE_TAG_SYSTEM = "https://medlake.dev/fhir/hl7v2-message"
"""`meta.tag` system naming the message (MSH-10, with MSH-9 as display) a resource came from."""

CODE_SYSTEMS = {
    "LN": "http://loinc.org",
    "LOINC": "http://loinc.org",
    "I10": "http://hl7.org/fhir/sid/icd-10-cm",
    "I10C": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD10": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "I10P": "http://www.cms.gov/Medicare/Coding/ICD10",
    "I9": "http://hl7.org/fhir/sid/icd-9-cm",
    "I9C": "http://hl7.org/fhir/sid/icd-9-cm",
    "ICD9": "http://hl7.org/fhir/sid/icd-9-cm",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "SNOMED": "http://snomed.info/sct",
    "C4": "http://www.ama-assn.org/go/cpt",
    "CPT": "http://www.ama-assn.org/go/cpt",
    "HCPCS": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "HCPT": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "CVX": "http://hl7.org/fhir/sid/cvx",
    "MVX": "http://hl7.org/fhir/sid/mvx",
    "RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "RXN": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "NDC": "http://hl7.org/fhir/sid/ndc",
    "UCUM": "http://unitsofmeasure.org",
    "NPI": "http://hl7.org/fhir/sid/us-npi",
    "CDCREC": "urn:oid:2.16.840.1.113883.6.238",
    "NCIT": "http://ncithesaurus-stage.nci.nih.gov",
}
"""HL7 table 0396 coding-system names → FHIR system URIs (`HL7nnnn` → the v2 table's URI)."""

GENDER = {"M": "male", "F": "female", "O": "other", "A": "other", "U": "unknown", "N": "unknown"}

_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$")


class Hl7ValueError(ValueError):
    """A value that does not convert; the message quotes it (for quarantine, never for logs)."""


def hl7_datetime(text: str, zone: str) -> str:
    """An HL7 TS/DTM (`YYYY[MM[DD[HH[MM[SS[.S]]]]]][±ZZZZ]`) as a FHIR dateTime.

    With a time: a UTC instant `…Z` (no offset → local time in `zone`, converted by
    `local_time.to_utc`; an ambiguous or nonexistent one is reported). Without: the date as
    written, at its precision (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`).
    """
    value, adjustment = hl7_instant(text, zone)
    report(adjustment)
    return value


@lru_cache(maxsize=65536)
def hl7_instant(text: str, zone: str) -> tuple[str, Adjustment | None]:
    """`hl7_datetime`'s value and the DST adjustment of its local time (None when none was
    needed), cached and not reported: callers report."""
    m = _TS.match(text.strip())
    if m is None:
        raise Hl7ValueError(f"`{text}` is not an HL7 date/time (YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ])")
    y, mo, d, h, mi, s, frac, off = m.groups()
    if h is None:
        try:
            datetime(int(y), int(mo or 1), int(d or 1))
        except ValueError:
            raise Hl7ValueError(f"`{text}` is not a valid date") from None
        return y + (f"-{mo}" if mo else "") + (f"-{d}" if d else ""), None
    if mo is None or d is None:
        raise Hl7ValueError(f"`{text}` has a time but no full date")
    try:
        value = datetime(int(y), int(mo), int(d), int(h), int(mi or 0), int(s or 0))
    except ValueError:
        raise Hl7ValueError(f"`{text}` is not a valid date/time") from None
    if off:
        sign = 1 if off[0] == "+" else -1
        minutes = sign * (int(off[1:3]) * 60 + int(off[3:5]))
        return utc_text(value.replace(tzinfo=timezone(timedelta(minutes=minutes))), frac or ""), None
    local = to_utc(value, zone)
    return utc_text(local.utc, frac or ""), local.adjustment


def hl7_date(text: str) -> str:
    """The date part of a TS as a FHIR date (no zone conversion: a birth date is a date)."""
    m = _TS.match(text.strip())
    if m is None:
        raise Hl7ValueError(f"`{text}` is not an HL7 date (YYYY[MM[DD]])")
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        datetime(int(y), int(mo or 1), int(d or 1))
    except ValueError:
        raise Hl7ValueError(f"`{text}` is not a valid date") from None
    return y + (f"-{mo}" if mo else "") + (f"-{d}" if d else "")


def code_system(name: str | None, local_base: str) -> str | None:
    """The FHIR system URI of an HL7 coding-system name; local names go under the source."""
    if not name:
        return None
    upper = name.upper()
    if upper in CODE_SYSTEMS:
        return CODE_SYSTEMS[upper]
    if upper.startswith("HL7") and upper[3:].isdigit():
        return f"http://terminology.hl7.org/CodeSystem/v2-{upper[3:]}"
    if name.startswith(("http://", "https://", "urn:")):
        return name
    return f"{local_base}/codes/{name}"


def split_components(raw: str, msg: Message | Segment) -> list[str | None]:
    """Unescaped components of one repetition (sub-components left raw)."""
    d = msg.delimiters
    if d.escape not in raw and d.subcomponent not in raw and '""' not in raw:
        return [c or None for c in raw.split(d.component)]  # nothing to unescape: the common case
    return [leaf(c, d) if d.subcomponent not in c else c for c in raw.split(d.component)]


def _c(comps: list[str | None], n: int) -> str | None:
    return comps[n - 1] if n <= len(comps) else None


def _sub(raw: str | None, n: int, msg: Message | Segment) -> str | None:
    if not raw:
        return None
    d = msg.delimiters
    subs = raw.split(d.subcomponent)
    return leaf(subs[n - 1], d) if n <= len(subs) else None


@dataclass(frozen=True)
class Hl7Context:
    tenant: str
    source: str
    system: str
    """Source system URI: part of every silver id and written to `meta.source`."""
    timezone: str
    """IANA zone for times without an offset."""


@dataclass(slots=True)
class MappedHl7:
    resource_type: str
    source_id: str
    id: str
    resource: dict[str, Any]
    record_index: int
    patient_id: str | None


@dataclass(frozen=True)
class Hl7Problem:
    record_index: int
    position: str
    """`message 3 OBX[2].5` — where, in the standard's notation."""
    message: str


@dataclass
class MessageMapper:
    """Builds the FHIR resources of one message."""

    msg: Message
    ctx: Hl7Context
    record_index: int = 0
    resources: list[MappedHl7] = field(default_factory=list)
    problems: list[Hl7Problem] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    """Indexes of the segments a mapping consumed; the others are counted as unmapped."""
    patient_key: str | None = None
    """The source key of the message's patient (set by the dispatcher from PID-3)."""
    encounter_key: str | None = None
    """The source key of the message's encounter (set by the dispatcher from PV1-19)."""
    _tags: list[dict[str, str]] | None = field(default=None, repr=False)
    _at: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    """(type, id) → position in `resources`, so adding the same resource again replaces it."""
    _adjusted: dict[str, dict[str, Any]] | None = field(default=None, repr=False)
    """Converted value → its `_<element>` (original text + time adjustment), for the times of
    this message that were ambiguous or nonexistent in the zone; `add` attaches them."""

    # -- ids and references ------------------------------------------------------------------
    def id_of(self, rtype: str, key: str) -> str:
        return silver_id(self.ctx.tenant, self.ctx.system, rtype, key)

    def ref(self, rtype: str, key: str) -> str:
        return f"{rtype}/{self.id_of(rtype, key)}"

    def reference(self, rtype: str, key: str, display: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"reference": self.ref(rtype, key)}
        if display:
            out["display"] = display
        return out

    @property
    def patient_reference(self) -> dict[str, Any] | None:
        return self.reference("Patient", self.patient_key) if self.patient_key else None

    @property
    def encounter_reference(self) -> dict[str, Any] | None:
        return self.reference("Encounter", self.encounter_key) if self.encounter_key else None

    # -- output --------------------------------------------------------------------------------
    def add(self, rtype: str, key: str, body: dict[str, Any], patient: bool = True) -> str:
        """Add a resource (`body` without `resourceType`, `id`, `meta`); returns its reference.

        A resource added twice in one message under the same key keeps the later body.
        """
        rid = self.id_of(rtype, key)
        if self._adjusted:
            attach_shadows(body, self._adjusted)
        resource: dict[str, Any] = {"resourceType": rtype, "id": rid, "meta": self.meta(), **body}
        if rtype == "Patient":
            pid: str | None = rid
        else:
            pid = self.id_of("Patient", self.patient_key) if patient and self.patient_key else None
        at = self._at.get((rtype, rid))
        if at is not None:
            self.resources[at] = MappedHl7(rtype, key, rid, resource, self.record_index, pid)
            return f"{rtype}/{rid}"
        self._at[(rtype, rid)] = len(self.resources)
        self.resources.append(MappedHl7(rtype, key, rid, resource, self.record_index, pid))
        return f"{rtype}/{rid}"

    def meta(self) -> dict[str, Any]:
        """`meta` of every resource of this message: a fresh dict around tags made once."""
        if self._tags is None:
            tags = [{"system": SOURCE_TAG_SYSTEM, "code": self.ctx.source}]
            ctl = self.msg.control_id
            if ctl:
                kind = "^".join(p for p in (self.msg.message_type, self.msg.trigger) if p)
                tags.append({"system": MESSAGE_TAG_SYSTEM, "code": ctl, "display": kind})
            self._tags = tags
        return {"source": self.ctx.system, "tag": self._tags}

    def use(self, *segments: Segment | None) -> None:
        for s in segments:
            if s is not None:
                self.used.add(s.index)

    def find(self, rtype: str, key: str) -> dict[str, Any] | None:
        """The body of a resource this message already added (to add a link, a diagnosis …)."""
        rid = self.id_of(rtype, key)
        for r in self.resources:
            if r.id == rid and r.resource_type == rtype:
                return r.resource
        return None

    def problem(self, where: Segment | None, path: str, message: str) -> None:
        seg = ""
        if where is not None:
            nth = self.msg.ids[: where.index].count(where.id) + 1
            seg = where.id if nth == 1 else f"{where.id}[{nth}]"
        position = f"message {self.record_index + 1} {seg}{'.' if seg and path else ''}{path}".strip()
        self.problems.append(Hl7Problem(self.record_index, position, message))

    # -- values ------------------------------------------------------------------------------------
    def datetime(self, seg: Segment, n: int, comp: int | None = 1) -> str | None:
        """Field `n` (a TS: its first component) as a FHIR dateTime; a bad value is a problem."""
        text = seg.get(n, comp)
        if not text:
            return None
        try:
            value, adjustment = hl7_instant(text, self.ctx.timezone)
        except Hl7ValueError as err:
            self.problem(seg, str(n), str(err))
            return None
        if adjustment is not None:
            report(adjustment)
            shadow = original_text(text)
            shadow["extension"].append(adjustment.extension())
            if self._adjusted is None:
                self._adjusted = {}
            self._adjusted[value] = shadow
        return value

    def date(self, seg: Segment, n: int) -> str | None:
        text = seg.get(n, 1)
        if not text:
            return None
        try:
            return hl7_date(text)
        except Hl7ValueError as err:
            self.problem(seg, str(n), str(err))
            return None

    def local_codes(self) -> str:
        return self.ctx.system

    def codeable(self, raw: str) -> dict[str, Any] | None:
        """A CE/CWE/CNE repetition as a CodeableConcept (primary and alternate codings)."""
        if not raw:
            return None
        c = split_components(raw, self.msg)
        codings = []
        for code_i, text_i, sys_i in ((1, 2, 3), (4, 5, 6)):
            code = _c(c, code_i)
            if code:
                coding: dict[str, Any] = {}
                system = code_system(_c(c, sys_i), self.ctx.system)
                if system:
                    coding["system"] = system
                coding["code"] = code
                if _c(c, text_i):
                    coding["display"] = _c(c, text_i)
                codings.append(coding)
        out: dict[str, Any] = {}
        if codings:
            out["coding"] = codings
        text = _c(c, 9) or _c(c, 2) or _c(c, 5)
        if text:
            out["text"] = text
        return out or None

    def identifier(self, raw: str, use: str | None = None) -> dict[str, Any] | None:
        """A CX repetition as an Identifier: CX.1 value, CX.4 assigning authority → system,
        CX.5 identifier type (table 0203)."""
        c = split_components(raw, self.msg)
        value = _c(c, 1)
        if not value:
            return None
        out: dict[str, Any] = {}
        if use:
            out["use"] = use
        id_type = _c(c, 5)
        if id_type:
            out["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": id_type}]}
        out["system"] = self.authority_system(_c(c, 4), id_type)
        out["value"] = value
        return out

    def entity_identifier(self, raw: str, type_code: str | None = None) -> dict[str, Any] | None:
        """An EI (entity id ^ namespace ^ universal id ^ universal id type) as an Identifier;
        `type_code` is a table 0203 code (PLAC, FILL …)."""
        d = self.msg.delimiters
        parts = raw.split(d.component)
        value = leaf(parts[0], d) if parts else None
        if not value:
            return None
        out: dict[str, Any] = {}
        if type_code:
            out["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": type_code}]}
        out["system"] = self.authority_system(d.subcomponent.join(parts[1:4]) or None)
        out["value"] = value
        return out

    def authority_system(self, hd: str | None, id_type: str | None = None) -> str:
        """The identifier system of an assigning authority (HD: namespace&universal id&type)."""
        if id_type == "NPI":
            return CODE_SYSTEMS["NPI"]
        if id_type == "SS":
            return "http://hl7.org/fhir/sid/us-ssn"
        namespace = _sub(hd, 1, self.msg) if hd else None
        universal = _sub(hd, 2, self.msg) if hd else None
        kind = (_sub(hd, 3, self.msg) or "").upper() if hd else ""
        if universal and kind == "ISO":
            return f"urn:oid:{universal}"
        if universal and universal.startswith(("http://", "https://", "urn:")):
            return universal
        return f"{self.ctx.system}/id/{namespace or universal or 'local'}"

    def human_name(self, raw: str) -> dict[str, Any] | None:
        """An XPN (or the name part of an XCN, shifted by `offset`) as a HumanName."""
        c = split_components(raw, self.msg)
        return _name(c, 0)

    def address(self, raw: str) -> dict[str, Any] | None:
        c = split_components(raw, self.msg)
        lines = [x for x in (_sub(_c(c, 1), 1, self.msg) if _c(c, 1) else None, _c(c, 2)) if x]
        out: dict[str, Any] = {}
        use = {"H": "home", "B": "work", "O": "work", "C": "temp", "M": "home", "BA": "billing"}.get(_c(c, 7) or "")
        if use:
            out["use"] = use
        if lines:
            out["line"] = lines
        for key, n in (("city", 3), ("state", 4), ("postalCode", 5), ("country", 6)):
            if _c(c, n):
                out[key] = _c(c, n)
        if _c(c, 9):
            out["district"] = _sub(_c(c, 9), 1, self.msg) or _sub(_c(c, 9), 2, self.msg)
        return out if any(k != "use" for k in out) else None

    def telecom(self, raw: str, default_use: str | None = None) -> dict[str, Any] | None:
        """An XTN as a ContactPoint: XTN.1 (old style) or the parts XTN.5–7, XTN.4 email."""
        c = split_components(raw, self.msg)
        equipment = (_c(c, 3) or "").upper()
        email = _c(c, 4)
        if equipment == "INTERNET" or (email and not _c(c, 7) and not _c(c, 1)):
            if not email:
                return None
            out: dict[str, Any] = {"system": "email", "value": email}
        else:
            parts = [p for p in (_c(c, 5), _c(c, 6), _c(c, 7)) if p]
            value = _c(c, 12) or ("-".join(parts) if len(parts) > 1 else (parts[0] if parts else None)) or _c(c, 1)
            if not value:
                return None
            system = {"FX": "fax", "BP": "pager", "CP": "phone", "PH": "phone", "MD": "other"}.get(equipment, "phone")
            out = {"system": system, "value": value}
        use = {"PRN": "home", "WPN": "work", "ORN": "home", "VHN": "home", "NET": None, "EMR": None}.get((_c(c, 2) or "").upper(), default_use)
        if equipment == "CP":
            use = "mobile"
        if use:
            out["use"] = use
        return out

    def practitioner(self, raw: str) -> dict[str, Any] | None:
        """An XCN as a reference to a Practitioner (added to the output once)."""
        c = split_components(raw, self.msg)
        pid = _c(c, 1)
        name = _name(c, 1)
        if not pid and not name:
            return None
        id_type = _c(c, 13)
        system = self.authority_system(_c(c, 9), id_type)
        key = f"{pid}|{system}" if pid else f"name|{raw}"
        body: dict[str, Any] = {}
        if pid:
            ident: dict[str, Any] = {"system": system, "value": pid}
            if id_type:
                ident["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": id_type}]}
            body["identifier"] = [ident]
        if name:
            body["name"] = [name]
        ref = self.add("Practitioner", key, body, patient=False)
        out: dict[str, Any] = {"reference": ref}
        if name and name.get("text"):
            out["display"] = name["text"]
        return out

    def location(self, raw: str) -> dict[str, Any] | None:
        """A PL (point of care ^ room ^ bed ^ facility …) as a reference to a Location."""
        c = split_components(raw, self.msg)
        # each part may be an HD (namespace & universal id & type): its namespace names it
        parts = [_sub(_c(c, n), 1, self.msg) if _c(c, n) else None for n in (1, 2, 3, 4)]
        if not any(parts):
            return None
        key = "^".join(p or "" for p in parts)
        name = " ".join(p for p in parts if p)
        body: dict[str, Any] = {"status": "active", "name": name}
        if _c(c, 9):
            body["description"] = _c(c, 9)
        ref = self.add("Location", key, body, patient=False)
        return {"reference": ref, "display": name}

    def organization(self, raw: str) -> dict[str, Any] | None:
        """An XON (name ^ … ^ id number, or id in XON.10) as a reference to an Organization."""
        c = split_components(raw, self.msg)
        name = _c(c, 1)
        oid = _c(c, 10) or _c(c, 3)
        if not name and not oid:
            return None
        key = oid or f"name|{name}"
        body: dict[str, Any] = {"active": True}
        if oid:
            body["identifier"] = [{"system": self.authority_system(_c(c, 6), _c(c, 7)), "value": oid}]
        if name:
            body["name"] = name
        return {"reference": self.add("Organization", key, body, patient=False), **({"display": name} if name else {})}


def _name(c: list[str | None], offset: int) -> dict[str, Any] | None:
    """HumanName from XPN components (offset 0) or XCN components (offset 1)."""
    family = _c(c, 1 + offset)
    given = [g for g in (_c(c, 2 + offset), _c(c, 3 + offset)) if g]
    if family and "&" in family:
        family = family.split("&")[0]
    out: dict[str, Any] = {}
    use = {"L": "official", "D": "usual", "M": "maiden", "N": "nickname", "A": "anonymous"}.get(_c(c, 7 + offset) or "")
    if use:
        out["use"] = use
    if family:
        out["family"] = family
    if given:
        out["given"] = given
    if _c(c, 4 + offset):
        out["suffix"] = [_c(c, 4 + offset)]
    if _c(c, 5 + offset):
        out["prefix"] = [_c(c, 5 + offset)]
    text = " ".join(p for p in (*given, family) if p)
    if text:
        out["text"] = text
    return out if family or given else None


def patient_key(pid: Segment, msg: Message) -> str | None:
    """The source key of the patient in a PID: the MR identifier (else the first) of PID-3,
    as `value^authority`; PID-2 (old external id) or PID-4 when PID-3 is empty."""
    return identifier_key(pid.repetitions(3) or pid.repetitions(2) or pid.repetitions(4), msg)


def identifier_key(reps: list[str], msg: Message) -> str | None:
    """The source key of a CX list (PID-3, MRG-1 …): the repetition of type MR, else the first
    with a value, as `value^authority` (the namespace of CX.4)."""
    chosen = None
    for r in reps:
        c = split_components(r, msg)
        if _c(c, 1) and (_c(c, 5) or "").upper() == "MR":
            chosen = c
            break
    if chosen is None:
        for r in reps:
            c = split_components(r, msg)
            if _c(c, 1):
                chosen = c
                break
    if chosen is None:
        return None
    authority = _c(chosen, 4) or ""
    d = msg.delimiters
    authority = (leaf(authority.split(d.subcomponent)[0], d) or "") if authority else ""
    return f"{chosen[0]}^{authority}"


def with_table(concept: dict[str, Any] | None, table: str) -> dict[str, Any] | None:
    """`concept` with the v2 table's system (`0063` → `…/CodeSystem/v2-0063`) on codings the
    sender sent without a coding system."""
    if not concept or "coding" not in concept:
        return concept
    system = f"http://terminology.hl7.org/CodeSystem/v2-{table}"
    codings = [c if "system" in c else {"system": system, **c} for c in concept["coding"]]
    return {**concept, "coding": codings}


def following(msg: Message, seg: Segment, sid: str, stop: tuple[str, ...]) -> list[Segment]:
    """The `sid` segments after `seg`, up to the next segment whose id is in `stop` (the
    segments of one group: the NK1s of a PID, the IN2 of an IN1, the NTEs of an OBX …)."""
    out = []
    for i in range(seg.index + 1, len(msg)):
        s = msg.ids[i]
        if s in stop:
            break
        if s == sid:
            out.append(Segment(msg.segments[i], i, msg.delimiters))
    return out

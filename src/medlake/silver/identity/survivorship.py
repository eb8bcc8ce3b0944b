"""The golden record: one FHIR R4 `Person` per enterprise person, built from its source Patients.

Survivorship rules, applied per field group (name, gender, birthDate, address, phone, email),
each group taken whole from one record so values never mix within a group:

1. **most trusted source**: a source ranking (`source_ranking`, best first; sources not
   named come after the named ones). Default: by source kind, clinical feeds (EHR extracts,
   FHIR, HL7 v2) before claims and eligibility (X12);
2. then **most recent**: the record silver updated last;
3. then **most complete**: the record with more parts of the group filled (a full birth date
   beats a year; an address with line, city, state and ZIP beats a ZIP alone);
4. then the smallest record id (so the choice is deterministic).

Each value carries the extension `https://medlake.dev/fhir/StructureDefinition/value-source`
naming the source and the source `Patient/<id>` it came from. `Person.link[]` points to every
source Patient with an assurance: `level4` for deterministic, A40 and manual links, `level3`
for probabilistic ones. The source Patients' own identifiers (MRN, member id …) stay on the
Person as identifiers next to the enterprise id. A person retired by a merge is rewritten
`active: false` with one link to the Person that absorbed it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from medlake.config import TenantConfig
from medlake.silver.ids import SOURCE_TAG_SYSTEM
from medlake.silver.store import SilverRecord

VALUE_SOURCE_URL = "https://medlake.dev/fhir/StructureDefinition/value-source"
PERSON_ID_SYSTEM = "https://medlake.dev/fhir/sid/enterprise-person"
MPI_SOURCE = "mpi"
KIND_RANK = {"fhir": 0, "hl7v2": 0, "delimited": 0, "database": 0, "x12": 1}
"""Default trust by source kind (lower is more trusted): claims/eligibility (X12) last."""
LEVEL4_RULES = frozenset({"a40", "manual", "singleton"})

Row = dict[str, Any]


def default_ranking(tenant: TenantConfig) -> list[str]:
    """The tenant's sources, clinical kinds first, then claims, in declaration order."""
    order = {s.name: (KIND_RANK.get(str(s.kind), 0), i) for i, s in enumerate(tenant.sources)}
    return sorted(order, key=lambda n: order[n])


def assurance(rule: str | None) -> str:
    """`level4` for links we are sure of (deterministic rules, A40, manual), else `level3`."""
    r = (rule or "").lower()
    if r in LEVEL4_RULES or r.startswith(("deterministic", "exact", "same_", "must")):
        return "level4"
    return "level3"


def _value_source(row: Row) -> dict[str, Any]:
    return {
        "url": VALUE_SOURCE_URL,
        "extension": [
            {"url": "source", "valueString": row["source"]},
            {"url": "patient", "valueReference": {"reference": f"Patient/{row['record_id']}"}},
        ],
    }


def _filled(row: Row, cols: Sequence[str]) -> int:
    return sum(1 for c in cols if row.get(c) not in (None, "")) + (
        1 if "birth_date" in cols and len(row.get("birth_date") or "") == 10 else 0
    )


_GROUPS: dict[str, tuple[str, ...]] = {
    "name": ("family_name", "given_names"),
    "gender": ("sex",),
    "birthDate": ("birth_date",),
    "address": ("address_line", "city", "state", "postal_code"),
    "phone": ("phone",),
    "email": ("email",),
}


def pick(rows: list[Row], cols: Sequence[str], rank: Callable[[str], int]) -> Row | None:
    """The surviving record for one field group (see the module doc for the order)."""
    have = [r for r in rows if _filled(r, cols) and not (cols == ("sex",) and r["sex"] == "unknown")]
    if not have:
        return None
    return min(have, key=lambda r: (rank(r["source"]), -_micros(r.get("last_updated")), -_filled(r, cols), r["record_id"]))


def _micros(value: Any) -> int:
    return int(value.timestamp() * 1_000_000) if value is not None else 0


def person_resource(person_id: str, rows: list[Row], rules: Mapping[str, str | None],
                    rank: Callable[[str], int]) -> dict[str, Any]:
    """The golden `Person` of one person from its records (`rows`, person_records rows)."""
    rows = sorted(rows, key=lambda r: r["record_id"])
    best = {g: pick(rows, cols, rank) for g, cols in _GROUPS.items()}
    res: dict[str, Any] = {"resourceType": "Person", "id": person_id, "identifier": _identifiers(person_id, rows),
                           "active": True}
    if (n := best["name"]) is not None:
        name: dict[str, Any] = {"extension": [_value_source(n)]}
        if n["family_name"]:
            name["family"] = n["family_name"]
        if n["given_names"]:
            name["given"] = n["given_names"].split(" ")
        res["name"] = [name]
    telecom = [{"extension": [_value_source(r)], "system": s, "value": r[s]} for s in ("phone", "email")
               if (r := best[s]) is not None]
    if telecom:
        res["telecom"] = telecom
    if (g := best["gender"]) is not None:
        res["gender"] = g["sex"]
        res["_gender"] = {"extension": [_value_source(g)]}
    if (b := best["birthDate"]) is not None:
        res["birthDate"] = b["birth_date"]
        res["_birthDate"] = {"extension": [_value_source(b)]}
    if (a := best["address"]) is not None:
        addr: dict[str, Any] = {"extension": [_value_source(a)]}
        if a["address_line"]:
            addr["line"] = [a["address_line"]]
        for col, key in (("city", "city"), ("state", "state"), ("postal_code", "postalCode")):
            if a[col]:
                addr[key] = a[col]
        res["address"] = [addr]
    res["link"] = [{"target": {"reference": f"Patient/{r['record_id']}"}, "assurance": assurance(rules.get(r["record_id"]))}
                   for r in rows]
    return res


def _identifiers(person_id: str, rows: list[Row]) -> list[dict[str, str]]:
    out = [{"system": PERSON_ID_SYSTEM, "value": person_id}]
    seen: set[tuple[str, str]] = set()
    for r in rows:
        mrn = r.get("mrn")
        if not mrn:
            continue
        system, _, value = mrn.partition("|")
        if (system, value) not in seen:
            seen.add((system, value))
            out.append({"system": system, "value": value} if system else {"value": value})
    return out


def retired_resource(person_id: str, merged_into: str) -> dict[str, Any]:
    return {"resourceType": "Person", "id": person_id, "active": False,
            "link": [{"target": {"reference": f"Person/{merged_into}"}, "assurance": "level4"}]}


def golden_records(
    tenant: str,
    records: pa.Table,
    persons: Mapping[str, str],
    rules: Mapping[str, str | None],
    retired: Mapping[str, str],
    ranking: Sequence[str],
    batch_id: str,
) -> list[SilverRecord]:
    """Silver records (type Person, source `mpi`) for every person and every retired id."""
    order = {s: i for i, s in enumerate(ranking)}

    def rank(source: str) -> int:
        return order.get(source, len(order))

    by_person: dict[str, list[Row]] = defaultdict(list)
    for row in records.to_pylist():
        by_person[persons[row["record_id"]]].append(row)
    resources = [person_resource(pid, rows, rules, rank) for pid, rows in sorted(by_person.items())]
    resources += [retired_resource(old, new) for old, new in sorted(retired.items())]
    system = f"urn:medlake:{tenant}:{MPI_SOURCE}"
    for r in resources:
        r["meta"] = {"source": system, "tag": [{"system": SOURCE_TAG_SYSTEM, "code": MPI_SOURCE}]}
    return [
        SilverRecord(id=r["id"], resource_type="Person", resource=r, patient_id=None, source=MPI_SOURCE,
                     source_system=system, source_id=r["id"], object_sha256=batch_id, object_name="identity",
                     record_index=i, batch_id=batch_id)
        for i, r in enumerate(resources)
    ]

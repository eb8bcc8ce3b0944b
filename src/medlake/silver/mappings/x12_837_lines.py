"""837 service lines (loop 2400: SV1 professional, SV2 institutional, SV3 dental) → Claim.item.

- sequence: LX01 (the line's position when LX01 is not a number)
- productOrService: SV101 / SV202 / SV301 `qualifier:code` (`product_coding`; SV202 HP is a
  HIPPS rate code), text SVx01-7; an institutional line with only a revenue code gets the
  data-absent-reason `not-applicable`; modifier: components 3–6 (two digits: CPT, else HCPCS)
- revenue: SV201 (NUBC revenue code)
- servicedDate / servicedPeriod: the line's DTP*472 (D8 / RD8)
- locationCodeableConcept: SV105 / SV303 place of service, else CLM05-1 (when CLM05-2 = B)
- quantity: SV104 / SV205 / SV306, with minutes (SV103 MJ) or days (SV204 DA) as UCUM units
- net: SV102 / SV203 / SV302 (and into the claim's Σ line charges)
- diagnosisSequence: SV107 / SV311 pointers (1–12: the n-th ABK/ABF diagnosis of the claim)
- careTeamSequence: the line's provider loops (2420x), added to the claim's care team
- bodySite (837D): the first TOO tooth (ADA universal numbering), subSite its TOO03 surfaces
  (ex-surface; F facial is V); without a tooth, the SV304-1 area of the oral cavity

Not mapped: SV1 emergency / EPSDT / family planning flags, SV2 unit rate and non-covered
charge, SV305 prosthesis, TOO segments after the first, 2410 drug (LIN/CTP), the line's other
DTP dates, REF, AMT, NTE, PS1, HCP repricing, 2420 facility and ambulance loops, 2430/2440.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from medlake.silver.mappings.x12_837_parties import TERMINOLOGY, shared
from medlake.silver.mappings.x12_common import (
    CPT,
    HCPCS,
    POS,
    REVENUE,
    SetMapper,
    X12ValueError,
    decimal,
    product_coding,
    x12_date,
    x12_period,
)

if TYPE_CHECKING:
    from medlake.silver.mappings.x12_837_claim import CareTeam
    from medlake.silver.mappings.x12_837_nodes import Node

ADA_TOOTH = f"{TERMINOLOGY}/ADAUniversalToothDesignationSystem"
ADA_AREA = f"{TERMINOLOGY}/ADAAreaOralCavitySystem"
HIPPS = "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/ProspMedicareFeeSvcPmtGen/HIPPSCodes"
UCUM = "http://unitsofmeasure.org"
ABSENT = f"{TERMINOLOGY}/data-absent-reason"
SURFACES = {"B": "B", "D": "D", "F": "V", "I": "I", "L": "L", "M": "M", "O": "O"}
"""TOO03 tooth surface → ex-surface (F facial is the vestibular surface, V)."""
UNITS = {"MJ": ("min", "min"), "DA": ("d", "d")}
"""SV103 / SV204 unit basis → (UCUM code, unit); UN (units) leaves the quantity unitless."""


class Layout(NamedTuple):
    """Where a line segment keeps each value (element numbers; None: not in this segment)."""

    segment: str
    product: int
    charge: int
    unit: int | None
    quantity: int
    place: int | None
    pointers: int | None
    revenue: int | None


LAYOUTS = {
    "837P": Layout("SV1", 1, 2, 3, 4, 5, 7, None),
    "837I": Layout("SV2", 2, 3, 4, 5, None, None, 1),
    "837D": Layout("SV3", 1, 2, None, 6, 3, 11, None),
}


@dataclass(frozen=True, slots=True)
class Line:
    """What the lines take from their claim."""

    family: str
    place: str | None
    """CLM05-1 when it is a place of service."""
    pointers: list[int]
    """Diagnosis sequence of pointer 1, 2, …"""
    team: CareTeam


@dataclass(slots=True)
class Items:
    items: list[dict[str, Any]] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)
    """(first, last) service date of each dated line."""
    charges: Decimal = Decimal(0)


def amount(m: SetMapper, node: Node, element: str, text: str | None) -> Decimal | None:
    """An X12 amount as a Decimal; a problem (and None) when it is not one."""
    found = _money(text) if text else None
    if found is None:
        if text:
            m.problem(node.loop, element, f"`{text}` is not an amount")
        return None
    return found[0]


@lru_cache(maxsize=1 << 14)
def _money(text: str) -> tuple[Decimal, dict[str, Any]] | None:
    """An amount and its Money (one object per amount text: charges repeat), or None."""
    try:
        value = decimal(text)
    except X12ValueError:
        return None
    if value is None or not value.is_finite():
        return None
    return value, {"value": float(value), "currency": "USD"}


Done = tuple[dict[str, Any], Decimal | None]
"""A line mapped but for its service date: the item so far and its charge."""

_DONE: dict[tuple[str, ...], Done] = {}
"""Lines already mapped, by what makes them: the family, the claim's place of service and
diagnosis sequences, and the line's own segments as sent but its dates. Feeds repeat the same
lines (a 99213 at the same price) claim after claim: a line seen before is taken from here and
only its date is read (items are never modified once made, so claims may share them). Lines
with providers of their own, or that gave a problem, are mapped afresh each time."""
_DONE_LIMIT = 1 << 14


def map_lines(m: SetMapper, lines: list[Node], line: Line) -> Items:
    out = Items()
    layout = LAYOUTS[line.family]
    context = (line.family, line.place or "", ",".join(map(str, line.pointers)))
    for n, node in enumerate(lines, 1):
        key = None if node.children else _key(node, n, context)
        done = _DONE.get(key) if key is not None else None
        if done is None:
            before = len(m.problems)
            done = _line(m, node, n, layout, line)
            if done is None:
                continue
            if key is not None and len(m.problems) == before:
                if len(_DONE) >= _DONE_LIMIT:
                    _DONE.clear()
                _DONE[key] = done
        body, charge = done
        served = _served(m, node)
        if served is None:
            out.items.append(body)
        else:
            out.items.append({**body, served[0]: served[1]})
            out.dates.append(served[2])
        if charge is not None:
            out.charges += charge
    return out


def _key(node: Node, n: int, context: tuple[str, str, str]) -> tuple[str, ...]:
    segments = node.segments
    raw, ids = segments.raw, segments.ids
    return (*context, segments.seps.component, str(n), *(raw[i] for i in node.own if ids[i] != "DTP"))


def _line(m: SetMapper, node: Node, n: int, layout: Layout, line: Line) -> Done | None:
    e = node.fields(layout.segment)
    if e is None:
        m.problem(node.loop, layout.segment, f"service line {n} has no {layout.segment} segment: it is not mapped")
        return None
    item = _item(m, node, e, n, layout, line)
    text = e[layout.charge]
    money = _money(text) if text else None
    if money is not None:
        item["net"] = money[1]
        return item, money[0]
    if text:
        m.problem(node.loop, f"{layout.segment}{layout.charge:02d}", f"`{text}` is not an amount")
    return item, None


def _item(m: SetMapper, node: Node, e: list[str], n: int, layout: Layout, line: Line) -> dict[str, Any]:
    """The item of line segment `e` (its elements, padded)."""
    comp = node.segments.seps.component
    item: dict[str, Any] = {"sequence": _sequence(m, node, n)}
    if node.children:
        team = [s for s in (line.team.add(m, child) for child in node.children) if s is not None]
        if team:
            item["careTeamSequence"] = list(dict.fromkeys(team))
    if layout.pointers is not None and e[layout.pointers]:
        pointers = _pointers(m, node, e[layout.pointers].split(comp), f"{layout.segment}{layout.pointers:02d}", line.pointers)
        if pointers:
            item["diagnosisSequence"] = pointers
    if layout.revenue is not None and e[layout.revenue]:
        item["revenue"] = shared(REVENUE, e[layout.revenue])
    _product(m, node, e[layout.product].split(comp), f"{layout.segment}{layout.product:02d}", item)
    place = (e[layout.place] if layout.place else None) or line.place
    if place:
        item["locationCodeableConcept"] = shared(POS, place)
    if e[layout.quantity]:
        quantity = _quantity_of(e[layout.quantity], e[layout.unit] if layout.unit else "")
        if quantity is None:
            m.problem(node.loop, f"{layout.segment}{layout.quantity:02d}", f"`{e[layout.quantity]}` is not a number")
        else:
            item["quantity"] = quantity
    if layout.segment == "SV3":
        _tooth(m, node, e[4].split(comp)[0], item)
    return item


def _sequence(m: SetMapper, node: Node, n: int) -> int:
    lx = node.fields("LX")
    text = lx[1] if lx is not None else ""
    if text.isdigit() and int(text) > 0:
        return int(text)
    m.problem(node.loop, "LX01", f"`{text}` is not a line number; the line's position ({n}) is used")
    return n


def _pointers(m: SetMapper, node: Node, sent: list[str], element: str, targets: list[int]) -> list[int]:
    out: list[int] = []
    for k, p in enumerate(sent, 1):
        if not p:
            continue
        if p.isdigit() and 0 < int(p) <= len(targets):
            out.append(targets[int(p) - 1])
        else:
            msg = f"diagnosis pointer `{p}` names no diagnosis of the claim (it has {len(targets)} in HI ABK/ABF)"
            m.problem(node.loop, f"{element}-{k}", msg)
    return _sequences(tuple(dict.fromkeys(out)))


@lru_cache(maxsize=4096)
def _sequences(found: tuple[int, ...]) -> list[int]:
    """Pointer lists repeat on most lines: one list per distinct list."""
    return list(found)


def _product(m: SetMapper, node: Node, comps: list[str], element: str, item: dict[str, Any]) -> None:
    """productOrService (and its text) and modifier from the procedure composite."""
    qualifier = comps[0]
    code = comps[1] if len(comps) > 1 else ""
    if code:
        if len(comps) > 6 and comps[6]:
            item["productOrService"] = {"coding": [_product_coding(qualifier, code)], "text": comps[6]}
        else:
            item["productOrService"] = _product_codeable(qualifier, code)
    elif "revenue" in item:
        item["productOrService"] = shared(ABSENT, "not-applicable")
    else:
        m.problem(node.loop, f"{element}-2", "the procedure code is empty")
        item["productOrService"] = shared(ABSENT, "unknown")
    if len(comps) > 2:
        mods = [x for x in comps[2:6] if x]
        if mods:
            item["modifier"] = [shared(CPT if x.isdigit() else HCPCS, x) for x in mods]


@lru_cache(maxsize=1 << 14)
def _product_coding(qualifier: str, code: str) -> dict[str, Any]:
    """`product_coding`, except that an SV202 HP code is a HIPPS rate code (not HCPCS)."""
    if qualifier == "HP":
        return {"system": HIPPS, "code": code}
    return product_coding(qualifier, code) or {"code": code}


@lru_cache(maxsize=1 << 14)
def _product_codeable(qualifier: str, code: str) -> dict[str, Any]:
    return {"coding": [_product_coding(qualifier, code)]}


def _served(m: SetMapper, node: Node) -> tuple[str, Any, tuple[str, str]] | None:
    """DTP*472: (`servicedDate`, date) for D8, (`servicedPeriod`, period) for RD8, with the
    line's (first, last) date; None without a (readable) date."""
    segments = node.segments
    ids, raw = segments.ids, segments.raw
    head = f"DTP{segments.element}472{segments.element}"
    text = next((raw[i] for i in node.own if ids[i] == "DTP" and raw[i].startswith(head)), None)
    if text is None:
        return None
    found = _service_date(text, segments.element)
    if isinstance(found, str):
        m.problem(node.loop, "DTP03", found)
        return None
    return found


@lru_cache(maxsize=1 << 14)
def _service_date(text: str, element: str) -> tuple[str, Any, tuple[str, str]] | str | None:
    """A DTP*472 segment's date or period (see `_served`), or the problem it gives."""
    dtp = [*text.split(element), "", "", ""]
    try:
        if dtp[2] == "RD8":
            span = x12_period("RD8", dtp[3])
            return ("servicedPeriod", span, (span["start"], span.get("end", span["start"]))) if span else None
        when = x12_date(dtp[3])
    except X12ValueError as err:
        return str(err)
    return ("servicedDate", when, (when, when)) if when else None


@lru_cache(maxsize=4096)
def _quantity_of(text: str, unit_basis: str) -> dict[str, Any] | None:
    """A Quantity (minutes and days in UCUM), shared per value; None when not a number."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    if not value.is_finite():
        return None
    out: dict[str, Any] = {"value": float(value) if "." in text else int(value)}
    unit = UNITS.get(unit_basis)
    if unit:
        out.update({"unit": unit[1], "system": UCUM, "code": unit[0]})
    return out


def _tooth(m: SetMapper, node: Node, area: str, item: dict[str, Any]) -> None:
    """TOO02 tooth → bodySite, TOO03 surfaces → subSite; else SV304-1 area of the oral cavity."""
    too = node.seg("TOO")
    if too is None or not too.get(2):
        if area:
            item["bodySite"] = shared(ADA_AREA, area)
        return
    item["bodySite"] = shared(ADA_TOOTH, too.get(2) or "")
    surfaces = []
    for k, s in enumerate(too.components(3), 1):
        if s in SURFACES:
            surfaces.append(shared(f"{TERMINOLOGY}/ex-surface", SURFACES[s]))
        elif s:
            m.problem(node.loop, f"TOO03-{k}", f"`{s}` is not a tooth surface code (B, D, F, I, L, M, O)")
    if surfaces:
        item["subSite"] = surfaces

"""HL7 v2 observation values → FHIR R4: OBX-5 by its type (OBX-2), units (OBX-6), reference
ranges (OBX-7), numbers (NM), structured numerics (SN), times (TM), encapsulated data (ED).

NM → `valueQuantity`; SN → `valueQuantity` with a comparator, `valueRange` (`^1^-^2`) or
`valueRatio` (`^1^:^2`, `^1^/^2`); ST/TX/FT → `valueString` (TX and FT with their formatting
decoded, repetitions as lines); CE/CWE/CNE → `valueCodeableConcept`; DT/TS/DTM →
`valueDateTime`; TM → `valueTime`. A value that does not parse is reported and kept as
`valueString`, so nothing the sender said is lost.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import MessageMapper, split_components

UCUM = "http://unitsofmeasure.org"

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_RANGE = re.compile(rf"^\s*({_NUM})\s*(?:-|–|to)\s*({_NUM})\s*$")
_BOUND = re.compile(rf"^\s*(<=|>=|≤|≥|<|>)\s*({_NUM})\s*$")
_TM = re.compile(r"^(\d{2}):?(\d{2})?(?::?(\d{2})(\.\d{1,4})?)?([+-]\d{4})?$")

# -- UCUM look-alikes ---------------------------------------------------------------------------
_PREFIX = "(?:da|[YZEPTGMkhdcmunpfazy])"
_ATOM = (
    r"(?:g|L|l|m|mol|eq|Eq|U|s|min|h|d|wk|mo|a|Cel|%|kat|osm|Pa|bar|Hz|J|cal|W|V|dB|"
    r"mm\[Hg\]|cm\[H2O\]|\[IU\]|\[iU\]|\[arb'U\]|\[degF\]|\[in_i\]|\[ft_i\]|\[lb_av\]|\[oz_av\]|"
    r"\[pH\]|\[ppm\]|\[ppb\]|\[HPF\]|\[LPF\]|\[drp\]|\[CFU\]|\[pptr\]|\[ppth\])"
)
_UCUM_TERM = re.compile(rf"^(?:\d+|10[*^][+-]?\d+|\{{\}}|{_PREFIX}?{_ATOM}(?:[+-]?\d+)?(?:\{{\}})?)$")


def looks_like_ucum(unit: str) -> bool:
    """Whether a unit reads as a UCUM expression of common clinical units (`mg/dL`, `10*3/uL`,
    `mL/min/{1.73_m2}`, `%`), so a unit sent without a coding system can still be coded."""
    text = re.sub(r"\{[^{}]*\}", "{}", unit.strip())
    if not text or " " in text or not re.search(r"[A-Za-z%\[{]", text):
        return False
    terms = re.split(r"[./]", text[1:] if text.startswith("/") else text)
    return all(_UCUM_TERM.match(t) for t in terms)


def number(text: str) -> int | float | None:
    """An HL7 NM (`[+|-]digits[.digits]`) as an int or float; `None` when it is not one."""
    t = text.strip()
    if not _NUMBER.match(t):
        return None
    return float(t) if "." in t else int(t)


def quantity_unit(m: MessageMapper, obx: Segment, n: int = 6) -> dict[str, Any]:
    """The unit part of a Quantity from a CE/CWE unit field (OBX-6, RXE-5 …): UCUM code and
    system when the sender names UCUM or the unit reads as UCUM, else the unit text only."""
    reps = obx.repetitions(n)
    return unit_of(m, reps[0]) if reps else {}


def unit_of(m: MessageMapper, raw: str) -> dict[str, Any]:
    c = split_components(raw, m.msg)
    code = c[0] if c else None
    text = c[1] if len(c) > 1 else None
    system = (c[2] if len(c) > 2 else None) or ""
    named_ucum = system.strip().upper() == "UCUM"
    for candidate in (code, text):
        if candidate and (named_ucum or looks_like_ucum(candidate)):
            return {"unit": text or candidate, "system": UCUM, "code": candidate}
    label = text or code
    return {"unit": label} if label else {}


def quantity(value: int | float, unit: dict[str, Any], comparator: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value}
    if comparator:
        out["comparator"] = comparator
    out.update(unit)
    return out


# -- OBX-5 by OBX-2 -------------------------------------------------------------------------------
TEXT_TYPES = frozenset({"ST", "TX", "FT", "TN"})
CODED_TYPES = frozenset({"CE", "CWE", "CNE", "CF", "CV"})
DATE_TYPES = frozenset({"DT", "TS", "DTM"})


def obx_value(m: MessageMapper, obx: Segment) -> dict[str, Any]:
    """The `value[x]` of an OBX (empty when OBX-5 is empty or of a type R4 cannot hold)."""
    vtype = (obx.get(2, 1) or "").upper()
    reps = obx.repetitions(5)
    if not reps or obx.is_null(5):
        return {}
    if vtype in TEXT_TYPES:
        text = "\n".join(text_lines(obx))
        return {"valueString": text} if text.strip() else {}
    if vtype in CODED_TYPES:
        concept = m.codeable(reps[0])
        return {"valueCodeableConcept": concept} if concept else {}
    if vtype in ("ID", "IS"):
        code = obx.get(5)
        return {"valueCodeableConcept": {"coding": [{"code": code}]}} if code else {}
    if vtype in DATE_TYPES:
        when = m.datetime(obx, 5)
        return {"valueDateTime": when} if when else _as_string(obx)
    if vtype == "TM":
        return _time(m, obx)
    if vtype == "NM":
        return _numeric(m, obx, reps)
    if vtype == "SN":
        return structured_numeric(m, obx)
    if vtype in ("ED", "RP"):
        return {}
    return _as_string(obx)


def text_lines(obx: Segment) -> list[str]:
    """The repetitions of a text OBX-5 as lines (TX and FT with their formatting decoded)."""
    formatted = (obx.get(2, 1) or "").upper() in ("TX", "FT")
    return [obx.get(5, rep=i, text=formatted) or "" for i in range(1, len(obx.repetitions(5)) + 1)]


def _as_string(obx: Segment) -> dict[str, Any]:
    """Any other value: its components' text, space separated."""
    parts = [c for c in obx.components(5) if c]
    return {"valueString": " ".join(parts)} if parts else {}


def _numeric(m: MessageMapper, obx: Segment, reps: list[str]) -> dict[str, Any]:
    text = obx.get(5) or ""
    if len(reps) > 1:
        m.problem(obx, "5", f"NM value repeats ({len(reps)} values `{obx.field(5)}`); only the first is mapped")
    value = number(text)
    if value is None:
        m.problem(obx, "5", f"`{text}` is not a number (NM: an optional sign, digits and a decimal point); kept as valueString")
        return {"valueString": text}
    return {"valueQuantity": quantity(value, quantity_unit(m, obx))}


def structured_numeric(m: MessageMapper, obx: Segment) -> dict[str, Any]:
    """SN: comparator ^ number ^ separator/suffix ^ number."""
    c = obx.components(5)
    comp, num1, sep, num2 = ([*c, None, None, None, None])[:4]
    text = "".join(p for p in (comp, num1, sep, num2) if p)
    n1 = number(num1) if num1 else None
    n2 = number(num2) if num2 else None
    unit = quantity_unit(m, obx)
    if (num1 and n1 is None) or (num2 and n2 is None):
        m.problem(obx, "5", f"`{obx.field(5)}` is not a structured numeric (SN: comparator^number^separator^number); kept as valueString")
        return {"valueString": text} if text else {}
    if n1 is not None and not sep and not num2 and (comp or "=") in ("<", ">", "<=", ">=", "="):
        return {"valueQuantity": quantity(n1, unit, comp if comp != "=" else None)}
    if n1 is not None and n2 is not None and not comp and sep == "-":
        return {"valueRange": {"low": quantity(n1, unit), "high": quantity(n2, unit)}}
    if n1 is not None and n2 is not None and not comp and sep in (":", "/"):
        return {"valueRatio": {"numerator": {"value": n1}, "denominator": {"value": n2}}}
    return {"valueString": text} if text else {}


def _time(m: MessageMapper, obx: Segment) -> dict[str, Any]:
    text = obx.get(5) or ""
    t = _TM.match(text.strip())
    if t is None or int(t.group(1)) > 23 or int(t.group(2) or 0) > 59 or int(t.group(3) or 0) > 59:
        m.problem(obx, "5", f"`{text}` is not an HL7 time (TM: HH[MM[SS[.S]]][+/-ZZZZ]); kept as valueString")
        return {"valueString": text}
    return {"valueTime": f"{t.group(1)}:{t.group(2) or '00'}:{t.group(3) or '00'}"}


# -- OBX-7 --------------------------------------------------------------------------------------
def reference_range(obx: Segment, unit: dict[str, Any]) -> dict[str, Any] | None:
    """OBX-7 as a referenceRange: `3.5-5.0` → low and high, `<5` → high, `>10` → low (with the
    value's unit); the text as sent is always kept in `text`."""
    raw = obx.field(7)
    if not raw or obx.is_null(7):
        return None
    d = obx.delimiters
    text = obx.get(7) or ""
    if d.subcomponent in text:  # the old `low&high` form
        text = text.replace(d.subcomponent, "-")
    out: dict[str, Any] = {}
    both = _RANGE.match(text)
    bound = _BOUND.match(text)
    if both:
        lo, hi = number(both.group(1)), number(both.group(2))
        if lo is not None and hi is not None:
            out = {"low": quantity(lo, unit), "high": quantity(hi, unit)}
    elif bound:
        value = number(bound.group(2))
        if value is not None:
            out = {"high" if bound.group(1) in ("<", "<=", "≤") else "low": quantity(value, unit)}
    out["text"] = obx.get(7) or raw
    return out


# -- ED → Attachment ------------------------------------------------------------------------------
_MEDIA = {"AP": "application", "APPLICATION": "application", "IM": "image", "IMAGE": "image", "AU": "audio",
          "AUDIO": "audio", "TEXT": "text", "TX": "text", "VIDEO": "video", "MULTIPART": "multipart"}  # fmt: skip


def attachment(m: MessageMapper, seg: Segment, n: int = 5) -> dict[str, Any] | None:
    """An ED (source ^ type ^ subtype ^ encoding ^ data) or RP (pointer ^ application ^ type ^
    subtype) value as an Attachment; `None` when it carries no data or address."""
    vtype = (seg.get(2, 1) or "").upper()
    c = seg.components(n)
    if vtype == "RP":
        url = c[0] if c else None
        if not url:
            return None
        out: dict[str, Any] = {"url": url}
        kind = media_type(c[2] if len(c) > 2 else None, c[3] if len(c) > 3 else None)
        if kind:
            out["contentType"] = kind
        return out
    data = c[4] if len(c) > 4 else None
    if not data:
        return None
    encoding = ((c[3] if len(c) > 3 else None) or "").upper()
    try:
        if encoding == "BASE64":
            raw = base64.b64decode("".join(data.split()), validate=True)
        elif encoding == "HEX":
            raw = bytes.fromhex(data)
        else:
            raw = data.encode()
    except (ValueError, binascii.Error):
        m.problem(seg, str(n), f"ED data is not valid {encoding.lower() or 'text'} ({len(data)} characters); the attachment is left out")
        return None
    kind = media_type(c[1] if len(c) > 1 else None, c[2] if len(c) > 2 else None) or "application/octet-stream"
    return {"contentType": kind, "data": base64.b64encode(raw).decode("ascii")}


def media_type(kind: str | None, subtype: str | None) -> str | None:
    """ED/RP type of data (table 0191) and subtype (table 0291) as a MIME type."""
    main = _MEDIA.get((kind or "").upper())
    if main is None:
        return None
    sub = (subtype or "").lower()
    if not sub:
        return "text/plain" if main == "text" else None
    return f"{main}/{sub}"

"""NDC (National Drug Code) normalization to the 11-digit 5-4-2 billing form.

An NDC has three segments: labeler, product, package. The FDA assigns 10 digits in one of
three layouts (4-4-2, 5-3-2, 5-4-1); claims use 11 digits (5-4-2), made by left-padding the
short segment with a zero. So:

    0006-0740-31   (4-4-2) → 00006-0740-31 → 00006074031
    00006-740-31   (5-3-2) → 00006-0740-31
    00006-0740-1   (5-4-1) → 00006-0740-01
    00006074031    (11 digits, no hyphens) is already normalized

A 10-digit NDC written without hyphens is ambiguous: the zero could belong in any of the three
segments. It is flagged (`ambiguous`) with its three possible 11-digit readings, never guessed.
"""

from __future__ import annotations

from typing import NamedTuple

NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"

_LAYOUTS = {(4, 4, 2): "4-4-2", (5, 3, 2): "5-3-2", (5, 4, 1): "5-4-1", (5, 4, 2): "5-4-2"}


class NdcResult(NamedTuple):
    """What one written NDC normalizes to.

    `ndc11` is the hyphen-less 11-digit form, or None when the input is invalid (`error`
    says why) or ambiguous (`candidates` holds the possible 11-digit readings).
    """

    ndc11: str | None
    form: str  # "4-4-2", "5-3-2", "5-4-1", "5-4-2", "11" (no hyphens), "10" (no hyphens) or "" when invalid
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()
    error: str | None = None

    @property
    def hyphenated(self) -> str | None:
        """The 11-digit form with hyphens, 5-4-2 (`00006-0740-31`)."""
        return None if self.ndc11 is None else f"{self.ndc11[:5]}-{self.ndc11[5:9]}-{self.ndc11[9:]}"


def normalize_ndc(text: str) -> NdcResult:
    """Normalize one NDC as written (surrounding blanks are ignored)."""
    s = text.strip()
    if not s:
        return NdcResult(None, "", error="empty NDC")
    if "-" in s:
        return _hyphenated(s)
    if not s.isdigit() or not s.isascii():
        return NdcResult(None, "", error=f"NDC `{s}` has characters other than digits and hyphens")
    if len(s) == 11:
        return _checked(s, "11")
    if len(s) == 10:
        readings = (f"0{s}", f"{s[:5]}0{s[5:]}", f"{s[:9]}0{s[9:]}")
        return NdcResult(
            None, "10", ambiguous=True, candidates=readings,
            error=f"10-digit NDC `{s}` without hyphens is ambiguous (4-4-2, 5-3-2 or 5-4-1); "
            "send it hyphenated or as 11 digits",
        )
    return NdcResult(None, "", error=f"NDC `{s}` has {len(s)} digits; expected 10 (hyphenated) or 11")


def _hyphenated(s: str) -> NdcResult:
    parts = s.split("-")
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
        return NdcResult(None, "", error=f"NDC `{s}` must be three groups of digits separated by hyphens")
    layout = _LAYOUTS.get((len(parts[0]), len(parts[1]), len(parts[2])))
    if layout is None:
        shape = "-".join(str(len(p)) for p in parts)
        return NdcResult(None, "", error=f"NDC `{s}` is {shape} digits; expected 4-4-2, 5-3-2, 5-4-1 or 5-4-2")
    a, b, c = parts
    return _checked(a.zfill(5) + b.zfill(4) + c.zfill(2), layout)


def _checked(ndc11: str, form: str) -> NdcResult:
    if ndc11.startswith("00000"):
        return NdcResult(None, "", error=f"NDC `{ndc11}` has labeler 00000, which the FDA never assigns")
    return NdcResult(ndc11, form)

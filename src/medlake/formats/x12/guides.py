"""Implementation guide → transaction-set family, matched on the guide's prefix.

`005010X222A1` and `005010X222A2` are both 837P: the errata suffix (`A1`, `A2` …) does not
change the family, so only the first ten characters are compared. The 4010 guides are known
too, so a 4010 file is recognised as such (and reported: medlake maps 005010 only).
"""

from __future__ import annotations

GUIDES: dict[str, str | None] = {
    "005010X222": "837P",
    "005010X223": "837I",
    "005010X224": "837D",
    "005010X221": "835",
    "005010X279": None,  # 270 or 271: ST01 says which
    "005010X212": None,  # 276 or 277
    "005010X214": "277CA",
    "005010X220": "834",
    "005010X231": "999",
    "004010X098": "837P",
    "004010X096": "837I",
    "004010X097": "837D",
    "004010X091": "835",
    "004010X092": None,
    "004010X093": None,
    "004010X095": "834",
}
"""Guide prefix → family (`None`: the family is ST01 itself)."""

SET_OF_FAMILY = {"837P": "837", "837I": "837", "837D": "837", "277CA": "277"}
"""Family → the ST01 it goes with, where they differ."""

_PAIRS = {"X279": ("270", "271"), "X212": ("276", "277"), "X092": ("270", "271"), "X093": ("276", "277")}

_LINE_SEGMENTS = {"SV1": "837P", "SV2": "837I", "SV3": "837D"}


def version_of(guide: str | None) -> str | None:
    """`5010`, `4010`, or `None` when the guide names neither."""
    if not guide:
        return None
    if guide.startswith("00501"):
        return "5010"
    if guide.startswith("00401"):
        return "4010"
    return None


def family_of(st01: str, guide: str | None) -> tuple[str, str | None]:
    """(family, a problem sentence when ST01 and the guide disagree).

    ST01 wins a disagreement: the set is what its header says.
    """
    if guide is None or guide[:10] not in GUIDES:
        return st01, None
    fam = GUIDES[guide[:10]]
    allowed = _PAIRS[guide[6:10]] if fam is None else (SET_OF_FAMILY.get(fam, fam),)
    if st01 not in allowed:
        what = " or ".join(allowed)
        return st01, (
            f"ST01 `{st01}` does not match the guide `{guide}` (a {what} guide); the set is read "
            f"as {st01}"
        )
    return fam or st01, None


def variant_837(segments: list[str], start: int, element: str) -> str:
    """837P/I/D from the first service-line segment (SV1/SV2/SV3) of the set that starts at
    segments[start], when no guide says it."""
    end = "SE" + element
    for k in range(start + 1, len(segments)):
        s = segments[k]
        if s[:3] == end:
            break
        fam = _LINE_SEGMENTS.get(s[:3])
        if fam is not None and s[3:4] == element:
            return fam
    return "837"

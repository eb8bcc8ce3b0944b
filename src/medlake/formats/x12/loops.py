"""Loop definitions as data: one table per transaction-set family.

A loop starts at its trigger segment: a segment id and, optionally, the value one element
must hold (`("NM1", {1: "41"})` is NM101 = 41; a tuple lists several allowed values). It nests
under the nearest open loop named in `parent` (`"ST"` is the set itself). When a trigger could
open several loops (NM1*82 is 2310B in a claim and 2420A in a service line), the one whose
parent is the most deeply open wins. HL loops are placed by HL02 when the parent HL is open,
else by their level (HL03) as the table says.

`CLOSERS` lists segments that end the loops below a given one and belong to it (the 835's
PLB after the last claim, the 999's IK5 after its segment errors, the 834's LS*2700 after
the coverage loops). `LS`/`LE` pairs are handled by the builder: `LE` returns to the loop
that held its `LS`.

The 4010 guides are structured with the 5010 tables of the same family (for `medlake
inspect` only: 4010 is not mapped), so a few 4010 loop ids may differ from the 4010 guide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Trigger = tuple[str, dict[int, str | tuple[str, ...]]]


@dataclass(frozen=True)
class LoopDef:
    """One loop of an implementation guide: its id, trigger segment and parent loop(s)."""

    id: str
    trigger: Trigger
    parent: str | tuple[str, ...] = "ST"
    notes: str = field(default="", compare=False)

    @property
    def parents(self) -> tuple[str, ...]:
        return (self.parent,) if isinstance(self.parent, str) else self.parent


def _nm1(loop: str, codes: str | tuple[str, ...], parent: str | tuple[str, ...]) -> LoopDef:
    return LoopDef(loop, ("NM1", {1: codes}), parent)


def _hl(loop: str, level: str, parent: str) -> LoopDef:
    return LoopDef(loop, ("HL", {3: level}), parent)


# -- 837 (X222 professional, X223 institutional, X224 dental) ------------------------------

_837_COMMON = (
    _nm1("1000A", "41", "ST"),
    _nm1("1000B", "40", "ST"),
    _hl("2000A", "20", "ST"),
    _nm1("2010AA", "85", "2000A"),
    _nm1("2010AB", "87", "2000A"),
    _nm1("2010AC", "PE", "2000A"),
    _hl("2000B", "22", "2000A"),
    _nm1("2010BA", "IL", "2000B"),
    _nm1("2010BB", "PR", "2000B"),
    _hl("2000C", "23", "2000B"),
    _nm1("2010CA", "QC", "2000C"),
    LoopDef("2300", ("CLM", {}), ("2000B", "2000C")),
    LoopDef("2320", ("SBR", {}), "2300"),
    _nm1("2330A", "IL", "2320"),
    _nm1("2330B", "PR", "2320"),
    LoopDef("2400", ("LX", {}), "2300"),
    LoopDef("2410", ("LIN", {}), "2400"),
    LoopDef("2430", ("SVD", {}), "2400"),
)

_REFERRING = ("DN", "P3")

_837P = (
    *_837_COMMON,
    _nm1("2310A", _REFERRING, "2300"),
    _nm1("2310B", "82", "2300"),
    _nm1("2310C", "77", "2300"),
    _nm1("2310D", "DQ", "2300"),
    _nm1("2310E", "PW", "2300"),
    _nm1("2310F", "45", "2300"),
    _nm1("2330C", _REFERRING, "2320"),
    _nm1("2330D", "82", "2320"),
    _nm1("2330E", "77", "2320"),
    _nm1("2330F", "DQ", "2320"),
    _nm1("2330G", "85", "2320"),
    _nm1("2420A", "82", "2400"),
    _nm1("2420B", "QB", "2400"),
    _nm1("2420C", "77", "2400"),
    _nm1("2420D", "DQ", "2400"),
    _nm1("2420E", "DK", "2400"),
    _nm1("2420F", _REFERRING, "2400"),
    _nm1("2420G", "PW", "2400"),
    _nm1("2420H", "45", "2400"),
    LoopDef("2440", ("LQ", {}), "2400"),
)

_837I = (
    *_837_COMMON,
    _nm1("2310A", "71", "2300"),
    _nm1("2310B", "72", "2300"),
    _nm1("2310C", "ZZ", "2300"),
    _nm1("2310D", "82", "2300"),
    _nm1("2310E", "77", "2300"),
    _nm1("2310F", "DN", "2300"),
    _nm1("2330C", "71", "2320"),
    _nm1("2330D", "72", "2320"),
    _nm1("2330E", "ZZ", "2320"),
    _nm1("2330F", "77", "2320"),
    _nm1("2330G", "82", "2320"),
    _nm1("2330H", "DN", "2320"),
    _nm1("2330I", "85", "2320"),
    _nm1("2420A", "72", "2400"),
    _nm1("2420B", "ZZ", "2400"),
    _nm1("2420C", "82", "2400"),
    _nm1("2420D", "DN", "2400"),
)

_837D = (
    *_837_COMMON,
    _nm1("2310A", _REFERRING, "2300"),
    _nm1("2310B", "82", "2300"),
    _nm1("2310C", "77", "2300"),
    _nm1("2310D", "DD", "2300"),
    _nm1("2310E", "DQ", "2300"),
    _nm1("2330C", _REFERRING, "2320"),
    _nm1("2330D", "82", "2320"),
    _nm1("2330E", "DQ", "2320"),
    _nm1("2330F", "77", "2320"),
    _nm1("2330G", "DD", "2320"),
    _nm1("2330H", "85", "2320"),
    _nm1("2420A", "82", "2400"),
    _nm1("2420B", "DD", "2400"),
    _nm1("2420C", "DQ", "2400"),
    _nm1("2420D", "77", "2400"),
)

# -- 835 (X221) -----------------------------------------------------------------------------

_835 = (
    LoopDef("1000A", ("N1", {1: "PR"}), "ST"),
    LoopDef("1000B", ("N1", {1: "PE"}), "ST"),
    LoopDef("2000", ("LX", {}), "ST"),
    LoopDef("2100", ("CLP", {}), ("2000", "ST"), notes="a CLP without an LX sits in the set"),
    LoopDef("2110", ("SVC", {}), "2100"),
)

# -- 270/271 (X279) -----------------------------------------------------------------------

_ELIGIBILITY_HL = (
    _hl("2000A", "20", "ST"),
    LoopDef("2100A", ("NM1", {}), "2000A"),
    _hl("2000B", "21", "2000A"),
    LoopDef("2100B", ("NM1", {}), "2000B"),
    _hl("2000C", "22", "2000B"),
    LoopDef("2100C", ("NM1", {}), "2000C"),
    _hl("2000D", "23", "2000C"),
    LoopDef("2100D", ("NM1", {}), "2000D"),
)

_270 = (
    *_ELIGIBILITY_HL,
    LoopDef("2110C", ("EQ", {}), "2100C"),
    LoopDef("2110D", ("EQ", {}), "2100D"),
)

_271 = (
    *_ELIGIBILITY_HL,
    LoopDef("2110C", ("EB", {}), "2100C"),
    LoopDef("2115C", ("III", {}), "2110C"),
    LoopDef("2120C", ("NM1", {}), "2110C"),
    LoopDef("2110D", ("EB", {}), "2100D"),
    LoopDef("2115D", ("III", {}), "2110D"),
    LoopDef("2120D", ("NM1", {}), "2110D"),
)

# -- 276/277 (X212) and 277CA (X214) --------------------------------------------------------


def _status(levels: tuple[tuple[str, str], ...], line_loop: str) -> tuple[LoopDef, ...]:
    """HL levels (suffix, HL03) in order, each with its 2100 name, 2200 TRN and 22x0 SVC loops."""
    defs: list[LoopDef] = []
    parent = "ST"
    for suffix, level in levels:
        hl = f"2000{suffix}"
        defs += [
            _hl(hl, level, parent),
            LoopDef(f"2100{suffix}", ("NM1", {}), hl),
            LoopDef(f"2200{suffix}", ("TRN", {}), hl),
            LoopDef(f"{line_loop}{suffix}", ("SVC", {}), f"2200{suffix}"),
        ]
        parent = hl
    return tuple(defs)


_STATUS_LEVELS = (("A", "20"), ("B", "21"), ("C", "19"), ("D", "22"), ("E", "23"))
_276 = _status(_STATUS_LEVELS, "2210")
_277 = _status(_STATUS_LEVELS, "2220")
_277CA = _status((("A", "20"), ("B", "21"), ("C", "19"), ("D", "PT")), "2220")

# -- 834 (X220) -------------------------------------------------------------------------------

_RESPONSIBLE = ("6Y", "9K", "E1", "EI", "EXS", "GB", "GD", "J6", "LR", "QD", "S1", "TZ", "X4")

_834 = (
    LoopDef("1000A", ("N1", {1: "P5"}), "ST"),
    LoopDef("1000B", ("N1", {1: "IN"}), "ST"),
    LoopDef("1000C", ("N1", {1: ("BO", "TV")}), "ST"),
    LoopDef("1100C", ("ACT", {}), "1000C"),
    LoopDef("2000", ("INS", {}), "ST"),
    _nm1("2100A", ("IL", "74"), "2000"),
    _nm1("2100B", "70", "2000"),
    _nm1("2100C", "31", "2000"),
    _nm1("2100D", "36", "2000"),
    _nm1("2100E", "M8", "2000"),
    _nm1("2100F", "S3", "2000"),
    _nm1("2100G", _RESPONSIBLE, "2000"),
    _nm1("2100H", "45", "2000"),
    LoopDef("2200", ("DSB", {}), "2000"),
    LoopDef("2300", ("HD", {}), "2000"),
    LoopDef("2310", ("LX", {}), "2300"),
    LoopDef("2320", ("COB", {}), "2300"),
    _nm1("2330", ("36", "GW", "IN"), "2320"),
    LoopDef("2700", ("LX", {}), "2000", notes="inside LS*2700 … LE*2700, which belong to 2000"),
    LoopDef("2750", ("N1", {1: "75"}), "2700"),
)

# -- acknowledgments: 999 (X231) and the 4010 997 -----------------------------------------------

_999 = (
    LoopDef("2000", ("AK2", {}), "ST"),
    LoopDef("2100", ("IK3", {}), "2000"),
    LoopDef("2110", ("IK4", {}), "2100"),
)

_997 = (
    LoopDef("2000", ("AK2", {}), "ST"),
    LoopDef("2100", ("AK3", {}), "2000"),
)

LOOPS: dict[str, tuple[LoopDef, ...]] = {
    "837P": _837P,
    "837I": _837I,
    "837D": _837D,
    "835": _835,
    "270": _270,
    "271": _271,
    "276": _276,
    "277": _277,
    "277CA": _277CA,
    "834": _834,
    "999": _999,
    "997": _997,
}
"""Family → its loops. A family missing here (278, 820, TA1 …) keeps its segments flat."""

CLOSERS: dict[str, dict[str, str]] = {
    "835": {"PLB": "ST"},
    "834": {"LS": "2000"},
    "999": {"IK5": "2000", "AK9": "ST"},
    "997": {"AK5": "2000", "AK9": "ST"},
}
"""Family → {segment id: the loop it returns to and belongs to}."""

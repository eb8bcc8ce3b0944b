"""Acknowledgments of a parsed X12 file: the TA1 for an interchange, the 999 for its groups.

    from medlake.formats.x12 import parse_x12
    from medlake.formats.x12.ack import build_999, build_ta1

    f = parse_x12(data, name="claims.x12")
    build_999(f)                                  # ISA, GS*FA, one ST*999 per group, GE, IEA
    build_999(f, with_ta1=True)                   # … with the TA1 right after each ISA
    build_ta1(f.interchanges[0], f.problems)      # ISA, TA1, IEA*0

Each parser problem (`X12Problem`) is placed by its attributes: a problem of a set (its
`record_index` is the set's ordinal) becomes an IK5 code or an IK3/IK4 pair, a problem of a
group (`group` set, no `transaction_set`) an AK9 code, any other problem of an interchange a
TA1 note. The element attribute (`SE01`, `HL02` …) decides the code:

| problem                                      | where | code                                 |
|----------------------------------------------|-------|--------------------------------------|
| IEA02 ≠ ISA13                                | TA1   | R, 001                               |
| IEA01 ≠ number of groups                     | TA1   | R, 021                               |
| ISA12 is 00401                               | TA1   | R, 003 (version of the controls)      |
| no IEA (file cut short)                      | TA1   | R, 023 (premature end of file)        |
| sets with no GS around them                  | TA1   | R, 024 (invalid interchange content)  |
| ISA not fixed width                          | TA1   | E, 022 (invalid control structure)    |
| segments outside any group (kept, not read)  | TA1   | E, 024                               |
| GE01 ≠ number of sets                        | AK9   | R, AK905 5                           |
| GE02 ≠ GS06                                  | AK9   | R, AK905 4                           |
| no GE                                        | AK9   | R, AK905 3                           |
| GS08 is 004010…                              | AK9   | R, AK905 2 (version not supported)   |
| segments outside any set in a group          | AK9   | E (no AK905 code fits)               |
| SE01 ≠ segment count                         | IK5   | R, 4 (+ IK3 SE … 8, IK4 1 96 6 when SE01 is not a number) |
| SE02 ≠ ST02                                  | IK5   | R, 3                                 |
| no SE                                        | IK5   | R, 2                                 |
| ST01 against the guide                       | IK5   | R, 6                                 |
| ST03 (or GS08) against the service lines     | IK5   | R, 19                                |
| HL01 repeated, HL02 names no earlier HL      | IK3 HL … 8, IK4 n ref I12; IK5 R, I5  |
| HL03 not a level of the set                  | IK3 HL … 8, IK4 3 735 I6; IK5 R, I5   |
| HL04 disagrees with the HLs that follow      | IK3 HL … 8, IK4 4 736 I12; IK5 E, I5  |

HL01 must be unique in the set, HL02 must name an earlier HL01 and HL04 must agree with the
children: rules of the implementation guides, so they are reported as I12 ("implementation
pattern match failure"); an HL03 the set's guide does not use is I6 ("code value not used in
implementation"). A set problem of another kind (none today) rejects the set with IK502 5 and
an IK3 at its segment. AK9: R when the group has a group-level error or every set was
rejected, P when some were, E when errors were noted, else A; AK902 is GE01 as sent, AK903
the sets received, AK904 those accepted (A or E; none when the group itself is rejected).

The acknowledgment uses the inbound interchange's separators (so a copied value, IK404,
never holds a separator of the reply), with a line break after each terminator unless the
terminator is a line break itself. Sender and receiver are swapped in ISA05–08 and GS02–03;
ISA14 is 0, ISA15 is the inbound's. Control numbers: `control_number` for the first reply
interchange and one more for each next one; by default the inbound ISA13, so acknowledging
the same file twice gives the same text. GS06 counts the reply's groups from 1 and each 999
is ST02 0001 (one set per group). `at` stamps the envelopes (default: now, UTC); TA102/TA103
echo the inbound ISA09/ISA10. Interchanges without an ISA, and sets without a GS, cannot be
acknowledged (AK1 needs GS01 and GS06, TA101 needs ISA13) and are left out: the TA1 says so.

These functions only read what they are given and return text: no I/O, nothing logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from medlake.errors import ParseError
from medlake.formats.problems import Problem
from medlake.formats.x12.interchange import Group, Interchange
from medlake.formats.x12.parse import X12File
from medlake.formats.x12.position import X12Problem
from medlake.formats.x12.segment import parse_ref
from medlake.formats.x12.separators import Separators
from medlake.formats.x12.transaction import TransactionSet

GUIDE_999 = "005010X231A1"

TA1_NOTES = {
    "000": "no error",
    "001": "interchange control numbers in header and trailer do not match",
    "003": "this version of the controls is not supported",
    "021": "invalid number of included groups value",
    "022": "invalid control structure",
    "023": "improper (premature) end-of-file",
    "024": "invalid interchange content",
}
"""The TA105 note codes this module sends."""

ELEMENT_REFERENCES = {
    "ST01": "143", "ST02": "329", "ST03": "1705", "SE01": "96", "SE02": "329",
    "HL01": "628", "HL02": "734", "HL03": "735", "HL04": "736", "CLM01": "1028", "CLM02": "782",
}
"""Element → its number in the X12 data element dictionary (IK402), where we know it."""

_TA1 = {"IEA02": ("R", "001"), "IEA01": ("R", "021"), "ISA12": ("R", "003"), "ISA": ("E", "022")}
_GROUP = {"GE01": "5", "GE02": "4", "GS08": "2"}
_SET = {"SE01": "4", "SE02": "3", "ST01": "6", "ST03": "19"}
_HL = {"HL01": ("I12", "R"), "HL02": ("I12", "R"), "HL03": ("I6", "R"), "HL04": ("I12", "E")}
_WORSE = {"A": 0, "E": 1, "R": 2}


@dataclass(frozen=True)
class ElementError:
    """One IK4: where in the segment, the element's reference number, the code, the bad value."""

    element: int
    component: int | None
    reference: str | None
    code: str
    value: str | None


@dataclass
class SegmentError:
    """One IK3 and its IK4s."""

    segment_id: str
    position: int
    """Ordinal in the set (ST is 1)."""
    loop: str | None
    code: str
    elements: list[ElementError] = field(default_factory=list)


@dataclass
class SetAck:
    """The verdict on one transaction set: IK5 code and IK502… codes, with its IK3s."""

    tset: TransactionSet
    code: str = "A"
    errors: list[str] = field(default_factory=list)
    segments: list[SegmentError] = field(default_factory=list)

    def flag(self, code: str, result: str) -> None:
        if code not in self.errors:
            self.errors.append(code)
        if _WORSE[result] > _WORSE[self.code]:
            self.code = result


@dataclass
class GroupAck:
    """The verdict on one functional group: AK9 and its sets."""

    group: Group
    sets: list[SetAck]
    errors: list[str] = field(default_factory=list)
    noted: bool = False
    """A problem of the group that has no AK905 code (segments outside any set)."""

    @property
    def received(self) -> int:
        return len(self.sets)

    @property
    def included(self) -> int:
        """AK902: GE01 as the sender wrote it (the sets received when GE01 is not a number)."""
        ge01 = self.group.trailer[1] if self.group.trailer and len(self.group.trailer) > 1 else ""
        return int(ge01) if ge01.isdigit() else self.received

    @property
    def accepted(self) -> int:
        return 0 if self.errors else sum(1 for s in self.sets if s.code != "R")

    @property
    def code(self) -> str:
        rejected = sum(1 for s in self.sets if s.code == "R")
        if self.errors or (self.sets and rejected == len(self.sets)):
            return "R"
        if rejected:
            return "P"
        return "E" if self.noted or any(s.code == "E" for s in self.sets) else "A"


# -- problems → verdicts --------------------------------------------------------------------------


def _within(ic: Interchange, p: X12Problem) -> bool:
    if p.file_segment is None:
        return p.interchange == ic.label and ic.header is not None
    return ic.first_segment < p.file_segment <= ic.first_segment + len(ic.segments)


def interchange_result(ic: Interchange, problems: Iterable[Problem]) -> tuple[str, str]:
    """(TA104, TA105) for `ic`: the worst of its interchange-level problems, first one first."""
    found: list[tuple[str, str]] = []
    e = ic.separators.element
    if not ic.segments or ic.segments[-1].split(e, 1)[0] != "IEA":
        found.append(("R", "023"))
    if any(g.header is None for g in ic.groups):
        found.append(("R", "024"))
    for p in problems:
        if isinstance(p, X12Problem) and p.group is None and p.transaction_set is None and _within(ic, p):
            if p.element in _TA1:
                found.append(_TA1[p.element])
            elif p.element is None:
                # segments outside any group or after IEA (kept, not read); the missing IEA
                # and the sets without GS are also reported so, but were rejected above
                found.append(("E", "024"))
    if not found:
        return "A", "000"
    worst = max(_WORSE[c] for c, _ in found)
    return next((c, n) for c, n in found if _WORSE[c] == worst)


def group_results(file: X12File) -> list[GroupAck]:
    """The 999 verdict on every group with a GS of every interchange with an ISA, in file order."""
    acks: dict[tuple[int, int], GroupAck] = {}
    by_ordinal: dict[int, SetAck] = {}
    for ic in file.interchanges:
        if ic.header is None:
            continue
        for g in ic.groups:
            if g.header is None:
                continue
            sets = [SetAck(ts) for ts in g.sets]
            acks[ic.index, g.index] = ack = GroupAck(g, sets)
            if g.trailer is None:
                ack.errors.append("3")
            for s in sets:
                by_ordinal[s.tset.ordinal] = s
                if not s.tset.trailer:
                    s.flag("2", "R")
    for p in file.problems:
        if not isinstance(p, X12Problem):
            continue
        if p.transaction_set is not None and p.record_index in by_ordinal:
            _set_problem(by_ordinal[p.record_index], p)
        elif p.group is not None and p.transaction_set is None:
            found = _group_of(acks, file, p)
            if found is None:
                continue
            code = _GROUP.get(p.element or "")
            if code is None:
                found.noted = True  # segments outside any set (the missing GE is rejected above)
            elif code not in found.errors:
                found.errors.append(code)
    for ack in acks.values():
        for s in ack.sets:
            s.segments.sort(key=lambda x: x.position)
    return list(acks.values())


def _group_of(acks: dict[tuple[int, int], GroupAck], file: X12File, p: X12Problem) -> GroupAck | None:
    for ic in file.interchanges:
        if p.file_segment is not None and _within(ic, p):
            at = p.file_segment - 1 - ic.first_segment
            return next((a for (i, _), a in acks.items() if i == ic.index and a.group.start <= at < a.group.end), None)
    return None


def _set_problem(ack: SetAck, p: X12Problem) -> None:
    ts, element = ack.tset, p.element
    if element is None:
        if not ts.trailer and p.segment == len(ts):
            return  # the missing SE, flagged already
        if p.segment == 1:
            ack.flag("19", "R")  # the guide (GS08) disagrees with the set's service lines
            return
    if element in _SET:
        ack.flag(_SET[element], "R")
        if element == "SE01" and p.segment is not None:
            value = ts.segment(p.segment - 1).element(1)
            if not value.isdigit():
                _element_error(ack, p, "1" if not value else "6")
        return
    if element in _HL:
        code, result = _HL[element]
        _element_error(ack, p, code)
        ack.flag("I5", result)
        return
    ack.flag("5", "R")  # a kind of problem this table does not know yet
    if p.segment is not None:
        _segment_error(ack, p.segment, p.loop, "8")


def _segment_error(ack: SetAck, position: int, loop: str | None, code: str) -> SegmentError:
    for s in ack.segments:
        if s.position == position:
            return s
    s = SegmentError(ack.tset.segment_id(position - 1), position, loop, code)
    ack.segments.append(s)
    return s


def _element_error(ack: SetAck, p: X12Problem, code: str) -> None:
    assert p.segment is not None and p.element is not None
    ref = parse_ref(p.element)
    seg = ack.tset.segment(p.segment - 1)
    value = seg.element(ref.element) if ref.component is None else seg.component(ref.element, ref.component)
    err = ElementError(ref.element, ref.component, ELEMENT_REFERENCES.get(p.element), code, value or None)
    _segment_error(ack, p.segment, p.loop, "8").elements.append(err)


# -- rendering -----------------------------------------------------------------------------------


class _Writer:
    """Segments of one reply, joined with the inbound separators."""

    def __init__(self, seps: Separators) -> None:
        others = (seps.element, seps.component, seps.segment)
        rep = seps.repetition or next(c for c in "^!{}|" if c not in others)
        self.seps = Separators(seps.element, seps.component, rep, seps.segment)
        self.reserved = (*others, rep)
        self.out: list[str] = []
        self.counted = 0

    def seg(self, *elements: str) -> None:
        items = list(elements)
        while items and items[-1] == "":
            items.pop()
        s = self.seps
        newline = "" if s.segment in "\r\n" else "\n"
        self.out.append(s.element.join(items) + s.segment + newline)
        self.counted += 1

    def copy(self, value: str | None) -> str:
        """A value copied from the inbound file (IK404): left out if it would split the reply."""
        if value is None or any(c in value for c in self.reserved) or len(value) > 99:
            return ""
        return value

    def isa(self, ic: Interchange, number: int, at: datetime) -> None:
        assert ic.header is not None
        h = ic.header + [""] * (17 - len(ic.header))
        self.seg(
            "ISA", "00", " " * 10, "00", " " * 10,
            h[7] or "ZZ", h[8].strip().ljust(15), h[5] or "ZZ", h[6].strip().ljust(15),
            f"{at:%y%m%d}", f"{at:%H%M}", self.seps.repetition or "^", "00501",
            f"{number % 1_000_000_000:09d}", "0", ic.usage or "P", self.seps.component,
        )

    def ta1(self, ic: Interchange, problems: Iterable[Problem], at: datetime) -> None:
        code, note = interchange_result(ic, problems)
        self.seg("TA1", ic.control_number or "", ic.date or f"{at:%y%m%d}", ic.time or f"{at:%H%M}", code, note)

    def group_999(self, ack: GroupAck, number: int, at: datetime) -> None:
        g = ack.group
        self.seg("GS", "FA", g.receiver or "", g.sender or "", f"{at:%Y%m%d}", f"{at:%H%M}", str(number), "X", GUIDE_999)
        start = self.counted
        self.seg("ST", "999", "0001", GUIDE_999)
        self.seg("AK1", g.functional_id or "", g.control_number or "", g.version or "")
        for s in ack.sets:
            self.set_999(s)
        self.seg("AK9", ack.code, str(ack.included), str(ack.received), str(ack.accepted), *ack.errors[:5])
        self.seg("SE", str(self.counted - start + 1), "0001")
        self.seg("GE", "1", str(number))

    def set_999(self, s: SetAck) -> None:
        ts = s.tset
        self.seg("AK2", ts.id, ts.control_number, ts.segment(0).element(3))
        c = self.seps.component
        for e in s.segments:
            self.seg("IK3", e.segment_id, str(e.position), e.loop or "", e.code)
            for x in e.elements:
                where = str(x.element) if x.component is None else f"{x.element}{c}{x.component}"
                self.seg("IK4", where, x.reference or "", x.code, self.copy(x.value))
        self.seg("IK5", s.code, *s.errors[:5])

    def iea(self, groups: int, number: int) -> None:
        self.seg("IEA", str(groups), f"{number % 1_000_000_000:09d}")


def _number(ic: Interchange, control_number: int | None, k: int) -> int:
    if control_number is not None:
        return control_number + k
    isa13 = (ic.control_number or "").strip()
    return int(isa13) if isa13.isdigit() else k + 1


def _now(at: datetime | None) -> datetime:
    return at if at is not None else datetime.now(UTC)


def build_ta1(
    interchange: Interchange,
    problems: Sequence[Problem],
    *,
    control_number: int | None = None,
    at: datetime | None = None,
) -> str:
    """An interchange holding the TA1 for `interchange`: ISA, TA1, IEA*0.

    `problems` may be the whole file's list: only this interchange's envelope problems count.
    """
    if interchange.header is None:
        raise ParseError(
            "the interchange has no `ISA` header, so it cannot be acknowledged with a TA1 (TA101 "
            "is its ISA13): acknowledge files that start with an ISA",
            interchange=interchange.label,
        )
    when, number = _now(at), _number(interchange, control_number, 0)
    w = _Writer(interchange.separators)
    w.isa(interchange, number, when)
    w.ta1(interchange, problems, when)
    w.iea(0, number)
    return "".join(w.out)


def build_999(
    file: X12File,
    *,
    control_number: int | None = None,
    at: datetime | None = None,
    with_ta1: bool = False,
) -> str:
    """One reply interchange per inbound interchange with an ISA: a GS*FA group holding one
    ST*999 for each inbound group (and, `with_ta1`, the TA1 right after the ISA)."""
    when = _now(at)
    results = group_results(file)
    out: list[str] = []
    for k, ic in enumerate(i for i in file.interchanges if i.header is not None):
        number = _number(ic, control_number, k)
        w = _Writer(ic.separators)
        w.isa(ic, number, when)
        if with_ta1:
            w.ta1(ic, file.problems, when)
        groups = [r for r in results if r.group.interchange is ic]
        for j, ack in enumerate(groups, 1):
            w.group_999(ack, j, when)
        w.iea(len(groups), number)
        out.extend(w.out)
    if not out:
        raise ParseError(
            f"`{file.name}` has no `ISA` interchange to acknowledge: a 999 answers the groups of an "
            "ISA … IEA envelope; acknowledge files that start with an ISA",
            file=file.name,
        )
    return "".join(out)

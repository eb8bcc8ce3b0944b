"""The envelopes of one interchange: groups and sets found, their control numbers and counts checked.

ISA13 = IEA02 and IEA01 = number of groups; GS06 = GE02 and GE01 = number of sets; ST02 =
SE02 and SE01 = number of segments from ST through SE. A missing trailer (a file cut short)
is reported and the envelope closed where the next one starts. Outside the sets only the
envelope segments are looked at; at each ST the loop builder reads the set up to its SE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medlake.errors import ErrorLevel
from medlake.formats.problems import Problem
from medlake.formats.x12.build import LoopTree, build_loops
from medlake.formats.x12.guides import family_of, variant_837, version_of
from medlake.formats.x12.interchange import Group, Interchange
from medlake.formats.x12.position import X12Problem, emit, position
from medlake.formats.x12.table import Compiled
from medlake.formats.x12.transaction import TransactionSet

ENVELOPE_IDS = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1"))
_HEADS = frozenset(s[:2] for s in ENVELOPE_IDS)


@dataclass
class Context:
    """What the walk of every interchange of a file shares."""

    name: str
    errors: ErrorLevel
    problems: list[Problem] = field(default_factory=list)
    ordinal: int = 0
    """Sets (and TA1s) seen so far in the file."""
    tables: dict[tuple[str, str], Compiled] = field(default_factory=dict)
    """The loop tables compiled for this file, by (family, element separator)."""

    def table(self, family: str, element: str) -> Compiled:
        found = self.tables.get((family, element))
        if found is None:
            found = self.tables[family, element] = Compiled(family, element)
        return found


_LINES = {"837P": "SV1", "837I": "SV2", "837D": "SV3"}


def _same_number(a: str, b: str) -> bool:
    """Control numbers agree: equal text (padding aside), or equal numbers when both are digits."""
    a, b = a.strip(), b.strip()
    return a == b or (a.isdigit() and b.isdigit() and int(a) == int(b))


def _el(elements: list[str], n: int) -> str:
    return elements[n] if n < len(elements) else ""


class _Walk:
    """One pass over the envelope segments of an interchange."""

    def __init__(self, ic: Interchange, ctx: Context) -> None:
        self.ic = ic
        self.ctx = ctx
        self.e = ic.separators.element
        self.group: Group | None = None
        self.expect = 0 if ic.header is None else 1
        self.iea: int | None = None

    # -- problems ------------------------------------------------------------------------
    def problem(
        self,
        message: str,
        index: int | None = None,
        *,
        group: Group | None = None,
        tset: tuple[int, str] | None = None,
        loop: str | None = None,
        element: str | None = None,
        record: int | None = None,
    ) -> None:
        """Report `message` at segment `index` of the interchange; `tset` is (ST index, ST02)."""
        ic = self.ic
        seg = index - tset[0] + 1 if tset is not None and index is not None else None
        file_seg = ic.first_segment + index + 1 if index is not None else None
        gl = (group.control_number or "(no GS)") if group is not None else None
        st02 = tset[1] if tset is not None else None
        where = position(ic.label, gl, st02, seg, file_seg, loop, element)
        text = ic.segments[index] if index is not None and index < len(ic.segments) else None
        line = ic.line_of(index) if index is not None else ic.line
        p = X12Problem(message, where, line, record, text, ic.label, gl, st02, seg, file_seg, loop, element)
        emit(p, self.ctx.errors, self.ctx.problems, self.ctx.name)

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> None:
        segs, e = self.ic.segments, self.e
        i, n = self.expect, len(segs)
        handlers = {"SE": self.on_se, "GS": self.on_gs, "GE": self.on_ge, "IEA": self.on_iea, "TA1": self.on_ta1}
        while i < n and self.iea is None:
            s = segs[i]
            sid = s.split(e, 1)[0] if s[:2] in _HEADS else ""
            if sid == "ST":
                i = self.read_set(i)
                continue
            handler = handlers.get(sid)
            if handler is not None:
                handler(i)
            i += 1
        end = n if self.iea is None else self.iea
        if self.iea is None:
            self.stray(end)
        self.close_group(end, None, "the end of the file" if self.iea is None else "`IEA`")
        self.finish()

    def stray(self, upto: int) -> None:
        """Segments between the last envelope segment and `upto` that belong to no set."""
        if self.expect < upto:
            n = upto - self.expect
            sid = self.ic.segments[self.expect].split(self.e, 1)[0]
            more = f" (and {n - 1} more after it)" if n > 1 else ""
            msg = f"segment `{sid}` is outside any transaction set{more}; it is kept but not read"
            self.problem(msg, self.expect, group=self.group)
        self.expect = max(self.expect, upto)

    def on_se(self, i: int) -> None:
        self.stray(i)
        self.problem("`SE` without an `ST` before it; it is kept but not read", i, group=self.group)
        self.expect = i + 1

    def on_gs(self, i: int) -> None:
        self.stray(i)
        self.close_group(i, None, "the next `GS`")
        self.group = Group(self.ic, len(self.ic.groups), i, self.ic.segments[i].split(self.e))
        self.ic.groups.append(self.group)
        self.expect = i + 1
        self.check_version(self.group, i)

    def on_ge(self, i: int) -> None:
        self.stray(i)
        if self.group is None:
            self.problem("`GE` without a `GS` before it; it is kept but not read", i)
        else:
            self.close_group(i + 1, self.ic.segments[i].split(self.e))
        self.expect = i + 1

    def on_iea(self, i: int) -> None:
        self.stray(i)
        self.close_group(i, None, "`IEA`")
        self.iea = i
        self.expect = i + 1

    def on_ta1(self, i: int) -> None:
        self.stray(i)
        ic = self.ic
        ack = TransactionSet(
            ic, None, i, i + 1, id="TA1", control_number=_el(ic.segments[i].split(self.e), 1),
            guide=None, family="TA1", version=version_of(ic.version),
            index=len(ic.acks), ordinal=self.ctx.ordinal, trailer=True, tree=LoopTree("TA1", 1),
        )
        self.ctx.ordinal += 1
        ic.acks.append(ack)
        ic.transaction_sets.append(ack)
        self.expect = i + 1

    # -- a transaction set -------------------------------------------------------------------------
    def read_set(self, st: int) -> int:
        """Read the set whose ST is segments[st] (its loops too); returns the index after it."""
        ic, e = self.ic, self.e
        self.stray(st)
        if self.group is None:
            self.group = Group(ic, len(ic.groups), st, None)
            ic.groups.append(self.group)
            if ic.header is not None:
                self.problem("`ST` without a `GS` before it: the set is kept in a group of its own", st)
        group = self.group
        head = ic.segments[st].split(e)
        guide = _el(head, 3) or group.version
        family, notes = self.family(st, head, guide)
        table = self.ctx.table("837P" if family == "837" else family, e)
        tree, issues, stop = build_loops(ic.segments, st, e, table)
        end = st + tree.ends[0]
        version = version_of(guide) or version_of(group.version) or version_of(ic.version)
        ts = TransactionSet(
            ic, group, st, end, id=_el(head, 1), control_number=_el(head, 2), guide=guide,
            family=family, version=version, index=len(group.sets), ordinal=self.ctx.ordinal,
            trailer=end > stop, tree=tree,
        )
        self.ctx.ordinal += 1
        group.sets.append(ts)
        ic.transaction_sets.append(ts)
        where, rec = (st, ts.control_number), ts.ordinal
        for element, message in notes:
            self.problem(message, st, group=group, tset=where, element=element, record=rec)
        if ts.trailer:
            self.check_trailer(ts, where)
        else:
            msg = f"set `{ts.control_number}` has no `SE` trailer: it ends at {self.describe(stop)} (the file may be cut short)"
            self.problem(msg, end - 1, group=group, tset=where, record=rec)
        for issue in issues:
            self.problem(issue.message, st + issue.at, group=group, tset=where,
                         loop=issue.loop, element=issue.element, record=rec)
        self.expect = end
        return end

    def family(self, st: int, head: list[str], guide: str | None) -> tuple[str, list[tuple[str | None, str]]]:
        """The set's family, and (element, sentence) for each disagreement found on the way:
        ST01 against the guide, and for an 837 the guide against the service-line segments."""
        st01 = _el(head, 1)
        family, mismatch = family_of(st01, guide)
        notes: list[tuple[str | None, str]] = [("ST01", mismatch)] if mismatch else []
        if st01 == "837":
            lines = variant_837(self.ic.segments, st, self.e)
            if lines != "837" and family != lines:
                if family != "837":
                    notes.append((
                        "ST03" if _el(head, 3) else None,
                        f"the guide `{guide}` is for {family} but the service lines are {lines}'s "
                        f"({_LINES[lines]}); the set is read as {lines}",
                    ))
                family = lines
        return family, notes

    def describe(self, stop: int) -> str:
        """Where a set without SE ended, in words."""
        if stop >= len(self.ic.segments):
            return "the end of the file"
        sid = self.ic.segments[stop].split(self.e, 1)[0]
        return f"`{sid}`" if sid in ("GE", "IEA") else f"the next `{sid}`"

    def check_trailer(self, ts: TransactionSet, where: tuple[int, str]) -> None:
        se = ts.end - 1
        tail = self.ic.segments[se].split(self.e)
        se01, se02 = _el(tail, 1), _el(tail, 2)
        count = len(ts)
        group, rec = ts.group, ts.ordinal
        if not se01.isdigit():
            msg = f"SE01 `{se01}` is not a segment count; the set has {count} segments (ST through SE)"
            self.problem(msg, se, group=group, tset=where, element="SE01", record=rec)
        elif int(se01) != count:
            msg = f"SE01 says {int(se01)} segments but the set has {count} (ST through SE)"
            self.problem(msg, se, group=group, tset=where, element="SE01", record=rec)
        if se02 != ts.control_number:
            msg = f"SE02 `{se02}` does not match ST02 `{ts.control_number}`"
            self.problem(msg, se, group=group, tset=where, element="SE02", record=rec)

    def close_group(self, end: int, trailer: list[str] | None, where: str = "") -> None:
        group = self.group
        if group is None:
            return
        self.group = None
        group.end = end
        group.trailer = trailer
        if group.header is None:
            return
        label = group.control_number or ""
        if trailer is None:
            msg = f"group `{label}` has no `GE` trailer: it ends at {where} (the file may be cut short)"
            self.problem(msg, end - 1, group=group)
            return
        ge01, ge02 = _el(trailer, 1), _el(trailer, 2)
        n = len(group.sets)
        if not ge01.isdigit() or int(ge01) != n:
            said = f"says {int(ge01)}" if ge01.isdigit() else f"`{ge01}` is not a count of"
            msg = f"GE01 {said} transaction sets but the group has {n}"
            self.problem(msg, end - 1, group=group, element="GE01")
        if not _same_number(ge02, label):
            self.problem(f"GE02 `{ge02}` does not match GS06 `{label}`", end - 1, group=group, element="GE02")

    def finish(self) -> None:
        ic = self.ic
        if ic.header is None:
            return
        n = sum(1 for g in ic.groups if g.header is not None)
        if self.iea is None:
            groups = f"{n} group{'s' if n != 1 else ''} seen"
            self.problem(f"the interchange has no `IEA` trailer: the file may be cut short ({groups})", len(ic.segments) - 1)
        else:
            self.check_iea(self.iea, n)
        if ic.version == "00401" and not any(g.version and g.version.startswith("00401") for g in ic.groups):
            self.problem(
                "ISA12 `00401` is X12 4010: the interchange is read and structured (for `medlake "
                "inspect`) but not mapped; medlake maps 005010 only",
                0,
                element="ISA12",
            )

    def check_iea(self, iea: int, groups: int) -> None:
        ic = self.ic
        isa13 = ic.control_number or ""
        tail = ic.segments[iea].split(self.e)
        ic.trailer = tail
        iea01, iea02 = _el(tail, 1), _el(tail, 2)
        if not iea01.isdigit() or int(iea01) != groups:
            said = f"says {int(iea01)}" if iea01.isdigit() else f"`{iea01}` is not a count of"
            self.problem(f"IEA01 {said} functional groups but the interchange has {groups}", iea, element="IEA01")
        if not _same_number(iea02, isa13):
            self.problem(f"IEA02 `{iea02}` does not match ISA13 `{isa13}`", iea, element="IEA02")
        after = len(ic.segments) - iea - 1
        if after:
            sid = ic.segments[iea + 1].split(self.e, 1)[0]
            more = f" (and {after - 1} more after it)" if after > 1 else ""
            self.problem(f"segment `{sid}` after `IEA` is outside the interchange{more}; it is kept but not read", iea + 1)

    def check_version(self, group: Group, i: int) -> None:
        gs08 = group.version or ""
        if gs08.startswith("00401"):
            self.problem(
                f"GS08 `{gs08}` is X12 4010: the group is read and structured (for `medlake "
                "inspect`) but not mapped; medlake maps 005010 only",
                i,
                group=group,
                element="GS08",
            )


def walk_interchange(ic: Interchange, ctx: Context) -> None:
    """Find the groups and sets of `ic`, build each set's loops, and report what is wrong."""
    _Walk(ic, ctx).run()

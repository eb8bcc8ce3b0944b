"""Where an X12 problem is, in the envelope's own terms, and the problem that carries it.

A position reads `interchange 000000905, group 1, set 0001, segment 26 (file segment 29),
loop 2300, CLM02`: the interchange by ISA13, the group by GS06, the set by ST02, the segment
by its ordinal in the set (ST is 1) and in the file, the loop by its id, the element as the
guides write it. Each part is also an attribute of `X12Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass

from medlake.errors import ErrorLevel, ParseError
from medlake.formats.problems import Problem, report


@dataclass(frozen=True)
class X12Problem(Problem):
    """A `Problem` with its X12 position as attributes as well as in `position`."""

    interchange: str | None = None
    """ISA13 (or `N (no ISA)`)."""
    group: str | None = None
    """GS06 (or `(no GS)`)."""
    transaction_set: str | None = None
    """ST02."""
    segment: int | None = None
    """1-based ordinal of the segment in its set (ST is 1)."""
    file_segment: int | None = None
    """1-based ordinal of the segment in the file."""
    loop: str | None = None
    element: str | None = None
    """`CLM02`, `HL02`, `SE01` …"""


def position(
    interchange: str | None = None,
    group: str | None = None,
    tset: str | None = None,
    segment: int | None = None,
    file_segment: int | None = None,
    loop: str | None = None,
    element: str | None = None,
    line: int | None = None,
) -> str:
    parts = []
    if interchange is not None:
        parts.append(f"interchange {interchange}")
    if group is not None:
        parts.append(f"group {group}")
    if tset is not None:
        parts.append(f"set {tset}")
    if segment is not None:
        parts.append(f"segment {segment:,} (file segment {file_segment:,})")
    elif file_segment is not None:
        parts.append(f"file segment {file_segment:,}")
    if loop is not None:
        parts.append(f"loop {loop}")
    if element is not None:
        parts.append(element)
    if not parts and line is not None:
        parts.append(f"line {line:,}")
    return ", ".join(parts) or "file"


def emit(problem: X12Problem, level: ErrorLevel, problems: list[Problem], name: str) -> None:
    """`report` for X12: at the raise level the ParseError carries every position attribute."""
    if level != "raise":
        report(problem, level, problems, name)
        return
    raise ParseError(
        f"{name}: {problem.position}: {problem.message}",
        file=name,
        position=problem.position,
        line=problem.line,
        record_index=problem.record_index,
        interchange=problem.interchange,
        group=problem.group,
        transaction_set=problem.transaction_set,
        segment=problem.segment,
        file_segment=problem.file_segment,
        loop=problem.loop,
        element=problem.element,
    )

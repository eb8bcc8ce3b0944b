"""`medlake ack`: the 999 and/or TA1 acknowledgment of an X12 file (registered in cli/main.py).

The acknowledgment goes to stdout (or to `DIR/<stem>.999.x12` / `<stem>.ta1.x12` with
`--out`), and one line of counts to stderr, never a value from the file. Exit codes: 0 when
everything acknowledged was accepted, 1 when something was rejected or accepted with errors
(or could not be acknowledged), 2 when the file cannot be acknowledged at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from medlake.formats.x12 import X12File


class AckKind(StrEnum):
    ack_999 = "999"
    ta1 = "ta1"
    both = "both"


def ack(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The X12 file to acknowledge.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", file_okay=False, help="Write <stem>.999.x12 / <stem>.ta1.x12 here instead of stdout.")] = None,
    kind: Annotated[AckKind, typer.Option("--kind", "-k", help="999, ta1, or both (the TA1 inside the 999's interchange).")] = AckKind.ack_999,
    control_number: Annotated[int | None, typer.Option(min=1, max=999_999_999, help="ISA13 of the first reply interchange (default: the inbound ISA13).")] = None,
    at: Annotated[str | None, typer.Option(help="Timestamp of the reply envelopes, ISO 8601 (default: now, UTC).")] = None,
) -> None:
    """Acknowledge an X12 file: a 999 per functional group, a TA1 per interchange.

    Prints the acknowledgment and, on stderr, the accepted / rejected counts. Exits 0 when
    every set (and interchange) was accepted, 1 when one was rejected or accepted with errors.

    Example: medlake ack claims/837p_0001.x12 --kind both --out ./acks
    """
    from medlake.cli.main import _fail
    from medlake.errors import MedlakeError
    from medlake.formats.x12 import parse_x12

    when = _timestamp(at)
    parsed = parse_x12(file.read_bytes(), name=file.name)
    try:
        text, notes, clean = _acknowledge(parsed, kind, control_number, when)
    except MedlakeError as e:
        raise _fail(e) from None
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{file.stem}.{'ta1' if kind is AckKind.ta1 else '999'}.x12"
        target.write_text(text, encoding="utf-8")
        notes.append(f"wrote {target}")
    typer.echo("; ".join(notes), err=True)
    raise typer.Exit(0 if clean else 1)


def _acknowledge(parsed: X12File, kind: AckKind, control_number: int | None, when: datetime) -> tuple[str, list[str], bool]:
    """(the acknowledgment text, the summary's parts, whether everything was accepted)."""
    from medlake.errors import ParseError
    from medlake.formats.x12.ack import build_999, build_ta1, group_results, interchange_result

    texts: list[str] = []
    notes: list[str] = []
    clean = True
    if kind is not AckKind.ta1:
        texts.append(build_999(parsed, control_number=control_number, at=when, with_ta1=kind is AckKind.both))
        results = group_results(parsed)
        sets = [s.code for r in results for s in r.sets]
        left = sum(len(g.sets) for ic in parsed.interchanges for g in ic.groups) - len(sets)
        notes.append(f"999: {_n(len(results), 'group')}, {_n(len(sets), 'set')}: {_counts(sets)}")
        if left:
            notes.append(f"{_n(left, 'set')} without an ISA/GS envelope not acknowledged")
        clean = not left and all(c == "A" for c in sets) and all(r.code == "A" for r in results)
    if kind is not AckKind.ack_999:
        with_isa = [ic for ic in parsed.interchanges if ic.header is not None]
        if not with_isa:
            raise ParseError(
                f"`{parsed.name}` has no `ISA` interchange to acknowledge: a TA1 answers an ISA … IEA "
                "envelope (TA101 is its ISA13); acknowledge files that start with an ISA",
                file=parsed.name,
            )
        if kind is AckKind.ta1:
            first = control_number
            texts.extend(
                build_ta1(ic, parsed.problems, control_number=None if first is None else first + k, at=when)
                for k, ic in enumerate(with_isa)
            )
        verdicts = [interchange_result(ic, parsed.problems)[0] for ic in with_isa]
        notes.append(f"TA1: {_n(len(verdicts), 'interchange')}: {_counts(verdicts)}")
        clean = clean and all(v == "A" for v in verdicts)
    return "".join(texts), notes, clean


def _timestamp(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(at)
    except ValueError:
        raise typer.BadParameter(f"`{at}` is not an ISO 8601 timestamp; write e.g. 2024-03-16T07:00", param_hint="--at") from None


def _n(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _counts(codes: list[str]) -> str:
    a, e = codes.count("A"), codes.count("E")
    return f"{a:,} accepted, {e:,} accepted with errors, {len(codes) - a - e:,} rejected"

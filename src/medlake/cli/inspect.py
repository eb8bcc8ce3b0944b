"""`medlake inspect`: how medlake reads one file (registered in cli/main.py).

The format is recognised from the content: a file that starts (after a byte-order mark and
any blank lines) with `MSH`, `FHS` or `BHS` is HL7 v2; one that starts with `ISA` (or `GS` /
`ST`) is X12. FHIR is not inspected yet.

Exit codes: 0 the file was read without a problem; 1 it was read but had problems (they go
to stderr with their positions, the messages that could be read still go to stdout); 2 it
could not be inspected at all (no such file, or not a format `inspect` reads).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from medlake.formats.hl7v2 import Delimiters, Message

HL7_STARTS = (b"MSH", b"FHS", b"BHS")
X12_STARTS = (b"ISA", b"GS", b"ST")


class InspectFormat(StrEnum):
    text = "text"
    json = "json"


def inspect(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file to read.")],
    fmt: Annotated[InspectFormat, typer.Option("--format", "-f", help="text (a tree) or json.")] = InspectFormat.text,
) -> None:
    """Show how medlake reads one file: HL7 v2 messages, segments and fields, or X12
    interchanges, groups, transaction sets, loops and segments, and every problem with its
    position. Exit code 0: read cleanly; 1: read, with problems
    (on stderr); 2: not readable.

    Example: medlake inspect ./lab/oru_0001.hl7 --format json
    """
    from medlake.cli.main import _fail, console, err
    from medlake.errors import MedlakeError

    try:
        data = file.read_bytes()
        if _head(data).startswith(X12_STARTS):
            _inspect_x12(data, file.name, fmt)
        messages, problems = read_hl7(data, file.name)
    except MedlakeError as e:
        raise _fail(e) from None
    if fmt is InspectFormat.json:
        console.out(json.dumps([m.to_json() for m in messages], indent=2, ensure_ascii=False), highlight=False)
    else:
        for i, m in enumerate(messages):
            if i:
                console.out("", highlight=False)
            console.out("\n".join(message_tree(m)), highlight=False)
    for problem in problems:
        err.out(f"problem: {problem}", highlight=False)
    raise typer.Exit(1 if problems else 0)


def _head(data: bytes) -> bytes:
    from medlake.formats.encoding import detect_encoding

    codec, skip, _ = detect_encoding(data)
    return data[skip : skip + 256].decode(codec, errors="replace").lstrip().encode("ascii", errors="replace")


def _inspect_x12(data: bytes, name: str, fmt: InspectFormat) -> None:
    """Print an X12 file (JSON: `X12File.to_json()`; text: one line per loop and segment)."""
    from medlake.cli.main import console, err
    from medlake.formats.x12 import parse_x12

    parsed = parse_x12(data, name=name, errors="collect")
    if fmt is InspectFormat.json:
        console.out(json.dumps(parsed.to_json(), indent=2, ensure_ascii=False), highlight=False)
    else:
        console.out("\n".join(x12_tree(parsed)), highlight=False)
    for p in parsed.problems:
        err.out(f"problem: {name}: {p.position}: {p.message}", highlight=False)
    raise typer.Exit(1 if parsed.problems else 0)


def x12_tree(parsed: object) -> list[str]:
    """Interchanges, groups and sets as headers; each set's loops indented, with their segments."""
    from medlake.formats.x12 import Loop, X12File

    assert isinstance(parsed, X12File)
    lines: list[str] = []
    for ic in parsed.interchanges:
        lines.append(f"interchange {ic.control_number} {ic.sender_id} -> {ic.receiver_id} (ISA12 {ic.version}, ISA15 {ic.usage})")
        for g in ic.groups:
            lines.append(f"  group {g.control_number} {g.functional_id} {g.version}")
            for ts in g.sets:
                lines.append(f"    set {ts.control_number} {ts.family} ({len(ts)} segments)")

                def walk(loop: Loop, depth: int) -> None:
                    pad = "      " + "  " * depth
                    lines.append(f"{pad}loop {loop.id}")
                    for seg in loop.segments:
                        lines.append(f"{pad}  {seg.raw}")
                    for child in loop.children:
                        walk(child, depth + 1)

                walk(ts.loops, 0)
    return lines


def read_hl7(data: bytes, name: str) -> tuple[list[Message], list[str]]:
    """The messages of an HL7 v2 file and its problems as `file: position: message` lines."""
    from medlake.errors import ParseError
    from medlake.formats.encoding import detect_encoding
    from medlake.formats.hl7v2 import parse_hl7

    codec, skip, _ = detect_encoding(data)
    head = data[skip : skip + 256].decode(codec, errors="replace").lstrip().encode("ascii", errors="replace")
    if not head.startswith(HL7_STARTS):
        raise ParseError(
            f"`{name}` is not a format `medlake inspect` reads yet: it reads HL7 v2 files, which start "
            "with `MSH`, `FHS` or `BHS`, and X12 files, which start with `ISA`; FHIR files come in a later release",
            file=name,
        )
    parsed = parse_hl7(data, name=name, errors="collect")
    return parsed.messages, [f"{name}: {p.position}: {p.message}" for p in parsed.problems]


def message_tree(m: Message) -> list[str]:
    """A message as an indented tree: the header line, each segment, each field that has a
    value (`PID-5`), and under a field with separators its parts (`PID-5.1`, `PID-3(2).4.2`).
    Values are unescaped; the explicit null `""` is shown as `"" (null)`."""
    what = m.structure or "?"
    kind = f"{m.message_type}^{m.trigger}" if m.message_type else "no message type"
    lines = [
        f"message {m.index + 1} · {kind} ({what}) · control id {m.control_id or '-'} · "
        f"version {m.version or '-'} · line {m.line} · {m.terminator}"
    ]
    d = m.delimiters
    for i, seg in enumerate(m.segments):
        sid = seg[:3]
        lines.append(f"  {sid}")
        fields = m.fields(i)
        header = len(fields) > 1 and sid in ("MSH", "FHS", "BHS")
        for n, raw in enumerate(fields[1:], start=1):
            if not raw:
                continue
            label = f"{sid}-{n}"
            if header and n <= 2:
                lines.append(f"    {label}  {raw}")
                continue
            parts = _parts(raw, d)
            if len(parts) == 1 and parts[0][0] == "":
                lines.append(f"    {label}  {_show(parts[0][1], d)}")
                continue
            lines.append(f"    {label}  {raw}")
            lines += [f"      {label}{suffix}  {_show(value, d)}" for suffix, value in parts if value]
    return lines


def _parts(raw: str, d: Delimiters) -> list[tuple[str, str]]:
    """(path suffix, raw leaf) for every leaf of a field: `(2).4.1` is repetition 2,
    component 4, sub-component 1; levels with one part are left out of the suffix."""
    out: list[tuple[str, str]] = []
    reps = raw.split(d.repetition)
    for r, rep in enumerate(reps, start=1):
        comps = rep.split(d.component)
        for c, comp in enumerate(comps, start=1):
            subs = comp.split(d.subcomponent)
            for s, sub in enumerate(subs, start=1):
                suffix = (f"({r})" if len(reps) > 1 else "") + (f".{c}" if len(comps) > 1 or len(subs) > 1 else "")
                out.append((suffix + (f".{s}" if len(subs) > 1 else ""), sub))
    return out


def _show(value: str, d: Delimiters) -> str:
    from medlake.formats.hl7v2 import NULL, unescape

    if value == NULL:
        return '"" (null)'
    return unescape(value, d).replace("\r", "\\r").replace("\n", "\\n")

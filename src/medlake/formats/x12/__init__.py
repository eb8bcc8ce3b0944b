"""X12 005010 parsing: separators from the ISA, envelopes checked, loops built from tables.

    from medlake.formats.x12 import parse_x12

    f = parse_x12(data, name="claims.x12", errors="collect")   # bytes or str
    for ic in f.interchanges:                   # Interchange: ISA … IEA
        ic.control_number, ic.sender_id, ic.usage, ic.separators
        for group in ic.groups:                 # Group: GS … GE
            group.functional_id, group.control_number, group.version
            for ts in group.sets:               # TransactionSet: ST … SE
                ts.family                       # "837P", "835", "271", "277CA" …
                ts.text                         # the raw ST … SE text (for bronze)
                ts.envelope()                   # ISA/GS/ST facts for the same row
                for claim in ts.find_all("2300"):
                    claim.get("CLM01"), claim.get("CLM05-1")
                    for line in claim.find_all("2400"):
                        sv1 = line.segment("SV1")
                        sv1.component(1, 2), sv1.get(2)
    f.problems                                  # X12Problem: message + position + attributes
    f.to_x12() == text                          # the round trip
    f.to_json()                                 # for `medlake inspect`

**`parse_x12(data: bytes | str, *, name="<bytes>", errors="collect") -> X12File`**

- `X12File`: `.interchanges`, `.problems`, `.encoding` (`utf-8`, `utf-8-sig`, `utf-16-le` …),
  `.line_ending` (`none`/`LF`/`CRLF`/`CR`/`mixed`), `.transaction_sets()` (every set and TA1
  in order), `.to_x12()`, `.to_bytes()`, `.to_json()`.
- `Interchange`: `control_number` (ISA13), `sender_qualifier`/`sender_id` (ISA05/06),
  `receiver_qualifier`/`receiver_id` (ISA07/08), `date`, `time`, `version` (ISA12), `usage`
  (ISA15), `ack_requested` (ISA14), `separators` (`Separators(element, component,
  repetition, segment)`), `header`/`trailer` (ISA/IEA elements), `groups`, `acks` (TA1s),
  `transaction_sets`, `segments` (raw text) and `gaps` (what followed each), `text`.
- `Group`: `functional_id` (GS01), `sender`, `receiver`, `date`, `time`, `control_number`
  (GS06), `version` (GS08), `sets`.
- `TransactionSet`: `id` (ST01), `control_number` (ST02), `guide` (ST03, else GS08),
  `family`, `version` (`5010`/`4010`), `segments` (every segment's element list, split on
  first use), `raw_segments`, `segment(i)` (splits only that one), `segment_id(i)`, `text`
  (the exact ST … SE input, terminators and line breaks included: what bronze stores per
  set), `envelope()` (the ISA/GS/ST facts stored beside it), `loops` (root `Loop`, id `ST`),
  `tree` (the loops as arrays), `find(id)`, `find_all(id)`, `line`, `ordinal`, `trailer`
  (False when SE is missing). A TA1 is a set of one segment with id and family `TA1`.
- `Loop`: `id`, `start`/`end` (segment indices in the set), `children`, `parent`,
  `segments` (its own), `all_segments`, `trigger`, `segment(id, occurrence=1)`, `all(id)`,
  `get("CLM02" | "CLM05-1")`, `find(id)`, `find_all(id)`, `walk()`, `hl` (HL01–HL04).
- `Segment`: `id`, `elements` (`[0]` is the id), `element(n)` and `component(n, k,
  repetition=1)` (raw, "" when absent), `get(n, component=None, repetition=1)` (`None` when
  empty), `repetitions(n)`, `components(n)`, `value("CLM05-1")`, `raw`.

Separators come from the ISA by position (element at index 3, repetition ISA11, component
ISA16, terminator after it), or after the 16th element separator when a sender did not pad
the ISA. Line breaks and indentation after terminators are formatting: kept for the round
trip, reported as `line_ending`. A file may hold several interchanges. Guides are matched on
their prefix (`005010X222` → 837P whatever the errata suffix); 4010 files are read and
structured for inspection but reported as not mapped. Loops come from the tables in
`loops.py`; segments are split into elements only when read, and loops are index ranges, so
parsing makes no object per segment.

Problems name their place the way the envelope does, e.g. `interchange 000000905, group 1,
set 0001, segment 26 (file segment 29), SE01`, and carry each part as an attribute of
`X12Problem`; `errors="raise"` raises `ParseError` at the first one.
"""

from medlake.formats.x12.interchange import Group, Interchange
from medlake.formats.x12.loop import Loop
from medlake.formats.x12.loops import CLOSERS, LOOPS, LoopDef
from medlake.formats.x12.parse import X12File, parse_x12
from medlake.formats.x12.position import X12Problem
from medlake.formats.x12.segment import ElementRef, Segment, parse_ref
from medlake.formats.x12.separators import Separators
from medlake.formats.x12.transaction import TransactionSet

__all__ = [
    "CLOSERS",
    "LOOPS",
    "ElementRef",
    "Group",
    "Interchange",
    "Loop",
    "LoopDef",
    "Segment",
    "Separators",
    "TransactionSet",
    "X12File",
    "X12Problem",
    "parse_ref",
    "parse_x12",
]

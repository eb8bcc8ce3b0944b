"""Batch envelopes: `[FHS] {[BHS] {MSH…} [BTS]} [FTS]`, checked against their counts.

BTS-1 is the number of messages in its batch and FTS-1 the number of batches in the file. The
envelope segments declare their delimiters as MSH does (FHS-1, FHS-2); the trailers are read
with the delimiters of the header that opened them. Envelopes are optional: a file may also
just concatenate messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from medlake.errors import ErrorLevel
from medlake.formats.hl7v2.delimiters import DEFAULT, Delimiters, read_delimiters
from medlake.formats.problems import Problem, report

if TYPE_CHECKING:
    from medlake.formats.hl7v2.parse import Hl7File

ENVELOPE = ("FHS", "BHS", "BTS", "FTS")


@dataclass
class Batch:
    """A `BHS … BTS` envelope: how many messages it declared and how many it held."""

    index: int
    line: int
    declared: int | None = None
    messages: int = 0


def _count(seg: str, d: Delimiters) -> int | None:
    parts = seg.split(d.field)
    value = parts[1].split(d.component)[0].strip() if len(parts) > 1 else ""
    return int(value) if value.isdigit() else None


class Envelope:
    """The envelope segments of one file, as the parser meets them."""

    def __init__(self, out: Hl7File, name: str, errors: ErrorLevel) -> None:
        self.out, self.name, self.errors = out, name, errors
        self.file_delimiters: Delimiters | None = None
        self.batch_delimiters: Delimiters | None = None

    def _report(self, text: str, where: str, line: int | None, raw: str | None) -> None:
        report(Problem(text, where, line, None, raw), self.errors, self.out.problems, self.name)

    def _header(self, seg: str, sid: str, line: int) -> Delimiters:
        d, problem = read_delimiters(seg)
        if problem:
            self._report(problem, f"line {line:,} {sid}-2", line, seg[:80])
        return d

    def segment(self, seg: str, sid: str, line: int, batch: Batch | None) -> Batch | None:
        """Take one envelope segment; returns the batch open after it."""
        out = self.out
        if sid == "FHS":
            out.file_header = True
            self.file_delimiters = self._header(seg, sid, line)
            return batch
        if sid == "BHS":
            if batch is not None:
                self._unclosed(batch)
            self.batch_delimiters = self._header(seg, sid, line)
            b = Batch(len(out.batches), line)
            out.batches.append(b)
            return b
        if sid == "BTS":
            if batch is None:
                self._report("`BTS` without a `BHS` before it", f"line {line:,} (BTS)", line, seg)
                return None
            batch.declared = _count(seg, self.batch_delimiters or DEFAULT)
            if batch.declared is not None and batch.declared != batch.messages:
                text = f"batch {batch.index + 1} declares {batch.declared} messages (BTS-1) but holds {batch.messages}"
                self._report(text, f"line {line:,} BTS-1", line, seg)
            return None
        if batch is not None:  # FTS with a batch still open
            self._unclosed(batch)
        out.declared_batches = _count(seg, self.file_delimiters or DEFAULT)
        if out.declared_batches is not None and out.declared_batches != len(out.batches):
            text = f"the file declares {out.declared_batches} batches (FTS-1) but holds {len(out.batches)}"
            self._report(text, f"line {line:,} FTS-1", line, seg)
        return None

    def _unclosed(self, batch: Batch) -> None:
        n = batch.messages
        text = f"batch {batch.index + 1} has no `BTS` trailer: the file may be cut short ({n} message{'s' if n != 1 else ''} seen)"
        self._report(text, f"line {batch.line:,} (BHS)", batch.line, None)

    def end(self, batch: Batch | None) -> None:
        """The end of the file: a batch or file header left open is reported."""
        if batch is not None:
            self._unclosed(batch)
        if self.out.file_header and self.out.declared_batches is None:
            self._report("the file has an `FHS` header but no `FTS` trailer: it may be cut short", "end of file", None, None)

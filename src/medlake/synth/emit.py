"""The emitter protocol: one per source system, turning histories into that system's files.

An emitter is built as `SomeEmitter(out, seed)` where `out` is the generator's OUT folder; it
writes only under `out / emitter.source`. `generate` calls `emit` once per person (in person
order, with a `random.Random` private to that person and emitter) and `close` once at the end.
Emitters stream to disk: they may keep open file handles and counters, never the population.

Every record that identifies a patient is reported with `truth.patient_record(...)` (or
`truth.record(...)`), every injected defect with `truth.defect(...)`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from medlake.synth.model import PersonHistory
from medlake.synth.truth import TruthWriter


class Emitter(Protocol):
    source: str  # source folder name, e.g. "lab"

    def emit(self, history: PersonHistory, rng: random.Random, truth: TruthWriter) -> None: ...

    def close(self, truth: TruthWriter) -> None: ...


EmitterFactory = Callable[[Path, int], Emitter]
"""`factory(out, seed)` → an emitter writing under `out / emitter.source`."""


class RowFile:
    """A delimited text file written row by row (header first), counting its rows.

    `delimiter` may be several characters (`^|^`). Values are joined as they are: callers keep
    delimiters out of values, or pass `quote='"'` to quote values that contain the delimiter,
    a quote or a line break (RFC 4180 style).
    """

    def __init__(
        self,
        path: Path,
        header: tuple[str, ...],
        *,
        delimiter: str = ",",
        quote: str | None = '"',
        encoding: str = "utf-8",
        newline: str = "\n",
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.header = header
        self.delimiter = delimiter
        self.quote = quote
        self.newline = newline
        self._f: IO[str] = path.open("w", encoding=encoding, newline="")
        self.rows = 0  # data rows written
        self.line = 1  # 1-based line number of the last line written (the header is line 1)
        self._f.write(self._join(list(header)) + newline)

    def _cell(self, v: str) -> str:
        q = self.quote
        if q and (self.delimiter in v or q in v or "\n" in v or "\r" in v):
            return q + v.replace(q, q + q) + q
        return v

    def _join(self, values: list[str]) -> str:
        return self.delimiter.join(self._cell(v) for v in values)

    def write(self, values: list[str]) -> int:
        """Write one row; returns its 1-based line number in the file."""
        self._f.write(self._join(values) + self.newline)
        self.rows += 1
        self.line += 1
        return self.line

    def write_raw(self, text: str) -> None:
        """Write text as is (for injected defects); counts a row per line break written."""
        self._f.write(text)
        n = text.count(self.newline)
        self.rows += n
        self.line += n

    def close(self) -> None:
        self._f.close()


def num(v: float | str) -> str:
    """A result value as systems print it: `7` not `7.0`, `6.85` as is."""
    if isinstance(v, str):
        return v
    return str(int(v)) if v == int(v) else f"{v:g}"


def icd10_dotted(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def icd9_dotted(code: str) -> str:
    if code.startswith("E"):
        return code if len(code) <= 4 else f"{code[:4]}.{code[4:]}"
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"

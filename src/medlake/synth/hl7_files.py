"""Rotating HL7 v2 files and the segments that lab and ADT messages share (PID, PV1, XCN).

`Hl7FileStream` writes whole messages into `<folder>/<prefix>_0001.hl7`, `_0002` … (later
files sort later) and applies file-level defects (a UTF-8 BOM, `\n` segment terminators) to
a chosen file when it is finished, so the defect exists even in a tiny population.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from medlake.synth.hl7_build import Encoded, comp, hl7_date, hl7_ts, segment
from medlake.synth.model import Encounter, Practitioner, Registration
from medlake.synth.truth import TruthWriter

BOM = "\ufeff"

CLASS_CODES = {"IMP": "I", "EMER": "E", "AMB": "O", "OBSENC": "O", "VR": "O"}
"""Encounter class → PV1-2 patient class (HL7 table 0004)."""


@dataclass(slots=True)
class FileDefect:
    """A defect applied to one file of a stream: the `target`-th, or the last if fewer."""

    name: str  # defect name in truth/defects.csv: "bom", "lf_terminators"
    target: int
    detail: str
    applied: bool = False


@dataclass(slots=True)
class Hl7FileStream:
    """Messages written one by one into numbered files of at most `per_file` messages."""

    folder: Path
    prefix: str
    source: str
    per_file: int = 500
    defects: list[FileDefect] = field(default_factory=list)
    on_rotate: Callable[[], None] | None = None  # called after a file is finished
    files: int = 0
    messages: int = 0
    _in_file: int = 0
    _f: IO[str] | None = None
    _path: Path | None = None

    def path(self) -> Path:
        """The file the next message goes to (opening it if needed)."""
        if self._f is None or self._path is None:
            self.files += 1
            self.folder.mkdir(parents=True, exist_ok=True)
            self._path = self.folder / f"{self.prefix}_{self.files:04d}.hl7"
            self._f = self._path.open("w", encoding="utf-8", newline="")
            self._in_file = 0
        return self._path

    def write(self, text: str, truth: TruthWriter) -> None:
        """Write one whole message; rotates after `per_file` messages."""
        self.path()
        assert self._f is not None
        self._f.write(text)
        self._in_file += 1
        self.messages += 1
        if self._in_file >= self.per_file:
            self.finish(truth, last=False)

    def finish(self, truth: TruthWriter, *, last: bool) -> None:
        """Close the current file, applying any defect due on it."""
        if self._f is None or self._path is None:
            return
        self._f.close()
        path, self._f, self._path = self._path, None, None
        for d in self.defects:
            if not d.applied and (self.files >= d.target or last):
                _apply(d, path)
                d.applied = True
                truth.defect(d.name, self.source, truth.rel(path), _location(d.name), d.detail)
        if self.on_rotate is not None and not last:
            self.on_rotate()

    def close(self, truth: TruthWriter) -> None:
        self.finish(truth, last=True)


def _apply(d: FileDefect, path: Path) -> None:
    text = path.read_bytes().decode("utf-8")  # read_text would turn CR into LF
    if d.name == "bom":
        text = BOM + text
    elif d.name == "lf_terminators":
        text = text.replace("\r", "\n")  # data never holds a CR: escape() writes \X0D\
    else:
        raise ValueError(f"unknown file defect `{d.name}`; known: bom, lf_terminators")
    path.write_text(text, encoding="utf-8", newline="")


def _location(name: str) -> str:
    return "offset 0" if name == "bom" else "file"


# -- shared segments ------------------------------------------------------------------------
def local_ts(when: datetime, tz: str, *, offset: bool) -> str:
    """A naive local `when` as DTM, with the zone's UTC offset when `offset`."""
    if offset:
        return hl7_ts(when.replace(tzinfo=ZoneInfo(tz)), offset=True)
    return hl7_ts(when)


def xcn(p: Practitioner) -> Encoded:
    """A practitioner as XCN: NPI^family^given^^^^^^NPI authority^^^^NPI."""
    return comp(p.npi, p.family, p.given, None, None, None, None, None, "NPI", None, None, None, "NPI")


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    city: str
    state: str
    zip: str


def reg_address(reg: Registration) -> Address:
    return Address(reg.address_line, reg.city, reg.state, reg.zip)


def pid(
    reg: Registration,
    *,
    assigner: str,
    id_type: str = "MR",
    address: Address | None = None,
    with_ssn: bool = False,
    mrn: str | None = None,
    account: str | None = None,
) -> str:
    """PID from a registration: PID-3 id, PID-5 name, PID-7 DOB, PID-8 sex, 11 address, 13 phone."""
    a = address or reg_address(reg)
    dob = hl7_date(reg.birth_date) if reg.birth_date else None
    return segment(
        "PID",
        "1",
        None,
        comp(mrn or reg.mrn, None, None, assigner, id_type),  # PID-3
        None,
        comp(reg.family, reg.given, reg.middle or None),  # PID-5
        None,
        dob,  # PID-7
        reg.sex,  # PID-8
        None,
        None,
        comp(a.line, None, a.city, a.state, a.zip, "USA"),  # PID-11
        None,
        comp(None, "PRN", "PH", None, None, None, None, None, None, None, None, reg.phone)
        if reg.phone
        else None,  # PID-13
        None,
        None,
        None,
        None,
        account,  # PID-18 patient account number
        reg.ssn if with_ssn and reg.ssn else None,  # PID-19
    )


def pv1(
    enc: Encounter,
    *,
    admit: datetime | None = None,
    discharge: datetime | None = None,
    disposition: str | None = None,
) -> str:
    """PV1: class (2), location (3), attending (7), admit source (14), visit (19), 36, 44, 45."""
    location = comp(*enc.location.split("^")) if enc.location else None
    return segment(
        "PV1",
        "1",
        CLASS_CODES.get(enc.enc_class, "O"),  # PV1-2
        location,  # PV1-3
        "E" if enc.enc_class == "EMER" else ("R" if enc.enc_class == "IMP" else None),  # PV1-4
        None,
        None,
        xcn(enc.attending),  # PV1-7
        None,
        None,
        None,
        None,
        None,
        "R" if enc.readmission_of else None,  # PV1-13 readmission indicator
        enc.admit_source or None,  # PV1-14
        None,
        None,
        None,
        None,
        enc.encounter_id,  # PV1-19 visit number
        *([None] * 16),  # PV1-20 … PV1-35
        disposition,  # PV1-36
        *([None] * 7),  # PV1-37 … PV1-43
        Encoded(hl7_ts(admit)) if admit else None,  # PV1-44
        Encoded(hl7_ts(discharge)) if discharge else None,  # PV1-45
    )


def day_time(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)

"""Tiny test-only readers for HL7 v2 and X12 text: an independent check of the emitters.

They know only what the standards say (ER7 delimiters and escapes; X12 ISA positions), not
how `medlake.synth` builds its text, so a round trip through them is a real check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

BOM = b"\xef\xbb\xbf"
_ESC = re.compile(r"\\([FSTRE]|X[0-9A-Fa-f]+)\\")


def unescape(text: str) -> str:
    """Undo ER7 escapes (with the standard delimiters)."""
    table = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\"}

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] == "X":
            return bytes.fromhex(code[1:]).decode("latin-1")
        return table[code]

    return _ESC.sub(one, text)


@dataclass
class Hl7File:
    bom: bool
    terminator: str  # "\r" or "\n"
    messages: list[list[list[str]]]  # message → segment → fields (field 0 = segment id)


def read_hl7(path: Path) -> Hl7File:
    raw = path.read_bytes()
    bom = raw.startswith(BOM)
    text = raw[len(BOM) :].decode("utf-8") if bom else raw.decode("utf-8")
    terminator = "\r" if "\r" in text else "\n"
    messages: list[list[list[str]]] = []
    for seg in text.split(terminator):
        if not seg:
            continue
        fields = seg.split("|")
        if fields[0] == "MSH":
            fields = ["MSH", "|", *fields[1:]]  # MSH-1 is the separator itself
            messages.append([])
        messages[-1].append(fields)
    return Hl7File(bom, terminator, messages)


def f(seg: list[str], n: int) -> str:
    """Field `n` of a segment as the spec numbers it (`PID-3` → f(pid, 3))."""
    return seg[n] if n < len(seg) else ""


def segs(msg: list[list[str]], name: str) -> list[list[str]]:
    return [s for s in msg if s[0] == name]


@dataclass
class X12File:
    element: str
    component: str
    repetition: str
    terminator: str
    isa: str
    segments: list[list[str]]


def read_x12(path: Path) -> X12File:
    text = path.read_bytes().decode("utf-8")
    isa = text[:106]
    element, repetition, component, terminator = isa[3], isa[82], isa[104], isa[105]
    segments = [s.strip("\r\n").split(element) for s in text.split(terminator)]
    return X12File(element, component, repetition, terminator, isa, [s for s in segments if s != [""]])


def money(text: str) -> int:
    """An X12 amount in cents (exact)."""
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    cents = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -cents if neg else cents

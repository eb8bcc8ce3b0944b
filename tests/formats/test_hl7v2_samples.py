"""Every sample in ../shared/data/hl7v2-samples (255 files from six public projects) against
what its INDEX.tsv says: parsed at the default error level without an exception, the same
message count and line ending, MSH-9 as listed, and every message round-tripping exactly.

INDEX.tsv lists MSH-9 with the standard component separator (`ADT^A24` for a file whose own
separator is `~`), one entry per distinct type with `xN` for N messages, `?` when unknown.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from medlake.formats.hl7v2 import Message, parse_hl7
from shared_data import SHARED, shared_path

pytestmark = pytest.mark.shared

SAMPLES = Path("data") / "hl7v2-samples"


def _index() -> list[dict[str, str]]:
    path = SHARED / SAMPLES / "INDEX.tsv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


INDEX = _index()


def listed_types(column: str) -> Counter[str]:
    """`ADT^A01x49;ADT^A04x9` → {ADT^A01: 49, ADT^A04: 9}; `SIU^S12` → {SIU^S12: 1}."""
    out: Counter[str] = Counter()
    for entry in column.split(";"):
        head, sep, n = entry.rpartition("x")
        if sep and n.isdigit() and head:
            out[head] += int(n)
        else:
            out[entry] += 1
    return out


def msh9(m: Message) -> str:
    """MSH-9 with its components joined by `^`, whatever the message's own separator."""
    seg = m.segment("MSH")
    assert seg is not None
    return "^".join(c or "" for c in seg.components(9))


@pytest.mark.parametrize("row", INDEX, ids=[r["file"] for r in INDEX])
def test_sample_matches_its_index_entry(row: dict[str, str]) -> None:
    data = shared_path(str(SAMPLES), row["file"]).read_bytes()
    parsed = parse_hl7(data, name=row["file"])  # the default level: problems are collected
    assert len(parsed.messages) == int(row["messages"])
    assert parsed.line_ending == row["line_ending"]
    if row["message_types(MSH-9)"] != "?":
        assert Counter(msh9(m) for m in parsed.messages) == listed_types(row["message_types(MSH-9)"])
    text = data.decode(parsed.encoding, errors="replace").lstrip("\ufeff")
    pos = 0
    for m in parsed.messages:
        assert m.text == m.encode()
        pos = text.index(m.text, pos)  # each message is a slice of the input, in order
        pos += len(m.text)


def test_the_index_lists_every_sample() -> None:
    root = shared_path(str(SAMPLES))
    assert len(INDEX) == 255
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"INDEX.tsv", "SOURCE.md"}
    listed = {r["file"] for r in INDEX}
    assert listed <= on_disk
    assert {p for p in on_disk - listed if "LICENSE" not in p} == set()

"""Every public X12 sample in ../shared/data/x12-samples parses, counted against its INDEX.

INDEX.tsv was written by an independent scan of the files (ST01 + guide per set, CLM+CLP
count, separators, BOM/UTF-16, missing envelope). Each file must parse (none needs to be
rejected: the UTF-16, BOM, unpadded-ISA and no-envelope files all read), hold the number of
transaction sets and CLM+CLP segments the INDEX says, and turn back into its exact bytes.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pytest

from medlake.formats.x12 import X12File, parse_x12
from shared_data import SHARED, shared_path

pytestmark = pytest.mark.shared

SAMPLES = ("data", "x12-samples")


@cache
def index() -> list[dict[str, str]]:
    with shared_path(*SAMPLES, "INDEX.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _files() -> list[str]:
    path = SHARED.joinpath(*SAMPLES, "INDEX.tsv")
    if not path.exists():
        return ["(../shared absent)"]
    with path.open(newline="") as fh:
        return [row["file"] for row in csv.DictReader(fh, delimiter="\t")]


@cache
def parsed(name: str) -> tuple[bytes, X12File]:
    data = shared_path(*SAMPLES, name).read_bytes()
    return data, parse_x12(data, name=name)


def _row(name: str) -> dict[str, str]:
    return next(r for r in index() if r["file"] == name)


def test_index_lists_every_sample() -> None:
    root = shared_path(*SAMPLES)
    on_disk = {
        str(p.relative_to(root)) for p in Path(root).rglob("*")
        if p.is_file() and p.name not in ("INDEX.tsv", "SOURCE.md", "LICENSE.upstream.txt")
    }
    assert on_disk == {r["file"] for r in index()}


@pytest.mark.parametrize("name", _files())
def test_sample_counts_and_round_trip(name: str) -> None:
    row = _row(name)
    data, f = parsed(name)
    sets = list(f.transaction_sets())
    assert len(sets) == int(row["transaction_sets_count"])
    claims = sum(
        1
        for t in sets
        for s in t.segments
        if s[0] in ("CLM", "CLP")
    )
    assert claims == int(row["CLM+CLP_count"])
    assert f.to_bytes() == data
    assert f.interchanges, "a sample must parse into at least one interchange"


def _features(name: str) -> set[str]:
    return set(_row(name)["features"].split(","))


def test_byte_order_marks_and_utf16_are_detected() -> None:
    for row in index():
        _, f = parsed(row["file"])
        feats = _features(row["file"])
        if "UTF-16" in feats:
            assert f.encoding.startswith("utf-16"), row["file"]
        elif "BOM" in feats:
            assert f.encoding == "utf-8-sig", row["file"]
        else:
            assert f.encoding == "utf-8", row["file"]


def test_envelope_free_and_unpadded_files_say_so() -> None:
    for row in index():
        _, f = parsed(row["file"])
        messages = " ".join(p.message for p in f.problems)
        if "no-ISA-envelope" in _features(row["file"]):
            assert "no ISA interchange header" in messages, row["file"]
            assert f.interchanges[0].header is None
        if "ISA-not-fixed-width" in _features(row["file"]):
            assert "the ISA is not fixed width" in messages, row["file"]


def test_families_match_the_index() -> None:
    """The INDEX names each set `<ST01 or 837 variant> <guide>`; 277 sets under X214 are 277CA."""
    for row in index():
        _, f = parsed(row["file"])
        expected = row["transaction_sets(ST01 + ST03/GS08)"].split(" ")[0]
        for t in f.transaction_sets():
            want = "277CA" if (t.guide or "").startswith("005010X214") else expected
            if expected == "TA1":
                want = "TA1"
            if expected == "837" and t.guide and t.guide.startswith("005010X222"):
                want = "837P"  # the INDEX could not tell the variant of a file without lines
            assert t.family == want, (row["file"], t.family, want)


def test_4010_files_are_reported_as_not_mapped() -> None:
    seen = 0
    for row in index():
        _, f = parsed(row["file"])
        guide = row["transaction_sets(ST01 + ST03/GS08)"].split(" ")[-1]
        if guide.startswith("00401"):
            seen += 1
            assert any("is X12 4010" in p.message for p in f.problems), row["file"]
            assert all(t.version == "4010" for t in f.transaction_sets()), row["file"]
    assert seen >= 40


def test_claim_loops_hold_every_claim() -> None:
    """Every CLM opens a 2300 loop and every CLP a 2100 loop in the 5010 claim files."""
    for row in index():
        _, f = parsed(row["file"])
        for t in f.transaction_sets():
            if t.family in ("837P", "837I", "837D"):
                assert len(t.find_all("2300")) == sum(1 for s in t.segments if s[0] == "CLM"), row["file"]
            if t.family == "835":
                assert len(t.find_all("2100")) == sum(1 for s in t.segments if s[0] == "CLP"), row["file"]

"""The lab and ADT feeds as a receiver sees them, read back with the test-only reader."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from hl7x12_readers import f, read_hl7, segs, unescape

from medlake.synth.emit_hl7 import LOINC_ALT_PERCENT, _code

LAB_SHAPES = {"ORM^O01^ORM_O01": ["MSH", "PID", "PV1", "ORC", "OBR"], "ORU^R01^ORU_R01": ["MSH", "PID", "ORC", "OBR"]}


def _files(out: Path, source: str) -> list[Path]:
    return sorted((out / source).glob("*.hl7"))


def test_lab_messages_have_the_declared_type_and_segments(out: Path) -> None:
    types: Counter[str] = Counter()
    for path in _files(out, "lab"):
        for msg in read_hl7(path).messages:
            mtype = f(msg[0], 9)
            types[mtype] += 1
            shape = [s[0] for s in msg]
            assert shape[: len(LAB_SHAPES[mtype])] == LAB_SHAPES[mtype], (path.name, shape)
            assert f(msg[0], 12) == "2.5.1"
            if mtype.startswith("ORU"):
                obx = segs(msg, "OBX")
                assert obx and shape[4:] == ["OBX"] * len(obx)
                assert [f(o, 1) for o in obx] == [str(i) for i in range(1, len(obx) + 1)]
                for o in obx:
                    code = f(o, 3).split("^")
                    assert code[2] == "L" and code[0]  # the lab's local code first
                    assert len(code) in (3, 6) and (len(code) == 3 or code[5] == "LN")
                    if f(o, 2) == "NM":
                        float(f(o, 5))
                        assert f(o, 6) and "-" in f(o, 7)
    assert types["ORM^O01^ORM_O01"] == 60 and types["ORU^R01^ORU_R01"] == 60 + 20  # 20 corrections


def test_text_results_are_escaped_and_come_back(out: Path) -> None:
    texts = {
        unescape(f(o, 5))
        for path in _files(out, "lab")
        for msg in read_hl7(path).messages
        for o in segs(msg, "OBX")
        if f(o, 2) == "ST"
    }
    assert texts == {"Hemolyzed sample | redrawn ^ ok"}


def test_corrections_come_in_a_later_file_with_status_c(out: Path) -> None:
    final: dict[str, str] = {}
    corrected: dict[str, str] = {}
    for path in _files(out, "lab"):
        for msg in read_hl7(path).messages:
            for obr in segs(msg, "OBR"):
                status = {f(o, 11) for o in segs(msg, "OBX")}
                if f(obr, 25) == "F":
                    assert status == {"F"}
                    final[f(obr, 3)] = path.name
                elif f(obr, 25) == "C":
                    assert status == {"C"}
                    corrected[f(obr, 3)] = path.name
    assert len(corrected) == 20  # persons 0, 3, … 57 have a corrected glucose
    for filler, name in corrected.items():
        assert name.startswith("oru_") and name > final[filler]


def test_most_but_not_all_local_codes_carry_their_loinc() -> None:
    codes = [f"T{i}" for i in range(2000)]
    with_loinc = sum(1 for c in codes if len(_code(c, c, "1234-5", "x").split("^")) == 6)
    assert abs(with_loinc / len(codes) * 100 - LOINC_ALT_PERCENT) < 5
    assert _code("", "", "1234-5", "x") == "1234-5^x^LN"


def test_adt_message_types(out: Path) -> None:
    types: Counter[str] = Counter()
    for path in _files(out, "adt"):
        for msg in read_hl7(path).messages:
            types[f(msg[0], 9).split("^")[0] + "^" + f(msg[0], 9).split("^")[1]] += 1
            assert f(msg[0], 12) == "2.5" and len(f(msg[0], 7)) == 14  # local time, no offset
    assert set(types) == {"ADT^A01", "ADT^A03", "ADT^A04", "ADT^A08", "ADT^A40", "SIU^S12", "DFT^P03"}
    assert types["ADT^A01"] == 30 and types["ADT^A03"] == 60  # even: a stay (via the ED); odd: an ED visit
    assert types["SIU^S12"] == 60 and types["ADT^A04"] == 60 + 30  # office visits are booked; ED arrivals
    assert types["ADT^A08"] == 30  # odd persons moved


def test_control_ids_are_unique(out: Path) -> None:
    ids = [f(m[0], 10) for src in ("lab", "adt") for p in _files(out, src) for m in read_hl7(p).messages]
    assert len(ids) == len(set(ids))


def test_discharges_carry_disposition_and_attending_npi(out: Path) -> None:
    for path in _files(out, "adt"):
        for msg in read_hl7(path).messages:
            if f(msg[0], 9).startswith("ADT^A03"):
                pv1 = segs(msg, "PV1")[0]
                assert f(pv1, 2) in ("I", "E") and f(pv1, 36) == "01"
                assert f(pv1, 7).split("^")[0] == "1245319599" and f(pv1, 7).split("^")[-1] == "NPI"
                assert f(pv1, 44) < f(pv1, 45)


def test_charges_send_code_numbers_only(out: Path) -> None:
    ft1s = [s for p in _files(out, "adt") for m in read_hl7(p).messages for s in segs(m, "FT1")]
    assert ft1s
    for ft1 in ft1s:
        code = f(ft1, 25).split("^")
        assert re.fullmatch(r"[A-Z0-9]{5}", code[0]) and code[1] == "" and code[2] in ("C4", "HCPCS"), ft1
        assert f(ft1, 8) == "" and f(ft1, 6) == "CG"


def test_every_duplicate_registration_is_merged_and_recorded(out: Path, defects: list[dict[str, str]]) -> None:
    merges = {}
    mrns_seen: set[str] = set()
    for path in _files(out, "adt"):
        for msg in read_hl7(path).messages:
            pid3 = f(segs(msg, "PID")[0], 3).split("^")[0]
            if f(msg[0], 9).startswith("ADT^A40"):
                retired = f(segs(msg, "MRG")[0], 1).split("^")[0]
                assert retired in mrns_seen and retired != pid3
                merges[f(msg[0], 10)] = (f"adt/{path.name}", retired, pid3)
            mrns_seen.add(pid3)
    recorded = {d["location"].removeprefix("MSH-10 "): d for d in defects if d["defect"] == "duplicate_registration"}
    assert merges and set(merges) == set(recorded)
    for ctrl, (file, retired, kept) in merges.items():
        assert recorded[ctrl]["file"] == file and f"as {kept} and {retired}" in recorded[ctrl]["detail"]


def test_file_defects_are_where_truth_says(out: Path, defects: list[dict[str, str]]) -> None:
    boms, lfs = set(), set()
    for src in ("lab", "adt"):
        for path in _files(out, src):
            h = read_hl7(path)
            if h.bom:
                boms.add(f"{src}/{path.name}")
            if h.terminator == "\n":
                lfs.add(f"{src}/{path.name}")
            assert h.messages and all(m[0][0] == "MSH" for m in h.messages)
    assert boms == {d["file"] for d in defects if d["defect"] == "bom"} and len(boms) == 2
    assert lfs == {d["file"] for d in defects if d["defect"] == "lf_terminators"} and len(lfs) == 1
    assert {b.split("/")[0] for b in boms} == {"lab", "adt"}


def test_truth_names_the_person_behind_every_message(out: Path, records: list[dict[str, str]]) -> None:
    truth = {(r["file"], r["record_key"]): r for r in records if r["source"] in ("lab", "adt")}
    seen = 0
    for src in ("lab", "adt"):
        for path in _files(out, src):
            for msg in read_hl7(path).messages:
                rec = truth[(f"{src}/{path.name}", f(msg[0], 10))]
                assert rec["kind"] == "^".join(f(msg[0], 9).split("^")[:2])
                family = f(segs(msg, "PID")[0], 5).split("^")[0]
                assert family == f"Smith-{int(rec['person_id'][1:])}"
                seen += 1
    assert seen == len(truth)

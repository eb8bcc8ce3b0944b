"""Acknowledgments (999 and TA1) built from parsed X12 files: whole replies asserted.

Inputs are the hand-written golden 837P (golden/x12/837p_claim_cob.x12, invented data; see
golden/x12/SOURCE.md) with one defect edited in per case, the synthetic generator's claims
file with its injected `x12_se_count` defect, and every public sample in ../shared. The
expected replies were worked out from the 005010X231A1 layout (AK1, AK2, IK3/IK4, IK5, AK9)
and the TA1 note codes, and checked by hand (segment positions counted in the input).
Every reply must itself parse with no problem and hold only 999s / TA1s.
"""

from __future__ import annotations

import csv
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from medlake.errors import ParseError
from medlake.formats.x12 import parse_x12
from medlake.formats.x12.ack import build_999, build_ta1, group_results, interchange_result
from shared_data import SHARED, shared_path

GOLDEN = Path(__file__).parent / "golden" / "x12"
AT = datetime(2024, 3, 16, 7, 0)

ISA = "ISA*00*          *00*          *ZZ*RECEIVER01     *ZZ*SUBMITTER01    *240316*0700*^*00501*000000101*0*T*:~\n"
GS = "GS*FA*RECEIVER01*SUBMITTER01*20240316*0700*1*X*005010X231A1~\n"
TAIL = "GE*1*1~\nIEA*1*000000101~\n"


@cache
def clean() -> str:
    return (GOLDEN / "837p_claim_cob.x12").read_text(encoding="utf-8")


def edited(*pairs: tuple[str, str]) -> str:
    text = clean()
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def two_sets() -> str:
    """The golden interchange with its set twice (ST02 0001 and 0002) in one group."""
    head, rest = clean().split("ST*837*0001", 1)
    body = "ST*837*0001" + rest.split("GE*", 1)[0]
    second = body.replace("ST*837*0001", "ST*837*0002").replace("SE*33*0001", "SE*33*0002")
    return head + body + second + "GE*2*101~\nIEA*1*000000101~\n"


def reply(text: str, *, control_number: int | None = None, with_ta1: bool = False) -> str:
    out = build_999(parse_x12(text, name="in.x12"), at=AT, control_number=control_number, with_ta1=with_ta1)
    assert_is_ack(out)
    return out


def assert_is_ack(text: str) -> None:
    parsed = parse_x12(text, name="ack.x12")
    assert parsed.problems == []
    families = [t.family for t in parsed.transaction_sets()]
    assert families and set(families) <= {"999", "TA1"}


def set_999(*body: str, count: int) -> str:
    return ISA + GS + "ST*999*0001*005010X231A1~\nAK1*HC*101*005010X222A1~\n" + "".join(b + "~\n" for b in body) + f"SE*{count}*0001~\n" + TAIL


# --------------------------------------------------------------------------------------- 999


def test_clean_837p_is_accepted() -> None:
    assert reply(clean()) == set_999("AK2*837*0001*005010X222A1", "IK5*A", "AK9*A*1*1*1", count=6)


def test_wrong_se01_rejects_the_set_with_ik502_4() -> None:
    text = edited(("SE*33*0001", "SE*34*0001"))
    assert reply(text) == set_999("AK2*837*0001*005010X222A1", "IK5*R*4", "AK9*R*1*1*0", count=6)


def test_se01_that_is_no_number_is_also_an_element_error() -> None:
    text = edited(("SE*33*0001", "SE*3A*0001"))
    assert reply(text) == set_999(
        "AK2*837*0001*005010X222A1", "IK3*SE*33**8", "IK4*1*96*6*3A", "IK5*R*4", "AK9*R*1*1*0", count=8
    )


def test_one_set_of_two_rejected_is_a_partial_group() -> None:
    text = two_sets().replace("SE*33*0002", "SE*31*0002")
    assert reply(text) == set_999(
        "AK2*837*0001*005010X222A1", "IK5*A",
        "AK2*837*0002*005010X222A1", "IK5*R*4",
        "AK9*P*2*2*1", count=8,
    )  # fmt: skip


def test_se02_not_st02_rejects_with_ik502_3() -> None:
    text = edited(("SE*33*0001", "SE*33*0009"))
    assert reply(text) == set_999("AK2*837*0001*005010X222A1", "IK5*R*3", "AK9*R*1*1*0", count=6)


def test_missing_se_rejects_with_ik502_2() -> None:
    text = edited(("SE*33*0001~\n", ""))
    assert reply(text) == set_999("AK2*837*0001*005010X222A1", "IK5*R*2", "AK9*R*1*1*0", count=6)


def test_bad_hl02_is_an_element_error_in_its_segment() -> None:
    # HL*3 (segment 15, loop 2000C) names parent 7, which does not exist; HL*2 (segment 11)
    # then says it has children that never come (HL04)
    text = edited(("HL*3*2*23*0", "HL*3*7*23*0"))
    assert reply(text) == set_999(
        "AK2*837*0001*005010X222A1",
        "IK3*HL*11*2000B*8", "IK4*4*736*I12*1",
        "IK3*HL*15*2000C*8", "IK4*2*734*I12*7",
        "IK5*R*I5", "AK9*R*1*1*0", count=10,
    )  # fmt: skip


def test_hl04_alone_is_accepted_with_errors() -> None:
    text = edited(("HL*3*2*23*0", "HL*3*2*23*1"))
    assert reply(text) == set_999(
        "AK2*837*0001*005010X222A1", "IK3*HL*15*2000C*8", "IK4*4*736*I12*1", "IK5*E*I5", "AK9*E*1*1*1", count=8
    )


def test_ge02_mismatch_rejects_the_group() -> None:
    text = edited(("GE*1*101", "GE*1*102"))
    assert reply(text) == set_999("AK2*837*0001*005010X222A1", "IK5*A", "AK9*R*1*1*0*4", count=6)


def test_ge01_mismatch_keeps_the_count_as_sent() -> None:
    text = edited(("GE*1*101", "GE*3*101"))
    assert reply(text) == set_999("AK2*837*0001*005010X222A1", "IK5*A", "AK9*R*3*1*0*5", count=6)


def test_control_number_and_ta1_inside() -> None:
    out = reply(clean(), control_number=42, with_ta1=True)
    assert out.splitlines()[:3] == [
        ISA.strip().replace("000000101", "000000042"),
        "TA1*000000101*240315*0930*A*000~",
        GS.strip(),
    ]
    assert out.endswith("IEA*1*000000042~\n")


def test_inbound_separators_are_used() -> None:
    text = clean().replace("*", "|").replace("~", "\\").replace("|:\\", "|>\\").replace("HC:", "HC>").replace("ABK:", "ABK>").replace(":B:", ">B>")
    out = reply(text)
    assert out.splitlines()[3:6] == ["AK1|HC|101|005010X222A1\\", "AK2|837|0001|005010X222A1\\", "IK5|A\\"]


def test_no_isa_cannot_be_acknowledged() -> None:
    text = clean().split("~\n", 1)[1]  # starts at GS
    with pytest.raises(ParseError, match=r"has no `ISA` interchange to acknowledge"):
        build_999(parse_x12(text, name="in.x12"), at=AT)


# ---------------------------------------------------------------------------------------- TA1

@pytest.mark.parametrize(
    ("edit", "ta1"),
    [
        ((), "TA1*000000101*240315*0930*A*000"),
        ((("IEA*1*000000101", "IEA*1*000000102"),), "TA1*000000101*240315*0930*R*001"),
        ((("IEA*1*", "IEA*2*"),), "TA1*000000101*240315*0930*R*021"),
        ((("IEA*1*000000101~\n", ""),), "TA1*000000101*240315*0930*R*023"),
        ((("GS*HC", "XYZ*1~\nGS*HC"),), "TA1*000000101*240315*0930*E*024"),
    ],
    ids=["clean", "iea02-not-isa13", "iea01-count", "no-iea", "segment-outside-groups"],
)
def test_ta1(edit: tuple[tuple[str, str], ...], ta1: str) -> None:
    parsed = parse_x12(edited(*edit), name="in.x12")
    out = build_ta1(parsed.interchanges[0], parsed.problems, at=AT)
    assert out == ISA + ta1 + "~\nIEA*0*000000101~\n"
    assert_is_ack(out)


def test_ta1_counts_only_its_own_interchange() -> None:
    bad = edited(("IEA*1*000000101", "IEA*1*000000102"))
    parsed = parse_x12(clean() + bad.replace("000000101", "000000201", 1), name="in.x12")
    assert [interchange_result(ic, parsed.problems) for ic in parsed.interchanges] == [("A", "000"), ("R", "001")]


# ------------------------------------------------------------------------- synthetic defect


def test_injected_se_count_defect_is_the_only_rejected_set(tmp_path: Path) -> None:
    from medlake.synth.generate import generate

    generate(tmp_path, 100, 42)
    with (tmp_path / "truth" / "defects.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["defect"] == "x12_se_count"]
    assert rows, "the generator injected no x12_se_count defect"
    for row in rows:
        st02 = row["location"].split()[1]  # "ST02 0004 SE01"
        parsed = parse_x12((tmp_path / row["file"]).read_bytes(), name=row["file"])
        rejected = [(s.tset.control_number, s.code, s.errors) for g in group_results(parsed) for s in g.sets if s.code != "A"]
        assert rejected == [(st02, "R", ["4"])]
        out = build_999(parsed, at=AT)
        assert_is_ack(out)
        assert f"AK2*837*{st02}*005010X222A1~\nIK5*R*4~\n" in out
        assert out.count("IK5*R") == 1


# --------------------------------------------------------------------- every public sample


def _samples() -> list[str]:
    path = SHARED / "data" / "x12-samples" / "INDEX.tsv"
    if not path.exists():
        return ["(../shared absent)"]
    with path.open(newline="") as fh:
        return [row["file"] for row in csv.DictReader(fh, delimiter="\t")]


@pytest.mark.shared
@pytest.mark.parametrize("name", _samples())
def test_every_sample_gets_a_clean_ack(name: str) -> None:
    path = shared_path("data", "x12-samples", name)
    parsed = parse_x12(path.read_bytes(), name=name)
    if all(ic.header is None for ic in parsed.interchanges):
        with pytest.raises(ParseError):
            build_999(parsed, at=AT)
        return
    assert_is_ack(build_999(parsed, at=AT, with_ta1=True))
    for ic in parsed.interchanges:
        if ic.header is not None:
            assert_is_ack(build_ta1(ic, parsed.problems, at=AT))
    # every problem the parser reports has a code of its own (IK502 5 is the fallback)
    assert not [s for g in group_results(parsed) for s in g.sets if "5" in s.errors]

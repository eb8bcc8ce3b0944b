"""The pure HL7 v2 and X12 builders: escaping round trips, ISA layout, envelope counts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hl7x12_readers import f, money, unescape
from hypothesis import given
from hypothesis import strategies as st

from medlake.synth.hl7_build import ControlIds, comp, escape, hl7_ts, message, msh, rep, segment
from medlake.synth.x12_build import ISA_LENGTH, Interchange, Separators, amount, composite, element

# Text with every delimiter, CR/LF, and non-ASCII letters.
hl7_text = st.text(alphabet=st.sampled_from([*list("ab Zé|^~\\&\r\nX0F"), "ü", "中"]), max_size=30)


@given(hl7_text)
def test_escape_then_unescape_gives_back_the_text(text: str) -> None:
    assert unescape(escape(text)) == text


@given(hl7_text)
def test_escaped_text_holds_no_delimiter_or_line_break(text: str) -> None:
    e = escape(text)
    assert not any(c in e for c in "|^~&\r\n")


@given(st.lists(st.lists(hl7_text, min_size=1, max_size=4), min_size=1, max_size=5))
def test_segment_of_components_splits_back(fields: list[list[str]]) -> None:
    text = segment("ZZZ", *(comp(*parts) for parts in fields))
    got = [[unescape(c) for c in fld.split("^")] for fld in text.split("|")[1:]]
    want = [list(parts) for parts in fields]
    # trailing empty components and fields may be omitted (ER7): compare after trimming
    def trim(xs: list[list[str]]) -> list[list[str]]:
        out = []
        for parts in xs:
            while parts and parts[-1] == "":
                parts = parts[:-1]
            out.append(parts or [""])
        while out and out[-1] == [""]:
            out.pop()
        return out
    assert trim(got) == trim(want)


def test_repetitions_and_subcomponents() -> None:
    assert rep(comp("E119", None, "I10"), comp("I10", None, "I10")) == "E119^^I10~I10^^I10"
    assert segment("PID", "1", None, None) == "PID|1"
    assert segment("NTE") == "NTE"


def test_msh_numbers_fields_from_the_separator() -> None:
    text = msh(sending_app="LIS", sending_facility="LAB", receiving_app="EHR", receiving_facility="H1",
               timestamp="20240301093000", message_type=("ORU", "R01", "ORU_R01"), control_id="X1",
               version="2.5.1")  # fmt: skip
    assert text.startswith("MSH|^~\\&|LIS|LAB|EHR|H1|20240301093000||ORU^R01^ORU_R01|X1|P|2.5.1")
    fields = ["MSH", "|", *text.split("|")[1:]]
    assert f(fields, 2) == "^~\\&" and f(fields, 9) == "ORU^R01^ORU_R01" and f(fields, 10) == "X1"
    with pytest.raises(ValueError, match="msh"):
        segment("MSH", "x")


def test_message_terminates_every_segment_with_cr() -> None:
    assert message(["MSH|^~\\&", "PID|1"]) == "MSH|^~\\&\rPID|1\r"


def test_timestamps_local_and_with_offset() -> None:
    t = datetime(2024, 7, 4, 8, 5, 9)
    assert hl7_ts(t) == "20240704080509"
    assert hl7_ts(t.replace(tzinfo=ZoneInfo("America/Chicago")), offset=True) == "20240704080509-0500"
    with pytest.raises(ValueError, match="aware"):
        hl7_ts(t, offset=True)


def test_control_ids_are_unique_and_sortable() -> None:
    ids = ControlIds("LAB", 6)
    got = [ids.next() for _ in range(3)]
    assert got == ["LAB000001", "LAB000002", "LAB000003"]


# -- X12 ---------------------------------------------------------------------------------------
ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", min_size=1, max_size=15)


@given(ids, ids, st.integers(1, 999_999_999), st.sampled_from(["P", "T"]))
def test_isa_is_106_characters_with_separators_in_place(sender: str, receiver: str, n: int, usage: str) -> None:
    s = Separators(element="*", component=":", repetition="^", segment="~", suffix="\n")
    ic = Interchange(s, sender=("ZZ", sender), receiver=("ZZ", receiver), control_number=n,
                     when=datetime(2024, 3, 1, 9, 30), usage=usage)  # fmt: skip
    isa = ic.header()
    assert isa.endswith("~\n")
    body = isa[:-1]
    assert len(body) == ISA_LENGTH == 106
    assert (body[3], body[82], body[104], body[105]) == ("*", "^", ":", "~")
    parts = body[:-1].split("*")
    assert [len(p) for p in parts[1:]] == [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
    assert parts[13] == f"{n:09d}" and parts[15] == usage


def test_isa_rejects_an_id_too_long_for_its_field() -> None:
    ic = Interchange(Separators(), sender=("ZZ", "X" * 16), receiver=("ZZ", "Y"), control_number=1,
                     when=datetime(2024, 1, 1))  # fmt: skip
    with pytest.raises(ValueError, match="fixed width 15"):
        ic.header()


@given(st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=4), min_size=1, max_size=3))
def test_envelope_counts_and_control_numbers_match(groups: list[list[int]]) -> None:
    s = Separators()
    ic = Interchange(s, sender=("ZZ", "A"), receiver=("ZZ", "B"), control_number=42, when=datetime(2024, 1, 1))
    text = ic.header()
    for sets in groups:
        text += ic.begin_group("HC", "A", "B", "005010X222A1")
        for body in sets:
            text += ic.begin_set("837", "005010X222A1")
            text += "".join(ic.seg("REF", "EA", str(k)) for k in range(body))
            text += ic.end_set()
        text += ic.end_group()
    text += ic.trailer()
    segs = [x.strip().split("*") for x in text.split("~") if x.strip()]
    # independent recount
    gs_count, st_count, in_set = 0, 0, 0
    for seg in segs:
        tag = seg[0]
        if tag == "GS":
            gs_count += 1
            st_count, gs06 = 0, seg[6]
        elif tag == "ST":
            st_count += 1
            in_set, st02 = 1, seg[2]
        elif tag == "SE":
            in_set += 1
            assert int(seg[1]) == in_set and seg[2] == st02
        elif tag == "GE":
            assert int(seg[1]) == st_count and seg[2] == gs06
        elif tag == "IEA":
            assert int(seg[1]) == gs_count == len(groups) and seg[2] == "000000042"
        elif tag != "ISA":
            in_set += 1


def test_envelope_misuse_says_what_to_call() -> None:
    ic = Interchange(Separators(), sender=("ZZ", "A"), receiver=("ZZ", "B"), control_number=1, when=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="begin_set"):
        ic.seg("REF", "x")
    ic.begin_group("HC", "A", "B", "v")
    with pytest.raises(ValueError, match="end_group"):
        ic.trailer()


@pytest.mark.parametrize(
    ("value", "text"),
    [("150", "150"), ("150.00", "150"), ("12.50", "12.5"), ("-3.25", "-3.25"), ("0.004", "0"), ("-0.001", "0"), ("0.005", "0.01")],
)
def test_amounts_are_written_without_trailing_zeros(value: str, text: str) -> None:
    assert amount(value) == text
    assert money(text) == round(float(value) * 100 + (0.0000001 if float(value) > 0 else 0))


def test_data_cannot_break_the_envelope() -> None:
    s = Separators()
    assert element("A*B~C:D^E\nF", s) == "A B C D E F"
    assert composite("HC", "99213", "", "", s=s) == "HC:99213"
    with pytest.raises(ValueError, match="distinct"):
        Separators(element="*", component="*")

"""The X12 parser: golden files, bad inputs with their exact problems, and the public API.

Golden inputs are in golden/x12/ (see its SOURCE.md); the expected files were worked out by
hand from the loop tables. Regenerate only after an intended change, with
`MEDLAKE_REGEN_GOLDEN=1 pytest tests/formats/test_x12_parser.py`, then read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from medlake.errors import ParseError
from medlake.formats.x12 import Loop, X12File, X12Problem, parse_ref, parse_x12

GOLDEN = Path(__file__).parent / "golden" / "x12"
REGEN = os.environ.get("MEDLAKE_REGEN_GOLDEN") == "1"

# -------------------------------------------------------------------------------- golden files


def render_loop(loop: Loop) -> dict[str, Any]:
    out: dict[str, Any] = {"loop": loop.id, "segments": [s.raw for s in loop.segments]}
    if loop.children:
        out["children"] = [render_loop(c) for c in loop.children]
    return out


def render(f: X12File) -> dict[str, Any]:
    interchanges = []
    for ic in f.interchanges:
        sep = ic.separators
        groups = [
            {
                "functional_id": g.functional_id,
                "control_number": g.control_number,
                "version": g.version,
                "sets": [
                    {
                        "id": t.id,
                        "control_number": t.control_number,
                        "guide": t.guide,
                        "family": t.family,
                        "version": t.version,
                        "segments": len(t),
                        "loops": render_loop(t.loops),
                    }
                    for t in g.sets
                ],
            }
            for g in ic.groups
        ]
        interchanges.append({
            "control_number": ic.control_number,
            "sender": [ic.sender_qualifier, ic.sender_id],
            "receiver": [ic.receiver_qualifier, ic.receiver_id],
            "date": ic.date,
            "time": ic.time,
            "version": ic.version,
            "usage": ic.usage,
            "separators": sep.element + sep.component + (sep.repetition or "") + sep.segment,
            "acks": [a.control_number for a in ic.acks],
            "groups": groups,
        })
    return {
        "encoding": f.encoding,
        "line_ending": f.line_ending,
        "interchanges": interchanges,
        "problems": [str(p) for p in f.problems],
    }


GOLDEN_FILES = sorted(p.name for p in GOLDEN.glob("*.x12"))


def test_every_golden_input_has_its_expected_file() -> None:
    assert len(GOLDEN_FILES) == 5
    for name in GOLDEN_FILES:
        assert (GOLDEN / name.replace(".x12", ".expected.json")).exists(), name


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden(name: str) -> None:
    data = (GOLDEN / name).read_bytes()
    f = parse_x12(data, name=name)
    got = render(f)
    expected_path = GOLDEN / name.replace(".x12", ".expected.json")
    if REGEN:
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(expected_path.read_text())
    assert f.to_bytes() == data


# ------------------------------------------------------------------------------ bad inputs

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*"
    "000000001*0*P*:~\n"
)
BODY = [
    "GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1",  # file segment 2
    "ST*837*0001*005010X222A1",  # set segment 1, file segment 3
    "BHT*0019*00*1*20240101*1200*CH",
    "HL*1**20*1",  # 3 (5)
    "NM1*85*2*CLINIC*****XX*1234567893",
    "HL*2*1*22*0",  # 5 (7)
    "NM1*IL*1*DOE*PAT****MI*M1",
    "CLM*PCN1*100***11:B:1*Y*A*Y*Y",
    "LX*1",
    "SV1*HC:99213*100*UN*1***1",  # 9 (11)
    "SE*10*0001",  # 10 (12)
    "GE*1*1",  # file segment 13
    "IEA*1*000000001",  # 14
]


def x12(*, replace: dict[str, str] | None = None, upto: int | None = None, isa: str = ISA) -> str:
    """The valid 837P above, with segments replaced (by their text) or cut after `upto`."""
    body = [(replace or {}).get(s, s) for s in BODY][:upto]
    return isa + "".join(s + "~\n" for s in body)


WHERE_SET = "interchange 000000001, group 1, set 0001"
CUT = [
    f"{WHERE_SET}, segment 9 (file segment 11): set `0001` has no `SE` trailer: it ends at "
    "the end of the file (the file may be cut short)",
    "interchange 000000001, group 1, file segment 11: group `1` has no `GE` trailer: it ends "
    "at the end of the file (the file may be cut short)",
    "interchange 000000001, file segment 11: the interchange has no `IEA` trailer: the file "
    "may be cut short (1 group seen)",
]

BAD_INPUTS = [
    pytest.param(
        x12(replace={"SE*10*0001": "SE*11*0001"}),
        [f"{WHERE_SET}, segment 10 (file segment 12), SE01: SE01 says 11 segments but the set has 10 (ST through SE)"],
        id="SE01 wrong count",
    ),
    pytest.param(
        x12(replace={"SE*10*0001": "SE*10*0002"}),
        [f"{WHERE_SET}, segment 10 (file segment 12), SE02: SE02 `0002` does not match ST02 `0001`"],
        id="ST02 != SE02",
    ),
    pytest.param(
        x12(replace={"GE*1*1": "GE*2*1"}),
        ["interchange 000000001, group 1, file segment 13, GE01: GE01 says 2 transaction sets but the group has 1"],
        id="GE01 wrong count",
    ),
    pytest.param(
        x12(replace={"GE*1*1": "GE*1*2"}),
        ["interchange 000000001, group 1, file segment 13, GE02: GE02 `2` does not match GS06 `1`"],
        id="GS06 != GE02",
    ),
    pytest.param(
        x12(replace={"IEA*1*000000001": "IEA*2*000000001"}),
        ["interchange 000000001, file segment 14, IEA01: IEA01 says 2 functional groups but the interchange has 1"],
        id="IEA01 wrong count",
    ),
    pytest.param(
        x12(replace={"IEA*1*000000001": "IEA*1*000000002"}),
        ["interchange 000000001, file segment 14, IEA02: IEA02 `000000002` does not match ISA13 `000000001`"],
        id="ISA13 != IEA02",
    ),
    pytest.param(x12(upto=10), CUT, id="missing SE, GE and IEA (cut after a segment)"),
    pytest.param(x12(upto=10)[:-8], CUT, id="cut in the middle of a segment"),
    pytest.param(
        "ISA*00*          *00*   ",
        [
            "line 1: the ISA is too short: it has 4 of its 16 elements; an ISA has 16 elements, "
            "then its terminator (106 characters in all), so the separators cannot be read and "
            "the interchange is skipped"
        ],
        id="ISA too short",
    ),
    pytest.param(
        x12(replace={"HL*2*1*22*0": "HL*2*9*22*0"}),
        [
            f"{WHERE_SET}, segment 5 (file segment 7), loop 2000B, HL02: HL02 parent `9` does not "
            "exist: no earlier HL in this set has HL01 `9`",
            f"{WHERE_SET}, segment 3 (file segment 5), loop 2000A, HL04: HL04 says HL `1` has child "
            "HLs, but no later HL names it in HL02",
        ],
        id="HL parent that does not exist",
    ),
    pytest.param(
        x12(
            replace={
                "GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1": "GS*HC*SENDER*RECEIVER*20240101*1200*1*X*004010X098A1",
                "ST*837*0001*005010X222A1": "ST*837*0001",
            },
            isa=ISA.replace("*^*00501*", "*U*00401*"),
        ),
        [
            "interchange 000000001, group 1, file segment 2, GS08: GS08 `004010X098A1` is X12 "
            "4010: the group is read and structured (for `medlake inspect`) but not mapped; "
            "medlake maps 005010 only"
        ],
        id="4010 file",
    ),
    pytest.param(
        "HELLO from the mail gateway\n" + x12(),
        ['line 1: text before the first `ISA` is not X12 and was skipped: "HELLO from the mail gateway"'],
        id="garbage before ISA",
    ),
    pytest.param(
        x12(replace={"GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1": "XX*1"}),
        [
            "interchange 000000001, file segment 2: segment `XX` is outside any transaction set; it is kept but not read",
            "interchange 000000001, file segment 3: `ST` without a `GS` before it: the set is kept in a group of its own",
            "interchange 000000001, file segment 14, IEA01: IEA01 says 1 functional groups but the interchange has 0",
        ],
        id="no GS",
    ),
    pytest.param(
        "just some text\n",
        [
            "line 1: no X12 interchange found: an X12 file starts with an `ISA` segment (or at "
            'least `GS` or `ST`), this one starts with "just some text\\n"'
        ],
        id="not X12 at all",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_INPUTS)
def test_bad_inputs_are_reported_where_they_are(text: str, expected: list[str]) -> None:
    f = parse_x12(text, name="f.x12")
    assert [str(p) for p in f.problems] == expected
    assert f.to_x12() == text


@pytest.mark.parametrize(("text", "expected"), BAD_INPUTS)
def test_raise_level_raises_the_first_problem(text: str, expected: list[str]) -> None:
    with pytest.raises(ParseError) as info:
        parse_x12(text, name="f.x12", errors="raise")
    assert str(info.value) == "f.x12: " + expected[0]
    assert info.value.file == "f.x12"


def test_problem_attributes_name_the_position() -> None:
    f = parse_x12(x12(replace={"SE*10*0001": "SE*11*0001"}))
    [p] = f.problems
    assert isinstance(p, X12Problem)
    assert (p.interchange, p.group, p.transaction_set) == ("000000001", "1", "0001")
    assert (p.segment, p.file_segment, p.element, p.line, p.record_index) == (10, 12, "SE01", 12, 0)
    assert p.text == "SE*11*0001"
    with pytest.raises(ParseError) as info:
        parse_x12(x12(replace={"SE*10*0001": "SE*11*0001"}), errors="raise")
    assert (info.value.segment, info.value.element, info.value.transaction_set) == (10, "SE01", "0001")


def test_ignore_and_warn_levels_keep_the_sets(caplog: pytest.LogCaptureFixture) -> None:
    text = x12(replace={"SE*10*0001": "SE*11*0001"})
    assert parse_x12(text, errors="ignore").problems == []
    f = parse_x12(text, name="f.x12", errors="warn")
    assert f.problems == [] and len(list(f.transaction_sets())) == 1
    assert "SE01" in caplog.text and "SE*11" not in caplog.text  # positions only, never values


# ------------------------------------------------------------------------------ separators


def test_unpadded_isa_is_read_after_its_16th_element() -> None:
    isa = "ISA*00**00**ZZ*S*ZZ*R*240101*1200*^*00501*000000001*0*P*>|\n"
    text = x12(isa=isa).replace("~", "|").replace("11:B:1", "11>B>1").replace("HC:99213", "HC>99213")
    f = parse_x12(text)
    sep = f.interchanges[0].separators
    assert (sep.element, sep.component, sep.repetition, sep.segment) == ("*", ">", "^", "|")
    assert [str(p) for p in f.problems] == [
        "interchange 000000001, file segment 1, ISA: the ISA is not fixed width (58 characters "
        "instead of 106); its separators were read after its 16th element: component '>', "
        "segment terminator '|'"
    ]
    claim = f.interchanges[0].groups[0].sets[0].find("2300")
    assert claim is not None and claim.get("CLM05-1") == "11"


def test_4010_u_means_no_repetition_separator() -> None:
    f = parse_x12(x12(isa=ISA.replace("*^*00501*", "*U*00401*")))
    assert f.interchanges[0].separators.repetition is None
    assert f.interchanges[0].version == "00401"


def test_several_interchanges_with_different_separators() -> None:
    second = x12().replace("*", "|").replace("~", "!").replace(":", ">")
    text = x12() + second
    f = parse_x12(text)
    assert [ic.separators.element for ic in f.interchanges] == ["*", "|"]
    assert [ic.line for ic in f.interchanges] == [1, 15]
    assert [t.ordinal for t in f.transaction_sets()] == [0, 1]
    assert f.problems == []
    assert f.to_x12() == text


@pytest.mark.parametrize(
    ("text", "ending"),
    [
        (x12(), "LF"),
        (x12().replace("~\n", "~\r\n"), "CRLF"),
        (x12().replace("~\n", "~"), "none"),
        (x12().replace("~\n", "~\r"), "CR"),
        (x12().replace("~\n", "~\n   "), "LF"),  # indentation is formatting too
        (x12().replace("~\nLX", "~LX"), "mixed"),
    ],
)
def test_line_breaks_after_terminators_are_recorded_and_kept(text: str, ending: str) -> None:
    f = parse_x12(text)
    assert f.line_ending == ending
    assert f.problems == []
    assert f.to_x12() == text
    ts = next(f.transaction_sets())
    assert ts.segments[6] == ["CLM", "PCN1", "100", "", "", "11:B:1", "Y", "A", "Y", "Y"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (x12().encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + x12().encode("utf-8"), "utf-8-sig"),
        (x12().encode("utf-16-le"), "utf-16-le"),
        (b"\xff\xfe" + x12().encode("utf-16-le"), "utf-16-le"),
        (x12().replace("DOE", "D\xd6E").encode("cp1252"), "cp1252"),
    ],
)
def test_encodings(data: bytes, encoding: str) -> None:
    f = parse_x12(data)
    assert f.encoding == encoding
    assert len(list(f.transaction_sets())) == 1
    assert f.to_bytes() == data
    expected = [] if encoding != "cp1252" else [
        "line 1: the bytes are not valid UTF-8 (byte 0xD6 at offset 289); read as cp1252"
    ]
    assert [str(p) for p in f.problems] == expected


def test_file_without_isa_starting_at_st() -> None:
    text = "ST*835*0001~BPR*I*0*C*NON~LX*1~CLP*A*1*10*0~SE*5*0001~"
    f = parse_x12(text)
    [ic] = f.interchanges
    assert ic.header is None and ic.control_number is None
    [ts] = list(f.transaction_sets())
    assert (ts.family, ts.group.header if ts.group else "?") == ("835", None)
    assert [str(p) for p in f.problems] == [
        "line 1: no ISA interchange header: the file starts with `ST`; its separators were read "
        "from that segment (element '*', segment terminator '~'), the component separator ':' "
        "is assumed and elements are not split into repetitions"
    ]
    assert f.to_x12() == text


def test_ta1_is_an_acknowledgment_of_the_interchange() -> None:
    text = ISA + "TA1*000000777*240101*1200*R*022~\nIEA*0*000000001~\n"
    f = parse_x12(text)
    [ack] = f.interchanges[0].acks
    assert (ack.id, ack.family, ack.control_number, ack.group) == ("TA1", "TA1", "000000777", None)
    assert [s.raw for s in ack.loops.segments] == ["TA1*000000777*240101*1200*R*022"]
    assert f.problems == []


# ------------------------------------------------------------------------------ the API


@pytest.fixture(scope="module")
def claim_file() -> X12File:
    return parse_x12((GOLDEN / "837p_claim_cob.x12").read_bytes(), name="837p_claim_cob.x12")


def test_interchange_group_and_set_facts(claim_file: X12File) -> None:
    [ic] = claim_file.interchanges
    assert (ic.control_number, ic.sender_id, ic.receiver_id, ic.usage, ic.ack_requested) == (
        "000000101", "SUBMITTER01", "RECEIVER01", "T", "0"
    )
    [g] = ic.groups
    assert (g.functional_id, g.control_number, g.version, g.sender, g.date) == (
        "HC", "101", "005010X222A1", "SUBMITTER01", "20240315"
    )
    [ts] = g.sets
    assert (ts.id, ts.control_number, ts.guide, ts.family, ts.version, len(ts)) == (
        "837", "0001", "005010X222A1", "837P", "5010", 33
    )
    assert ts.line == 3 and ts.trailer


def test_set_text_is_the_exact_st_to_se_slice(claim_file: X12File) -> None:
    ts = next(claim_file.transaction_sets())
    text = (GOLDEN / "837p_claim_cob.x12").read_text()
    assert ts.text == text[text.index("ST*837") : text.index("GE*1*101")]
    facts = ts.envelope()
    assert facts["interchange_control_number"] == "000000101"
    assert (facts["group_control_number"], facts["set_control_number"], facts["family"]) == ("101", "0001", "837P")
    assert facts["segment_count"] == 33 and facts["has_trailer"] is True


def test_loop_views(claim_file: X12File) -> None:
    ts = next(claim_file.transaction_sets())
    claim = ts.find("2300")
    assert claim is not None
    assert (claim.get("CLM01"), claim.get("CLM02"), claim.get("CLM05-1"), claim.get("CLM05-3")) == (
        "PCN1001", "150", "11", "1"
    )
    assert claim.get("CLM04") is None and claim.get("REF02") is None
    assert claim.parent is not None and claim.parent.id == "2000C"
    assert claim.parent.hl == ("3", "2", "23", "0")
    assert [c.id for c in claim.children] == ["2310A", "2310B", "2320", "2400", "2400"]
    lines = claim.find_all("2400")
    sv1 = lines[0].segment("SV1")
    assert sv1 is not None
    assert (sv1.id, sv1.element(1), sv1.component(1, 2), sv1.component(1, 3), sv1.get(2)) == (
        "SV1", "HC:99213:25", "99213", "25", "100"
    )
    assert sv1.components(1) == ["HC", "99213", "25"] and sv1.component(1, 9) == ""
    assert sv1.value("SV102") == "100" and sv1.value("CLM02") is None
    assert lines[0].find("2420A") is not None and lines[1].find("2420A") is None
    assert [lp.id for lp in ts.loops.walk()][:4] == ["1000A", "1000B", "2000A", "2010AA"]
    assert [s.id for s in claim.all_segments][:4] == ["CLM", "HI", "NM1", "NM1"]
    assert claim.trigger.raw.startswith("CLM*PCN1001")
    assert (claim.start, claim.end) == (18, 32)


def test_repetitions() -> None:
    f = parse_x12((GOLDEN / "834_member_reporting.x12").read_bytes())
    member = next(f.transaction_sets()).find("2100A")
    assert member is not None
    dmg = member.segment("DMG")
    assert dmg is not None
    assert dmg.repetitions(5) == ["H:RET", "7:RET"]
    assert (dmg.component(5, 1), dmg.component(5, 1, repetition=2), dmg.get(5)) == ("H", "7", "H:RET")
    assert dmg.get(5, repetition=2) == "7:RET" and dmg.repetitions(4) == []


def test_to_json_for_inspect(claim_file: X12File) -> None:
    doc = claim_file.to_json()
    json.dumps(doc)  # plain JSON
    [ic] = doc["interchanges"]
    assert ic["separators"] == {"element": "*", "component": ":", "repetition": "^", "segment": "~"}
    ts = ic["groups"][0]["sets"][0]
    assert (ts["family"], ts["segment_count"]) == ("837P", 33)
    claim = ts["loops"]["children"][2]["children"][1]["children"][2]["children"][1]
    assert claim["loop"] == "2300"
    assert claim["segments"][0] == {
        "n": 19, "id": "CLM", "elements": ["PCN1001", "150", "", "", ["11", "B", "1"], "Y", "A", "Y", "Y"]
    }
    dmg = parse_x12((GOLDEN / "834_member_reporting.x12").read_bytes()).to_json()
    member = dmg["interchanges"][0]["groups"][0]["sets"][0]["loops"]["children"][2]["children"][0]
    assert member["segments"][3]["elements"][4] == {"repeats": [["H", "RET"], ["7", "RET"]]}


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [("CLM02", ("CLM", 2, None)), ("CLM05-1", ("CLM", 5, 1)), ("CLM05-03", ("CLM", 5, 3)), ("N101", ("N1", 1, None))],
)
def test_element_references(ref: str, parsed: tuple[str, int, int | None]) -> None:
    assert tuple(parse_ref(ref)) == parsed


@pytest.mark.parametrize("ref", ["CLM2", "CLM00", "clm02", "CLM05-0", "PID.5.1"])
def test_bad_element_references(ref: str) -> None:
    with pytest.raises(ParseError, match="is not an X12 element reference"):
        parse_ref(ref)


@pytest.mark.parametrize(
    ("guide", "st01", "family"),
    [
        ("005010X222A1", "837", "837P"),
        ("005010X222A2", "837", "837P"),
        ("005010X223A3", "837", "837I"),
        ("005010X224A2", "837", "837D"),
        ("005010X221A1", "835", "835"),
        ("005010X279A1", "271", "271"),
        ("005010X212", "276", "276"),
        ("005010X214", "277", "277CA"),
        ("005010X220A1", "834", "834"),
        ("005010X231A1", "999", "999"),
        ("005010X217", "278", "278"),
    ],
)
def test_guides_are_matched_on_their_prefix(guide: str, st01: str, family: str) -> None:
    no_lines = {"SV1*HC:99213*100*UN*1***1": "DTP*472*D8*20240101"}  # SV1/SV2/SV3 name the variant too
    text = x12(replace={"ST*837*0001*005010X222A1": f"ST*{st01}*0001*{guide}", **no_lines})
    ts = next(parse_x12(text).transaction_sets())
    assert ts.family == family


def test_service_lines_overrule_an_837_guide_that_contradicts_them() -> None:
    f = parse_x12(x12(replace={"ST*837*0001*005010X222A1": "ST*837*0001*005010X223A2"}))
    assert [str(p) for p in f.problems] == [
        "interchange 000000001, group 1, set 0001, segment 1 (file segment 3), ST03: the guide "
        "`005010X223A2` is for 837I but the service lines are 837P's (SV1); the set is read as 837P"
    ]
    assert next(f.transaction_sets()).family == "837P"


def test_st01_that_contradicts_the_guide_is_reported() -> None:
    f = parse_x12(x12(replace={"ST*837*0001*005010X222A1": "ST*837*0001*005010X221A1"}))
    assert [p.message for p in f.problems] == [
        "ST01 `837` does not match the guide `005010X221A1` (a 835 guide); the set is read as 837"
    ]
    assert next(f.transaction_sets()).family == "837P"  # from its SV1 lines


def test_a_chain_of_hls_each_naming_the_one_before_stays_shallow() -> None:
    hls = [f"HL*{k}*{k - 1}*22*1" for k in range(2, 2002)]
    body = ["ST*837*0001*005010X222A1", "HL*1**20*1", *hls, "CLM*PCN1*100***11:B:1*Y*A*Y*Y"]
    text = ISA + "".join(s + "~\n" for s in [BODY[0], *body, f"SE*{len(body) + 1}*0001", "GE*1*1", "IEA*1*000000001"])
    f = parse_x12(text)
    ts = next(f.transaction_sets())
    claim = ts.find("2300")
    assert claim is not None
    depth = 0
    parent = claim.parent
    while parent is not None:
        depth, parent = depth + 1, parent.parent
    assert depth <= 25
    assert [p.element for p in f.problems] == ["HL04"]  # the last HL says it has children

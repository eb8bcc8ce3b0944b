"""HL7 v2 parser: golden files, delimiters, terminators, charsets, escapes, nulls, batches,
paths, the bad-input table with exact positions and messages at every error level, and ACKs.

Regenerate the golden files after an intended change with
`MEDLAKE_REGEN_GOLDEN=1 pytest tests/formats/test_hl7v2_parser.py` and read the diff.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medlake.errors import ErrorLevel, ParseError
from medlake.formats.hl7v2 import (
    DEFAULT,
    Delimiters,
    build_ack,
    escape,
    parse_hl7,
    parse_path,
    read_delimiters,
    unescape,
)

GOLDEN = Path(__file__).parent / "golden" / "hl7v2"
REGEN = os.environ.get("MEDLAKE_REGEN_GOLDEN") == "1"


def msh(ctl: str = "C1", version: str = "2.5", enc: str = "^~\\&", fs: str = "|", tail: str = "") -> str:
    return fs.join(["MSH", enc, "SND", "SFAC", "RCV", "RFAC", "20240101120000", "", f"ADT{enc[0]}A01", ctl, "P", version]) + tail


# --------------------------------------------------------------------------------- golden


def render_golden(path: Path) -> dict[str, Any]:
    f = parse_hl7(path.read_bytes(), name=path.name)
    return {
        "encoding": f.encoding,
        "line_ending": f.line_ending,
        "file_header": f.file_header,
        "declared_batches": f.declared_batches,
        "batches": [{"index": b.index, "line": b.line, "declared": b.declared, "messages": b.messages} for b in f.batches],
        "problems": [
            {"position": p.position, "message": p.message, "line": p.line, "record_index": p.record_index, "text": p.text}
            for p in f.problems
        ],
        "messages": [m.to_json() for m in f.messages],
    }


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.hl7")))
def test_golden(name: str) -> None:
    path = GOLDEN / name
    expected = path.with_name(path.stem + ".expected.json")
    got = render_golden(path)
    if REGEN:
        expected.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(expected.read_text(encoding="utf-8"))
    for m in parse_hl7(path.read_bytes()).messages:
        assert m.text == m.encode()


def test_golden_messages_are_exact_slices_of_the_input() -> None:
    for path in GOLDEN.glob("*.hl7"):
        data = path.read_bytes().decode("utf-8")
        parsed = parse_hl7(data)
        pos = 0
        for m in parsed.messages:  # in order, each message is the input text from where it starts
            pos = data.index(m.text, pos)
            assert m.text == m.encode()
            pos += len(m.text)


# ------------------------------------------------------------------------------ delimiters


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("MSH|^~\\&|A", Delimiters("|", "^", "~", "\\", "&")),
        ("MSH|^~\\&#|A", Delimiters("|", "^", "~", "\\", "&", "#")),
        ("MSH*:!?%*A", Delimiters("*", ":", "!", "?", "%")),
        ("FHS|^~\\&|A", DEFAULT),
        ("BHS#$@%!#", Delimiters("#", "$", "@", "%", "!")),
    ],
    ids=["standard", "five-v2.7", "custom", "fhs", "bhs-custom"],
)
def test_delimiters_come_from_the_header(header: str, expected: Delimiters) -> None:
    assert read_delimiters(header) == (expected, None)


def test_custom_delimiters_split_and_escape_everywhere() -> None:
    text = "MSH*:!?%*SND*F*R*F*2024**ORU:R01*C9*P*2.5\rOBX*1*ST*A:B!C:D%E*?F??S?x?T?y?R?z?E?\r"
    m = parse_hl7(text).messages[0]
    assert m.delimiters == Delimiters("*", ":", "!", "?", "%")
    assert (m.message_type, m.trigger, m.control_id) == ("ORU", "R01", "C9")
    assert m.get("OBX.3.2") == "B"
    assert m.get("OBX.3(2).2.2") == "E"
    assert m.get("OBX.4") == "*:x%y!z?"
    assert m.encode() == m.text == text


def test_msh_field_numbering_is_shifted_by_the_separator() -> None:
    m = parse_hl7(msh() + "\r").messages[0]
    assert m.get("MSH.1") == "|"
    assert m.get("MSH.2") == "^~\\&"
    assert m.get("MSH.3") == "SND"
    assert m.get("MSH.9.2") == "A01"
    assert m.fields(0)[:4] == ["MSH", "|", "^~\\&", "SND"]
    seg = m.segment("MSH")
    assert seg is not None and (seg.get(1), seg.get(2), seg.get(10)) == ("|", "^~\\&", "C1")


def test_msh2_is_never_split_or_unescaped() -> None:
    m = parse_hl7(msh(enc="^~\\&#") + "\r").messages[0]
    assert m.get("MSH.2") == m.get("MSH.2.1") == m.get("MSH.2(2)") == m.raw("MSH.2") == "^~\\&#"
    seg = m.segment("MSH")
    assert seg is not None and seg.repetitions(2) == ["^~\\&#"]
    assert m.first("MSH", "2", "1") == ("^~\\&#", "|")
    assert m.to_json()["segments"][0]["fields"][:2] == ["|", "^~\\&#"]
    assert m.encode() == m.text


def test_fhs_and_bhs_declare_their_own_delimiters_for_their_trailers() -> None:
    text = "FHS*^~\\&\rBHS*^~\\&\r" + msh() + "\rBTS*1\rFTS*1\r"
    f = parse_hl7(text)
    assert f.problems == []
    assert (f.batches[0].declared, f.declared_batches, f.messages[0].batch) == (1, 1, 0)


# ----------------------------------------------------------------- terminators and BOM


@pytest.mark.parametrize(("term", "label"), [("\r", "CR"), ("\n", "LF"), ("\r\n", "CRLF")])
def test_terminators_are_recorded(term: str, label: str) -> None:
    text = (msh("A") + term + "PID|1||X" + term) + (msh("B") + term + "PID|1||Y" + term)
    f = parse_hl7(text.encode())
    assert (f.line_ending, [m.terminator for m in f.messages]) == (label, [label, label])
    assert [m.get("PID.3") for m in f.messages] == ["X", "Y"]
    assert [m.line for m in f.messages] == [1, 3]
    assert "".join(m.text for m in f.messages) == text


def test_mixed_terminators_and_blank_lines() -> None:
    text = msh("A") + "\rPID|1||X\n\n" + msh("B") + "\r\nPID|1||Y\r\r"
    f = parse_hl7(text)
    assert f.line_ending == "mixed"
    assert [m.segments for m in f.messages] == [[msh("A"), "PID|1||X"], [msh("B"), "PID|1||Y"]]
    assert [m.terminators for m in f.messages] == [["\r", "\n\n"], ["\r\n", "\r\r"]]
    assert [m.terminator for m in f.messages] == ["mixed", "mixed"]
    assert [m.line for m in f.messages] == [1, 4]
    assert "".join(m.text for m in f.messages) == text
    assert f.problems == []


def test_a_message_without_a_final_terminator() -> None:
    m = parse_hl7(msh() + "\rPID|1||X").messages[0]
    assert m.terminators == ["\r", ""]
    assert m.text == m.encode() == msh() + "\rPID|1||X"


def test_byte_order_marks_are_not_data() -> None:
    text = msh("A") + "\rPID|1||X\r"
    for data in (b"\xef\xbb\xbf" + text.encode(), "\ufeff" + text, b"\xff\xfe" + text.encode("utf-16-le")):
        f = parse_hl7(data)
        assert [m.text for m in f.messages] == [text]
        assert f.problems == []
    # files concatenated with their marks: each one starts a message again
    both = parse_hl7(("\ufeff" + text + "\ufeff" + text.replace("A", "B")).encode())
    assert [m.control_id for m in both.messages] == ["A", "B"]
    assert both.problems == []


# ------------------------------------------------------------------------------- charsets


def test_msh18_names_the_charset() -> None:
    tail = "||||||8859/1"
    data = (msh(tail=tail) + "\rPID|1||X||M\xfcller^J\xf6rg\r").encode("latin-1")
    f = parse_hl7(data)
    assert (f.encoding, f.problems) == ("latin-1", [])
    assert f.messages[0].get("PID.5.1") == "Müller"


def test_msh18_is_read_with_the_declared_repetition_character() -> None:
    data = (msh(enc="^@\\&", tail="||||||8859/1@UNICODE UTF-8") + "\rPID|1||X||M\xfcller\r").encode("latin-1")
    assert parse_hl7(data).encoding == "latin-1"


def test_charset_fallbacks_are_noted() -> None:
    data = (msh(tail="||||||UNICODE UTF-8") + "\rPID|1||X||M\xfcller\r").encode("latin-1")
    f = parse_hl7(data, name="f.hl7")
    assert f.encoding == "cp1252"
    assert [str(p) for p in f.problems] == [
        "file: MSH-18 says `UNICODE UTF-8` but the bytes are not valid utf-8; read as cp1252"
    ]
    assert f.messages[0].get("PID.5") == "Müller"


# -------------------------------------------------------------------------------- escapes


ESCAPES = [
    ("a\\F\\b", DEFAULT, "a|b", "a|b"),
    ("a\\S\\b\\T\\c\\R\\d\\E\\e", DEFAULT, "a^b&c~d\\e", "a^b&c~d\\e"),
    ("\\X41\\\\X4243\\", DEFAULT, "ABC", "ABC"),
    ("caf\\XC3A9\\", DEFAULT, "café", "café"),
    ("caf\\XE9\\", DEFAULT, "café", "café"),
    ("one\\.br\\two", DEFAULT, "one\\.br\\two", "one\ntwo"),
    ("a\\.sp2\\b\\.sk3\\c", DEFAULT, "a\\.sp2\\b\\.sk3\\c", "a\n\nb   c"),
    ("\\.ce\\title\\.fi\\\\.nf\\\\.in4\\\\.ti-2\\x", DEFAULT, "\\.ce\\title\\.fi\\\\.nf\\\\.in4\\\\.ti-2\\x", "\ntitlex"),
    ("\\H\\bold\\N\\", DEFAULT, "\\H\\bold\\N\\", "bold"),
    ("\\H\\F\\N\\", DEFAULT, "\\H\\F\\N\\", "F"),
    ("\\Cxxyy\\a\\Mxxyyzz\\", DEFAULT, "\\Cxxyy\\a\\Mxxyyzz\\", "a"),
    ("\\Zlocal\\\\F\\", DEFAULT, "\\Zlocal\\|", "\\Zlocal\\|"),
    ("cut\\P\\", Delimiters(truncation="#"), "cut#", "cut#"),
    ("cut\\P\\", DEFAULT, "cut\\P\\", "cut\\P\\"),
    ("C:\\temp", DEFAULT, "C:\\temp", "C:\\temp"),
    ("a\\F", DEFAULT, "a\\F", "a\\F"),
    ("x\\Q\\F\\", DEFAULT, "x\\Q|", "x\\Q|"),
    ("a?F?b?.br?c", Delimiters("|", "^", "~", "?", "&"), "a|b?.br?c", "a|b\nc"),
]


@pytest.mark.parametrize(("raw", "d", "plain", "text"), ESCAPES, ids=[e[0] for e in ESCAPES])
def test_unescape(raw: str, d: Delimiters, plain: str, text: str) -> None:
    assert unescape(raw, d) == plain
    assert unescape(raw, d, text=True) == text


def test_escape_writes_delimiters_and_line_breaks_as_sequences() -> None:
    value = "a|b^c~d\\e&f#g\r\nh"
    d = Delimiters(truncation="#")
    written = escape(value, d)
    assert written == "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\P\\g\\X0D\\\\X0A\\h"
    assert unescape(written, d) == value


def test_formatting_escapes_in_a_message_with_text_true() -> None:
    m = parse_hl7(msh() + "\rOBX|1|FT|NOTE||Line 1\\.br\\Line 2 \\H\\!\\N\\\r").messages[0]
    assert m.get("OBX.5") == "Line 1\\.br\\Line 2 \\H\\!\\N\\"
    assert m.get("OBX.5", text=True) == "Line 1\nLine 2 !"
    obx = m.segment("OBX")
    assert obx is not None and obx.get(5, text=True) == "Line 1\nLine 2 !"


# ------------------------------------------------------------------------- null vs empty


def test_explicit_null_is_not_empty() -> None:
    m = parse_hl7(msh() + '\rPID|1|""||A^""^^B|\r').messages[0]
    assert (m.get("PID.2"), m.is_null("PID.2"), m.raw("PID.2")) == (None, True, '""')
    assert (m.get("PID.3"), m.is_null("PID.3"), m.raw("PID.3")) == (None, False, "")
    assert (m.get("PID.4.2"), m.is_null("PID.4.2")) == (None, True)
    assert (m.get("PID.4.3"), m.is_null("PID.4.3")) == (None, False)
    assert m.get("PID.4.4") == "B"
    pid = m.segment("PID")
    assert pid is not None and (pid.is_null(2), pid.is_null(3), pid.components(4)) == (True, False, ["A", None, None, "B"])
    assert m.to_json()["segments"][1]["fields"] == ["1", None, "", [["A", None, "", "B"]], ""]
    assert m.first("PID", "2", "3", "4.1") == (None, None, "A")


# -------------------------------------------------------------------------------- batches


def test_batches_with_matching_counts() -> None:
    text = "FHS|^~\\&\rBHS|^~\\&\r" + msh("A") + "\r" + msh("B") + "\rBTS|2\rBHS|^~\\&\r" + msh("C") + "\rBTS|1\rFTS|2\r"
    f = parse_hl7(text)
    assert f.problems == []
    assert [(b.index, b.line, b.declared, b.messages) for b in f.batches] == [(0, 2, 2, 2), (1, 6, 1, 1)]
    assert [(m.control_id, m.batch, m.line) for m in f.messages] == [("A", 0, 3), ("B", 0, 4), ("C", 1, 7)]
    assert (f.file_header, f.declared_batches) == (True, 2)


def test_plain_concatenated_messages_need_no_envelope() -> None:
    f = parse_hl7("".join(msh(str(i)) + "\rPID|1\r" for i in range(5)))
    assert ([m.control_id for m in f.messages], f.batches, f.problems) == (["0", "1", "2", "3", "4"], [], [])
    assert [m.batch for m in f.messages] == [None] * 5


# ------------------------------------------------------------------ Z- and unknown segments


def test_z_segments_and_unknown_segments_are_kept() -> None:
    text = msh() + "\rZPD|1|gold^tier\rXYZ|a|b\rPID|1||X\rZPD|2|silver\r"
    m = parse_hl7(text).messages[0]
    assert m.ids == ["MSH", "ZPD", "XYZ", "PID", "ZPD"]
    assert (m.get("ZPD.2.2"), m.get("ZPD[2].2"), m.get("XYZ.2")) == ("tier", "silver", "b")
    assert m.rows("ZPD", "1", "2.1") == [("1", "gold"), ("2", "silver")]
    assert m.text == m.encode() == text


# ---------------------------------------------------------------------------------- paths


PATHS_MESSAGE = (
    msh()
    + "\rPID|1||111^^^H^MR~222^^^S&2.16.840&ISO^SS||DOE^JANE^Q||19800101\r"
    + "OBX|1|NM|A^Alpha||1\rOBX|2|NM|B^Beta||2\rOBX|3|ST|C^Gamma||three\r"
)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("PID.5.1", "DOE"),
        ("PID-5-1", "DOE"),
        ("PID.5", "DOE^JANE^Q"),
        ("OBX[3].5", "three"),
        ("OBX[2].3.2", "Beta"),
        ("PID.3(2).1", "222"),
        ("PID.3(2).4.2", "2.16.840"),
        ("PID.3.4", "H"),
        ("PID.3(3).1", None),
        ("PID.5.9", None),
        ("PID.40", None),
        ("OBX[4].5", None),
        ("NTE.1", None),
        ("PID.7", "19800101"),
    ],
)
def test_paths(path: str, value: str | None) -> None:
    assert parse_hl7(PATHS_MESSAGE).messages[0].get(path) == value


def test_path_reads_whole_segments_and_raw_text() -> None:
    m = parse_hl7(PATHS_MESSAGE).messages[0]
    assert m.get("OBX[2]") == "OBX|2|NM|B^Beta||2"
    assert m.raw("PID.3") == "111^^^H^MR~222^^^S&2.16.840&ISO^SS"
    assert m.raw("PID.3(2).4") == "S&2.16.840&ISO"
    assert str(parse_path("OBX[3].5")) == "OBX[3].5" and str(parse_path("PID.3(2).4.2")) == "PID.3(2).4.2"


def test_fast_readers_match_get() -> None:
    m = parse_hl7(PATHS_MESSAGE).messages[0]
    assert m.first("PID", "3.1", "5.1", "5.2", "7") == ("111", "DOE", "JANE", "19800101")
    assert m.rows("OBX", "3.1", "5") == [("A", "1"), ("B", "2"), ("C", "three")]
    assert m.values("OBX", 3, 2) == ["Alpha", "Beta", "Gamma"]
    assert m.first("NTE", "1") is None


BAD_PATHS = [
    ("pid.5", "`pid.5` is not an HL7 field path; write it as the standard does: `PID.5.1`, `OBX[3].5`, `PID.3(2).1` or `PID.3(2).4.2`"),
    ("PID.5.1.2.3", "`PID.5.1.2.3` is not an HL7 field path; write it as the standard does: `PID.5.1`, `OBX[3].5`, `PID.3(2).1` or `PID.3(2).4.2`"),
    ("PID.x", "`PID.x` is not an HL7 field path; write it as the standard does: `PID.5.1`, `OBX[3].5`, `PID.3(2).1` or `PID.3(2).4.2`"),
    ("", "`` is not an HL7 field path; write it as the standard does: `PID.5.1`, `OBX[3].5`, `PID.3(2).1` or `PID.3(2).4.2`"),
    ("PID.0", "`PID.0`: field numbers start at 1"),
    ("OBX[0].5", "`OBX[0].5`: segment index numbers start at 1"),
    ("PID.3(0).1", "`PID.3(0).1`: repetition numbers start at 1"),
    ("PID.5.0", "`PID.5.0`: component numbers start at 1"),
]


@pytest.mark.parametrize(("path", "message"), BAD_PATHS, ids=[p for p, _ in BAD_PATHS])
def test_bad_paths(path: str, message: str) -> None:
    m = parse_hl7(PATHS_MESSAGE).messages[0]
    with pytest.raises(ParseError) as err:
        m.get(path)
    assert str(err.value) == message
    assert err.value.context["position"] == path


# ------------------------------------------------------------------------- bad inputs


def h(ctl: str = "C1", **kw: str) -> str:
    return msh(ctl, **kw) + "\r"


BAD: list[Any] = [
    pytest.param(
        b"MSH||S|F|R|F|2024||ADT^A01|C1|P|2.5\r",
        [("message 1 MSH-2", "`MSH-2` (encoding characters) is empty; the defaults `^~\\&` are assumed", 1, 0)],
        id="msh2-empty",
    ),
    pytest.param(
        h(enc="^~").encode(),
        [("message 1 MSH-2", "`MSH-2` (encoding characters) `^~` has 2 characters where 4 or 5 are needed "
          "(component, repetition, escape, sub-component[, truncation]); the defaults fill in the missing ones", 1, 0)],
        id="msh2-short",
    ),
    pytest.param(
        ("PID|1\r" + h(enc="^~\\\\&")).encode(),
        [
            ("line 1 (PID)", 'segment `PID` outside any message (no MSH before it): "PID|1"', 1, None),
            ("message 1 MSH-2", "`MSH-2` (encoding characters) `^~\\\\&` repeats `\\`: each must differ from the others "
             "and from the field separator `|`; the defaults replace the repeated ones", 2, 0),
        ],
        id="msh2-repeats-and-segment-before-msh",
    ),
    pytest.param(
        h(enc="^~\\&#x").encode(),
        [("message 1 MSH-2", "`MSH-2` (encoding characters) `^~\\&#x` has 6 characters where 4 or 5 are allowed; the first 4 are used", 1, 0)],
        id="msh2-long",
    ),
    pytest.param(
        b"MSH|^~\\&|S|F|R|F|2024|||C1|P|2.5\r",
        [("message 1 MSH-9", "MSH-9 (message type) is empty: every message needs one, as `ADT^A01`", 1, 0)],
        id="msh9-empty",
    ),
    pytest.param(
        (h("A") + "PID|1\r" + h("")).encode(),
        [("message 2 MSH-10", "MSH-10 (message control id) is empty: every message needs one, unique per sender "
          "(acknowledgments quote it)", 3, 1)],
        id="msh10-empty",
    ),
    pytest.param(
        b"MSH|^~\\&\r",
        [
            ("message 1 MSH-9", "MSH-9 (message type) is empty: every message needs one, as `ADT^A01`", 1, 0),
            ("message 1 MSH-10", "MSH-10 (message control id) is empty: every message needs one, unique per sender "
             "(acknowledgments quote it)", 1, 0),
            ("message 1 MSH-12", "MSH-12 (version id) is empty: every message needs one, as `2.5.1`", 1, 0),
        ],
        id="msh-header-only",
    ),
    pytest.param(
        (h() + "PID|1||X\rthis is not a segment\rOBX|1\r").encode(),
        [("line 3", 'text outside any segment (a segment starts with a 3-character id): "this is not a segment"', 3, None)],
        id="text-outside-a-segment",
    ),
    pytest.param(
        (h() + "pid|1\rPIDX|2\r").encode(),
        [
            ("line 2", 'text outside any segment (a segment starts with a 3-character id): "pid|1"', 2, None),
            ("line 3", 'text outside any segment (a segment starts with a 3-character id): "PIDX|2"', 3, None),
        ],
        id="no-segment-id",
    ),
    pytest.param(
        ("BHS|^~\\&\r" + h() + "BTS|2\r").encode(),
        [("line 3 BTS-1", "batch 1 declares 2 messages (BTS-1) but holds 1", 3, None)],
        id="bts-count",
    ),
    pytest.param(
        ("FHS|^~\\&\rBHS|^~\\&\r" + h() + "BTS|1\rFTS|2\r").encode(),
        [("line 5 FTS-1", "the file declares 2 batches (FTS-1) but holds 1", 5, None)],
        id="fts-count",
    ),
    pytest.param(
        (h() + "BTS|1\r").encode(),
        [("line 2 (BTS)", "`BTS` without a `BHS` before it", 2, None)],
        id="bts-without-bhs",
    ),
    pytest.param(
        ("BHS|^~\\&\r" + h() + "BHS|^~\\&\r" + h("C2") + "BTS|1\r").encode(),
        [("line 1 (BHS)", "batch 1 has no `BTS` trailer: the file may be cut short (1 message seen)", 1, None)],
        id="bhs-inside-an-open-batch",
    ),
    pytest.param(
        ("FHS|^~\\&\rBHS|^~\\&\r" + h()).encode(),
        [
            ("line 2 (BHS)", "batch 1 has no `BTS` trailer: the file may be cut short (1 message seen)", 2, None),
            ("end of file", "the file has an `FHS` header but no `FTS` trailer: it may be cut short", None, None),
        ],
        id="cut-short",
    ),
    pytest.param(
        ("FHS|^~\r" + h() + "FTS|0\r").encode(),
        [("line 1 FHS-2", "`FHS-2` (encoding characters) `^~` has 2 characters where 4 or 5 are needed "
          "(component, repetition, escape, sub-component[, truncation]); the defaults fill in the missing ones", 1, None)],
        id="fhs2-short",
    ),
    pytest.param(
        (h(tail="||||||KLINGON-1") + "PID|1||X\r").encode(),
        [("file", "MSH-18 character set `KLINGON-1` is not known; read as UTF-8", None, None)],
        id="charset-unknown",
    ),
    pytest.param(
        (h() + "PID|1||X||Ma\x81x\r").encode("latin-1"),
        [("file", "no MSH-18 character set is declared but the bytes are not valid utf-8; read as latin-1", None, None)],
        id="charset-undeclared-fallback",
    ),
]


def _problems(data: bytes, errors: ErrorLevel = "collect") -> list[tuple[str, str, int | None, int | None]]:
    return [(p.position, p.message, p.line, p.record_index) for p in parse_hl7(data, name="bad.hl7", errors=errors).problems]


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_bad_input_positions_and_messages(data: bytes, expected: list[tuple[str, str, int | None, int | None]]) -> None:
    assert _problems(data) == expected


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_raise_level_raises_the_first_problem(data: bytes, expected: list[tuple[str, str, int | None, int | None]]) -> None:
    position, message, line, _ = expected[0]
    with pytest.raises(ParseError) as err:
        parse_hl7(data, name="bad.hl7", errors="raise")
    assert str(err.value) == f"bad.hl7: {position}: {message}"
    assert (err.value.context["file"], err.value.context["position"], err.value.context.get("line")) == ("bad.hl7", position, line)


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_ignore_level_reports_nothing_and_keeps_the_messages(data: bytes, expected: list[Any]) -> None:
    assert _problems(data, "ignore") == []
    assert [m.text for m in parse_hl7(data, errors="ignore").messages] == [m.text for m in parse_hl7(data).messages]


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_warn_level_logs_positions_only(data: bytes, expected: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="medlake.formats")
    assert _problems(data, "warn") == []
    assert [r.getMessage() for r in caplog.records] == [f"bad.hl7: {e[0]}: bad record skipped" for e in expected]
    for _, message, _, _ in expected:
        assert message not in caplog.text
    for sensitive in ("this is not a segment", "Ma", "PID|1", "KLINGON"):
        assert sensitive not in caplog.text


# ----------------------------------------------------------------------------------- ACKs


NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_ack_accept() -> None:
    m = parse_hl7("MSH|^~\\&|LAB|HOSP|EHR|CLINIC|20240506070000||ORU^R01^ORU_R01|CTL42|P|2.5.1\rPID|1\r").messages[0]
    ack = build_ack(m, "AA", now=NOW, control_id="A1")
    assert ack == "MSH|^~\\&|EHR|CLINIC|LAB|HOSP|20240506070809||ACK^R01^ACK|A1|P|2.5.1\rMSA|AA|CTL42\r"
    back = parse_hl7(ack)
    assert back.problems == []
    assert back.messages[0].get("MSA.2") == m.control_id


@pytest.mark.parametrize("code", ["AE", "AR"])
def test_ack_error_from_2_5_on_uses_err_3_and_err_8(code: str) -> None:
    m = parse_hl7("MSH|^~\\&|LAB|HOSP|EHR|CLINIC|20240506070000||ORU^R01|CTL42|T|2.5\r").messages[0]
    ack = build_ack(m, code, text="bad | value\nnext", error_code="102", now=NOW, control_id="A2")
    assert ack == (
        "MSH|^~\\&|EHR|CLINIC|LAB|HOSP|20240506070809||ACK^R01^ACK|A2|T|2.5\r"
        f"MSA|{code}|CTL42\r"
        "ERR|||102^Data type error^HL70357|E||||bad \\F\\ value\\X0A\\next\r"
    )
    err = parse_hl7(ack).messages[0].segment("ERR")
    assert err is not None and err.get(8) == "bad | value\nnext"


@pytest.mark.parametrize("version", ["2.3.1", "2.4^USA", "2"])
def test_ack_error_before_2_5_uses_err_1_and_msa_3(version: str) -> None:
    m = parse_hl7(f"MSH|^~\\&|LAB|HOSP|EHR|CLINIC|20240506070000||ADT^A01|CTL7|P|{version}\r").messages[0]
    ack = build_ack(m, "AE", text="PID-3 missing", error_code="101", now=NOW, control_id="A3")
    assert ack == (
        f"MSH|^~\\&|EHR|CLINIC|LAB|HOSP|20240506070809||ACK^A01^ACK|A3|P|{version}\r"
        "MSA|AE|CTL7|PID-3 missing\r"
        "ERR|^^^101&PID-3 missing\r"
    )


def test_ack_keeps_the_senders_delimiters() -> None:
    m = parse_hl7("MSH*:!?%*LAB*HOSP*EHR*CLINIC*2024**ORU:R01*C5*P*2.6\r").messages[0]
    ack = build_ack(m, "AR", text="no: thanks", now=NOW, control_id="A4")
    assert ack.split("\r") == [
        "MSH*:!?%*EHR*CLINIC*LAB*HOSP*20240506070809**ACK:R01:ACK*A4*P*2.6",
        "MSA*AR*C5",
        "ERR***207:Application internal error:HL70357*E****no?S? thanks",
        "",
    ]


def test_ack_for_input_that_is_no_message() -> None:
    ack = build_ack(None, "AR", text="no MSH segment", error_code="100", now=NOW, control_id="A5")
    assert ack == (
        "MSH|^~\\&|||||20240506070809||ACK^^ACK|A5|P|2.5\rMSA|AR|\r"
        "ERR|||100^Segment sequence error^HL70357|E||||no MSH segment\r"
    )


def test_messages_and_delimiters_pickle_without_their_caches() -> None:
    f = parse_hl7(h("A") + "PID|1||X\r" + h("B", enc="^~\\&#") + "OBX|1|ST|A||B\r")
    for m in f.messages:
        m.rows("OBX", "5")
    back = [pickle.loads(pickle.dumps(m)) for m in f.messages]
    assert [(m.text, m.line, m.delimiters) for m in back] == [(m.text, m.line, m.delimiters) for m in f.messages]
    assert all(m.delimiters.matchers == {} for m in back)
    assert back[1].rows("OBX", "5") == [("B",)]
    assert len(pickle.dumps(f.messages[1])) < 2 * len(f.messages[1].text) + 600  # not the whole file

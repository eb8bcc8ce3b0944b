"""`medlake inspect`: whole outputs for small files, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from medlake.cli.main import app

runner = CliRunner()

SMALL = (
    "MSH|^~\\&|LAB|HOSP|EHR|CLINIC|20240506||ORU^R01^ORU_R01|C1|P|2.5.1\r"
    'PID|1||77^^^HOSP^MR~88^^^SSA^SS||DOE^JANE||""\r'
    "OBX|1|ST|GLU^Glucose^L||5 \\S\\ 6|mmol/L&UCUM\r"
    "ZXT|x\r"
)


def write(tmp_path: Path, text: str, name: str = "in.hl7", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_text_tree(tmp_path: Path) -> None:
    res = runner.invoke(app, ["inspect", str(write(tmp_path, SMALL, bom=True))])
    assert (res.exit_code, res.stderr) == (0, "")
    assert res.stdout == (
        "message 1 · ORU^R01 (ORU_R01) · control id C1 · version 2.5.1 · line 1 · CR\n"
        "  MSH\n"
        "    MSH-1  |\n"
        "    MSH-2  ^~\\&\n"
        "    MSH-3  LAB\n"
        "    MSH-4  HOSP\n"
        "    MSH-5  EHR\n"
        "    MSH-6  CLINIC\n"
        "    MSH-7  20240506\n"
        "    MSH-9  ORU^R01^ORU_R01\n"
        "      MSH-9.1  ORU\n"
        "      MSH-9.2  R01\n"
        "      MSH-9.3  ORU_R01\n"
        "    MSH-10  C1\n"
        "    MSH-11  P\n"
        "    MSH-12  2.5.1\n"
        "  PID\n"
        "    PID-1  1\n"
        "    PID-3  77^^^HOSP^MR~88^^^SSA^SS\n"
        "      PID-3(1).1  77\n"
        "      PID-3(1).4  HOSP\n"
        "      PID-3(1).5  MR\n"
        "      PID-3(2).1  88\n"
        "      PID-3(2).4  SSA\n"
        "      PID-3(2).5  SS\n"
        "    PID-5  DOE^JANE\n"
        "      PID-5.1  DOE\n"
        "      PID-5.2  JANE\n"
        '    PID-7  "" (null)\n'
        "  OBX\n"
        "    OBX-1  1\n"
        "    OBX-2  ST\n"
        "    OBX-3  GLU^Glucose^L\n"
        "      OBX-3.1  GLU\n"
        "      OBX-3.2  Glucose\n"
        "      OBX-3.3  L\n"
        "    OBX-5  5 ^ 6\n"
        "    OBX-6  mmol/L&UCUM\n"
        "      OBX-6.1.1  mmol/L\n"
        "      OBX-6.1.2  UCUM\n"
        "  ZXT\n"
        "    ZXT-1  x\n"
    )


def test_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["inspect", "--format", "json", str(write(tmp_path, SMALL))])
    assert (res.exit_code, res.stderr) == (0, "")
    assert json.loads(res.stdout) == [
        {
            "index": 0,
            "line": 1,
            "batch": None,
            "type": "ORU",
            "trigger": "R01",
            "structure": "ORU_R01",
            "control_id": "C1",
            "version": "2.5.1",
            "delimiters": "|^~\\&",
            "terminator": "CR",
            "segments": [
                {"id": "MSH", "fields": ["|", "^~\\&", "LAB", "HOSP", "EHR", "CLINIC", "20240506", "",
                                         [["ORU", "R01", "ORU_R01"]], "C1", "P", "2.5.1"]},
                {"id": "PID", "fields": ["1", "", [["77", "", "", "HOSP", "MR"], ["88", "", "", "SSA", "SS"]], "",
                                         [["DOE", "JANE"]], "", None]},
                {"id": "OBX", "fields": ["1", "ST", [["GLU", "Glucose", "L"]], "", "5 ^ 6", [[["mmol/L", "UCUM"]]]]},
                {"id": "ZXT", "fields": ["x"]},
            ],
        }
    ]
    assert res.stdout.startswith('[\n  {\n    "index": 0,\n')


def test_problems_go_to_stderr_with_their_positions(tmp_path: Path) -> None:
    text = "MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.5\nPID|1\nBTS|3\n"
    res = runner.invoke(app, ["inspect", str(write(tmp_path, text, "bad.hl7"))])
    assert res.exit_code == 1
    assert res.stdout.splitlines()[0] == "message 1 · ADT^A01 (ADT_A01) · control id - · version 2.5 · line 1 · LF"
    assert res.stderr == (
        "problem: bad.hl7: message 1 MSH-10: MSH-10 (message control id) is empty: every message needs one, "
        "unique per sender (acknowledgments quote it)\n"
        "problem: bad.hl7: line 3 (BTS): `BTS` without a `BHS` before it\n"
    )


def test_batch_files_are_recognised(tmp_path: Path) -> None:
    text = "FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A|B|C|D|2024||ADT^A01|C1|P|2.5\rBTS|1\rFTS|1\r"
    res = runner.invoke(app, ["inspect", "-f", "json", str(write(tmp_path, text))])
    assert res.exit_code == 0
    assert [m["batch"] for m in json.loads(res.stdout)] == [0]


def test_other_formats_are_refused_with_what_is_supported(tmp_path: Path) -> None:
    path = write(tmp_path, '{"resourceType": "Bundle"}', "bundle.json")
    res = runner.invoke(app, ["inspect", str(path)])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr == (
        "error: `bundle.json` is not a format `medlake inspect` reads yet: it reads HL7 v2 files, which start "
        "with `MSH`, `FHS` or `BHS`, and X12 files, which start with `ISA`; FHIR files come in a later release\n"
    )


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["inspect", str(tmp_path / "none.hl7")])
    assert res.exit_code == 2
    assert "does not exist" in res.stderr


def test_utf16_and_leading_blank_lines_are_recognised(tmp_path: Path) -> None:
    path = tmp_path / "wide.hl7"
    path.write_bytes("\r\n\r\nMSH|^~\\&|A|B|C|D|2024||ADT^A01|C1|P|2.5\r".encode("utf-16"))
    res = runner.invoke(app, ["inspect", "-f", "json", str(path)])
    assert (res.exit_code, [m["control_id"] for m in json.loads(res.stdout)]) == (0, ["C1"])

"""`medlake ack`: whole stdout, stderr and exit code on small files.

The input is the hand-written golden 837P (tests/formats/golden/x12/837p_claim_cob.x12,
invented data), as is or with SE01 off by one.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from medlake.cli.main import app

runner = CliRunner()
GOLDEN = Path(__file__).resolve().parents[1] / "formats" / "golden" / "x12" / "837p_claim_cob.x12"
AT = ["--at", "2024-03-16T07:00"]

ISA = "ISA*00*          *00*          *ZZ*RECEIVER01     *ZZ*SUBMITTER01    *240316*0700*^*00501*000000101*0*T*:~\n"


def _file(tmp_path: Path, se01: int = 33) -> Path:
    path = tmp_path / "claims.x12"
    path.write_text(GOLDEN.read_text(encoding="utf-8").replace("SE*33*0001", f"SE*{se01}*0001"), encoding="utf-8")
    return path


def test_clean_file_prints_its_999_and_exits_0(tmp_path: Path) -> None:
    res = runner.invoke(app, ["ack", str(_file(tmp_path)), *AT])
    assert res.exit_code == 0, res.output
    assert res.stdout == (
        ISA
        + "GS*FA*RECEIVER01*SUBMITTER01*20240316*0700*1*X*005010X231A1~\n"
        "ST*999*0001*005010X231A1~\n"
        "AK1*HC*101*005010X222A1~\n"
        "AK2*837*0001*005010X222A1~\n"
        "IK5*A~\n"
        "AK9*A*1*1*1~\n"
        "SE*6*0001~\n"
        "GE*1*1~\n"
        "IEA*1*000000101~\n"
    )
    assert res.stderr == "999: 1 group, 1 set: 1 accepted, 0 accepted with errors, 0 rejected\n"


def test_rejected_set_with_ta1_exits_1(tmp_path: Path) -> None:
    res = runner.invoke(app, ["ack", str(_file(tmp_path, se01=34)), "--kind", "both", "--control-number", "7", *AT])
    assert res.exit_code == 1, res.output
    assert res.stdout == (
        ISA.replace("000000101", "000000007")
        + "TA1*000000101*240315*0930*A*000~\n"
        "GS*FA*RECEIVER01*SUBMITTER01*20240316*0700*1*X*005010X231A1~\n"
        "ST*999*0001*005010X231A1~\n"
        "AK1*HC*101*005010X222A1~\n"
        "AK2*837*0001*005010X222A1~\n"
        "IK5*R*4~\n"
        "AK9*R*1*1*0~\n"
        "SE*6*0001~\n"
        "GE*1*1~\n"
        "IEA*1*000000007~\n"
    )
    assert res.stderr == (
        "999: 1 group, 1 set: 0 accepted, 0 accepted with errors, 1 rejected; "
        "TA1: 1 interchange: 1 accepted, 0 accepted with errors, 0 rejected\n"
    )


def test_ta1_written_to_a_folder(tmp_path: Path) -> None:
    out = tmp_path / "acks"
    res = runner.invoke(app, ["ack", str(_file(tmp_path)), "--kind", "ta1", "--out", str(out), *AT])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    target = out / "claims.ta1.x12"
    assert res.stderr == f"TA1: 1 interchange: 1 accepted, 0 accepted with errors, 0 rejected; wrote {target}\n"
    assert target.read_text(encoding="utf-8") == ISA + "TA1*000000101*240315*0930*A*000~\nIEA*0*000000101~\n"


def test_file_without_isa_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "headless.x12"
    path.write_text(GOLDEN.read_text(encoding="utf-8").split("~\n", 1)[1], encoding="utf-8")
    res = runner.invoke(app, ["ack", str(path)])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr == (
        "error: `headless.x12` has no `ISA` interchange to acknowledge: a 999 answers the groups of "
        "an ISA … IEA envelope; acknowledge files that start with an ISA\n"
    )


def test_bad_timestamp_is_a_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["ack", str(_file(tmp_path)), "--at", "yesterday"])
    assert res.exit_code == 2
    assert "`yesterday` is not an ISO 8601 timestamp; write e.g. 2024-03-16T07:00" in res.stderr

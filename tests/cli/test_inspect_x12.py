"""`medlake inspect` on X12: the whole text tree, the JSON structure and problems on stderr.

The interchange is written here by hand (a minimal 005010X221A1 835)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from medlake.cli.main import app

runner = CliRunner()

X12 = (
    "ISA*00*          *00*          *ZZ*PAYER01        *ZZ*PROVIDER01     *240320*1015*^*00501*000000202*0*T*:~"
    "GS*HP*PAYER01*PROVIDER01*20240320*1015*202*X*005010X221A1~"
    "ST*835*1001~BPR*I*100*C*CHK************20240320~TRN*1*CHK1*1999999999~N1*PR*PLAN~N1*PE*CLINIC*XX*1234567893~"
    "LX*1~CLP*PCN1*1*150*100*50*12*ICN1~CAS*PR*1*50~SE*9*1001~GE*1*202~IEA*1*000000202~"
)


def test_text_tree(tmp_path: Path) -> None:
    f = tmp_path / "remit.x12"
    f.write_text(X12)
    res = runner.invoke(app, ["inspect", str(f)])
    assert res.exit_code == 0, res.output
    assert res.stdout == (
        "interchange 000000202 PAYER01 -> PROVIDER01 (ISA12 00501, ISA15 T)\n"
        "  group 202 HP 005010X221A1\n"
        "    set 1001 835 (9 segments)\n"
        "      loop ST\n"
        "        ST*835*1001\n"
        "        BPR*I*100*C*CHK************20240320\n"
        "        TRN*1*CHK1*1999999999\n"
        "        SE*9*1001\n"
        "        loop 1000A\n"
        "          N1*PR*PLAN\n"
        "        loop 1000B\n"
        "          N1*PE*CLINIC*XX*1234567893\n"
        "        loop 2000\n"
        "          LX*1\n"
        "          loop 2100\n"
        "            CLP*PCN1*1*150*100*50*12*ICN1\n"
        "            CAS*PR*1*50\n"
    )


def test_json_and_problems(tmp_path: Path) -> None:
    f = tmp_path / "remit.x12"
    f.write_text(X12.replace("SE*9*1001", "SE*8*1001"))
    res = runner.invoke(app, ["inspect", str(f), "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    (ic,) = doc["interchanges"]
    assert ic["control_number"] == "000000202"
    assert [s["family"] for g in ic["groups"] for s in g["sets"]] == ["835"]
    assert "SE01" in res.stderr and res.stderr.startswith("problem: remit.x12: interchange 000000202")

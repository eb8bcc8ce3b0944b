"""`medlake listen` refuses what it cannot serve, with the whole message."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from medlake.cli.main import app

runner = CliRunner()

CONFIG = """\
lake: {lake}
tenants:
  - name: t1
    sources:
      - {{name: adt, kind: hl7v2, location: ./inbox}}
      - {{name: ehr, kind: fhir, location: ./fhir}}
"""


def invoke(tmp_path: Path, *args: str, lake: str = "./lake") -> tuple[int, str]:
    (tmp_path / "medlake.yaml").write_text(CONFIG.format(lake=lake), encoding="utf-8")
    res = runner.invoke(app, ["listen", "-c", str(tmp_path / "medlake.yaml"), *args], terminal_width=400)
    return res.exit_code, " ".join(res.output.split())


def test_only_hl7v2_sources(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "--source", "ehr")
    assert (code, out) == (2, "error: source `ehr` is of kind `fhir`; `medlake listen` receives HL7 v2: give an `hl7v2` source")


def test_unknown_source(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "--source", "lab")
    assert (code, out) == (2, "error: tenant `t1` has no source `lab`; its sources are: `adt`, `ehr`")


def test_object_store_lake_needs_a_local_wal(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "--source", "adt", lake="s3://bucket/lake")
    assert (code, out) == (2, "error: the lake `s3://bucket/lake` is in object storage; the listener's write-ahead log "
                              "must be on a local disk: give one with `--wal-dir`")


def test_tls_needs_cert_and_key(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "--source", "adt", "--tls-cert", str(tmp_path / "cert.pem"))
    assert (code, out) == (2, "error: TLS needs both `--tls-cert` and `--tls-key`")


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out = invoke(tmp_path, "--source", "adt", "--port", str(port))
    assert code == 2
    assert out.endswith(f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another `--port` or stop "
                        "the program using it")

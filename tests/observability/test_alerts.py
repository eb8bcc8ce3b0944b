"""Alerts: a Slack-compatible webhook against a local HTTP listener (its first answer is a 500,
to prove the retry) and SMTP email against a local SMTP listener (its first greeting is a 421);
built from a real run over data with patient names, which appear in no payload."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from obs_lake import PHI, write_project

from medlake.config import AlertsConfig, ProjectConfig
from medlake.errors import ParseError
from medlake.lake.catalog import connect
from medlake.observability import Alert, alert_for_run, alerts_for, send_alerts
from medlake.pipeline import RunSummary, open_lake, run


class _Hook:
    """A local webhook listener: records each POST body; answers `codes` in turn, then 200."""

    def __init__(self, codes: list[int]) -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.codes = codes
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                hook.paths.append(self.path)
                self.send_response(hook.codes.pop(0) if hook.codes else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class _Smtp:
    """A tiny SMTP listener (stdlib sockets): stores each message; the first `refuse` connections
    are greeted with `421` (service not available: a transient reply, retried)."""

    def __init__(self, refuse: int = 0) -> None:
        self.messages: list[bytes] = []
        self.refuse = refuse
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as rf:
                if self.refuse:
                    self.refuse -= 1
                    conn.sendall(b"421 try again later\r\n")
                    continue
                conn.sendall(b"220 localhost ESMTP test\r\n")
                self._session(conn, rf)

    def _session(self, conn: socket.socket, rf: Any) -> None:
        while line := rf.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 localhost\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 end with .\r\n")
                data = b""
                while (chunk := rf.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.messages.append(data)
                conn.sendall(b"250 queued\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                conn.sendall(b"250 ok\r\n")


CHECKS = """\
checks:
  - id: feed.patients.row_count
    table: views.patient
    kind: row_count
    min: 1000
    category: completeness
    severity: error
    subject: patients
    blocks: [patient_360]
"""


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProjectConfig, RunSummary, _Hook, _Smtp]]:
    root = tmp_path_factory.mktemp("alerts")
    hook, smtp = _Hook([500]), _Smtp(refuse=1)
    (root / "checks").mkdir()
    (root / "checks" / "contract.yaml").write_text(CHECKS)
    alerts = (
        "    checks_dir: ./checks\n"
        "    alerts:\n"
        "      webhook: {url_env: OBS_TEST_HOOK}\n"
        f"      email: {{host: 127.0.0.1, port: {smtp.port}, sender: medlake@example.org, to: [oncall@example.org]}}\n"
        "      retries: 2\n"
        "      timeout_s: 5\n"
    )
    project = write_project(root, alerts)
    # the run itself goes without alerts, so each listener sees exactly the deliveries sent below
    quiet = project.model_copy(update={"tenants": tuple(t.model_copy(update={"alerts": None}) for t in project.tenants)})
    summary = run(quiet, "t", ("land", "bronze", "silver", "check"), workers=1)
    yield project, summary, hook, smtp
    hook.server.shutdown()
    smtp.sock.close()


def _mail(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _mail_text(raw: bytes) -> str:
    """Headers and decoded body (the body is transfer-encoded: raw bytes would hide a name)."""
    msg = _mail(raw)
    return "\n".join(f"{k}: {v}" for k, v in msg.items()) + "\n" + str(msg.get_content()).replace("\r\n", "\n")


def _assert_no_phi(*payloads: bytes | str) -> None:
    text = "\n".join(p.decode() if isinstance(p, bytes) else p for p in payloads)
    assert [p for p in PHI if p in text] == []


def test_a_blocking_check_alerts_by_webhook_and_email_with_retries(
    checked: tuple[ProjectConfig, RunSummary, _Hook, _Smtp],
) -> None:
    project, summary, hook, smtp = checked
    secret = f"http://127.0.0.1:{hook.port}/services/T000/B000/s3cr3t"
    deliveries = alert_for_run(project, "t", summary, env={"OBS_TEST_HOOK": secret})
    got = [(d.channel, d.event, d.ok, d.attempts, d.error) for d in deliveries]
    # webhook: the first POST got a 500, the retry went through; email: the first greeting was a 421
    assert got == [
        ("webhook", "check_blocked", True, 2, None), ("email", "check_blocked", True, 2, None),
        ("webhook", "check_failed", True, 1, None), ("email", "check_failed", True, 1, None),
    ]
    assert len(hook.bodies) == 3 and hook.paths[0] == "/services/T000/B000/s3cr3t"
    blocked = json.loads(hook.bodies[1])
    assert blocked["text"] == (
        "medlake: 1 gold mart(s) blocked by data-quality checks · tenant t\n"
        "- gold.patient_360 blocked by check(s) feed.patients.row_count\n"
        f"tenant t · run {summary.run_id} · event check_blocked"
    )
    assert [b["type"] for b in blocked["blocks"]] == ["header", "section", "context"]
    failed = json.loads(hook.bodies[2])
    assert failed["blocks"][1]["text"]["text"] == (
        "• `bronze.quarantine` (warn, feed): 1 of 4 `feed` records or objects were quarantined at bronze\n"
        "• `bronze.quarantine` (warn, fhir): 1 of 1 `fhir` records or objects were quarantined at bronze\n"
        "• `patient.gender.not_null` (warn, feed): `gender` is missing in 100% of feed patients with demographics (3 / 3)\n"
        "• `feed.patients.row_count` (error): `views.patient` has 3 patients (expected at least 1,000)"
    )
    mails = [_mail(m) for m in smtp.messages]
    assert [m["Subject"] for m in mails] == [
        "medlake: 1 gold mart(s) blocked by data-quality checks · tenant t",
        "medlake: 4 data-quality check result(s) failed · tenant t",
    ]
    assert mails[0]["To"] == "oncall@example.org"
    assert _mail_text(smtp.messages[0]).endswith(
        "- gold.patient_360 blocked by check(s) feed.patients.row_count\n"
        f"tenant t · run {summary.run_id} · event check_blocked\n"
    )
    _assert_no_phi(*hook.bodies, *[_mail_text(m) for m in smtp.messages])
    # every delivery is in meta.alerts, with the host only (the webhook path holds a secret)
    con = connect(open_lake(project, "t"), gold=False)
    rows = con.execute("select channel, event, ok, attempts, target from meta.alerts where run_id = ? "
                       "order by event, channel", [summary.run_id]).fetchall()
    con.close()
    assert rows == [
        ("email", "check_blocked", True, 2, f"127.0.0.1:{smtp.port}"), ("webhook", "check_blocked", True, 2, f"127.0.0.1:{hook.port}"),
        ("email", "check_failed", True, 1, f"127.0.0.1:{smtp.port}"), ("webhook", "check_failed", True, 1, f"127.0.0.1:{hook.port}"),
    ]


def test_a_failed_run_alert_names_the_error_class_not_its_message(
    checked: tuple[ProjectConfig, RunSummary, _Hook, _Smtp],
) -> None:
    project, summary, hook, smtp = checked
    before, mails = len(hook.bodies), len(smtp.messages)
    error = ParseError("line 2: `Quigglesworth, Zebediah` born `1937-02-11` is not valid", source="feed", stage="silver")
    deliveries = alert_for_run(project, "t", error, run_id=summary.run_id,
                               env={"OBS_TEST_HOOK": f"http://127.0.0.1:{hook.port}/x"})
    assert [(d.channel, d.event, d.ok) for d in deliveries] == [("webhook", "run_failed", True), ("email", "run_failed", True)]
    body = json.loads(hook.bodies[before])
    assert body["text"] == (f"medlake run failed · tenant t\n- error: ParseError (stage `silver`, source `feed`)\n"
                            f"tenant t · run {summary.run_id} · event run_failed")
    _assert_no_phi(*hook.bodies[before:], *[_mail_text(m) for m in smtp.messages[mails:]])
    assert "ParseError" in _mail_text(smtp.messages[-1])


def test_failures_are_recorded_not_raised() -> None:
    # a port nobody listens on, a webhook URL from an unset variable, a 4xx that is not retried
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    hook = _Hook([404])
    alert = Alert("run_failed", "t", "r1", "medlake run failed · tenant t", ("error: SourceError",))
    cfg = AlertsConfig.model_validate({
        "webhook": {"url": f"http://127.0.0.1:{hook.port}/hook"},
        "email": {"host": "127.0.0.1", "port": port, "sender": "a@example.org", "to": ["b@example.org"]},
        "retries": 2, "timeout_s": 2,
    })
    waits: list[float] = []
    got = [(d.channel, d.ok, d.attempts, d.error) for d in send_alerts(cfg, [alert], sleep=waits.append)]
    assert got == [("webhook", False, 1, "HTTP 404"), ("email", False, 3, "ConnectionRefusedError")]
    assert waits == [0.5, 1.0]  # backoff between the three email attempts
    hook.server.shutdown()
    unset = AlertsConfig.model_validate({"webhook": {"url_env": "OBS_TEST_NOT_SET"}})
    unsent = [(d.ok, d.attempts, d.error) for d in send_alerts(unset, [alert], env={})]
    assert unsent == [(False, 0, "environment variable `OBS_TEST_NOT_SET` is not set")]


def test_events_filter_and_line_cap() -> None:
    alert = Alert("check_failed", "t", "r1", "title", tuple(f"line {i}" for i in range(25)))
    assert alert.text().splitlines()[-2:] == ["- … and 5 more", "tenant t · run r1 · event check_failed"]
    cfg = AlertsConfig.model_validate({"webhook": {"url": "http://127.0.0.1:9/x"}, "events": ["run_failed"]})
    assert send_alerts(cfg, [alert]) == []
    assert alerts_for("t", "r1") == []


def test_no_alerts_config_sends_nothing(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    assert alert_for_run(project, "t", RuntimeError("x"), run_id="r1") == []


def test_the_pipeline_sends_the_alerts_when_a_run_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = _Hook([])
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "contract.yaml").write_text(CHECKS)
    monkeypatch.setenv("OBS_TEST_HOOK", f"http://127.0.0.1:{hook.port}/hook")
    project = write_project(tmp_path, "    checks_dir: ./checks\n    alerts:\n      webhook: {url_env: OBS_TEST_HOOK}\n")
    try:
        summary = run(project, "t", ("land", "bronze", "silver", "check"), workers=1)
    finally:
        hook.server.shutdown()
    texts = [json.loads(b)["text"] for b in hook.bodies]
    assert [t.splitlines()[-1] for t in texts] == [
        f"tenant t · run {summary.run_id} · event check_blocked",
        f"tenant t · run {summary.run_id} · event check_failed",
    ]
    con = connect(open_lake(project, "t"), gold=False)
    recorded = con.execute("select channel, event, ok from meta.alerts order by event").fetchall()
    con.close()
    assert recorded == [("webhook", "check_blocked", True), ("webhook", "check_failed", True)]

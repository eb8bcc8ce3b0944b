"""The MLLP listener over real sockets on 127.0.0.1: framing, replies, de-duplication, TLS, stop."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mllp_client import Client, adt, running

from medlake.formats.hl7v2 import parse_hl7
from medlake.sources.mllp_framing import frame
from medlake.sources.mllp_wal import read_segment, segments


def wal_control_ids(wal: Path) -> list[str]:
    """Control ids of every valid record in the WAL folder, in order."""
    out = []
    for n in segments(wal):
        for r in read_segment(wal, n).records:
            out.append(parse_hl7(r.payload).messages[0].control_id or "")
    return out


def connect(listener: object, tls: ssl.SSLContext | None = None) -> Client:
    host, port = listener.address  # type: ignore[attr-defined]
    c = Client(host, port, tls)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def test_frames_written_byte_by_byte(tmp_path: Path) -> None:
    with running(tmp_path / "wal") as lst:
        c = connect(lst)
        wire = frame(adt(1)) + frame(adt(2))
        for i in range(len(wire)):
            c.send(wire[i : i + 1])
        acks = c.read_acks(2)
        c.close()
    assert [(a.code, a.control_id) for a in acks] == [("AA", "C1"), ("AA", "C2")]
    assert wal_control_ids(tmp_path / "wal") == ["C1", "C2"]


def test_many_frames_in_one_packet_are_acked_in_order_with_few_fsyncs(tmp_path: Path) -> None:
    with running(tmp_path / "wal") as lst:
        c = connect(lst)
        c.send_messages([adt(i) for i in range(300)])
        acks = c.read_acks(300)
        c.close()
        stats = lst.stats
    assert [a.control_id for a in acks] == [f"C{i}" for i in range(300)]
    assert {a.code for a in acks} == {"AA"}
    assert stats.accepted == 300
    assert stats.fsyncs < 300  # group commit: a read's worth of frames shares one fsync
    assert wal_control_ids(tmp_path / "wal") == [f"C{i}" for i in range(300)]


def test_garbage_between_frames_is_skipped_and_counted(tmp_path: Path) -> None:
    with running(tmp_path / "wal") as lst:
        c = connect(lst)
        c.send(b"noise" + frame(adt(1)) + b"\r\n" + frame(adt(2)) + b"xyz")
        acks = c.read_acks(2)
        c.close()
        stats = lst.stats
    assert [a.control_id for a in acks] == ["C1", "C2"]
    assert stats.garbage_bytes == 5 + 2 + 3


def test_bad_frames(tmp_path: Path) -> None:
    with running(tmp_path / "wal", max_frame=2048) as lst:
        c = connect(lst)
        # no start byte: not a frame, no reply; the next good frame is answered normally
        c.send(adt(1) + b"\x1c\r" + frame(adt(2)))
        assert [(a.code, a.control_id) for a in c.read_acks(1)] == [("AA", "C2")]
        # oversize: rejected, named by its MSH-10; the connection goes on
        big = adt(3) + b"OBX|1|ED|PDF||" + b"QUJD" * 1000 + b"\r"
        c.send(frame(big) + frame(adt(4)))
        over, after = c.read_acks(2)
        assert (over.code, over.control_id) == ("AR", "C3")
        assert over.why == f"the message is over 2,048 bytes ({len(big):,} received); this listener accepts at most 2,048"
        assert (after.code, after.control_id) == ("AA", "C4")
        # a frame that never ends: the connection closes mid-frame; nothing is stored or acknowledged
        c.send(b"\x0b" + adt(5))
        c.close()
        other = connect(lst)  # a fresh connection still works
        other.send_messages([adt(6)])
        assert other.read_acks(1)[0].control_id == "C6"
        other.close()
        stats = lst.stats
    assert wal_control_ids(tmp_path / "wal") == ["C2", "C4", "C6"]
    assert (stats.oversize, stats.incomplete, stats.rejected) == (1, 1, 1)


def test_unparseable_message_gets_a_reject_with_err(tmp_path: Path) -> None:
    with running(tmp_path / "wal") as lst:
        c = connect(lst)
        c.send_messages([b"this is not HL7", adt(1, version="3.1"), adt(2)])
        a, b, ok = c.read_acks(3)
        c.close()
    assert (a.code, a.control_id, a.segments[2][3]) == ("AR", "", "100^Segment sequence error^HL70357")
    assert a.why == "the frame does not start with an MSH segment: it holds no HL7 v2 message"
    assert (b.code, b.control_id, b.why) == ("AR", "C1", "MSH-12 version `3.1` is not supported; this listener accepts HL7 v2.x")
    assert (ok.code, ok.control_id) == ("AA", "C2")
    assert wal_control_ids(tmp_path / "wal") == ["C2"]


def test_msh15_ne_gets_no_ack_but_is_stored(tmp_path: Path) -> None:
    with running(tmp_path / "wal") as lst:
        c = connect(lst)
        c.send_messages([adt(1, msh15="NE"), adt(2, msh15="AL"), adt(3, msh15="ER"), adt(4)])
        replies = c.read_acks(2)  # replies come in frame order: C1's and C3's would be among these
        c.close()
        stats = lst.stats
    # MSH-15 set: enhanced mode, a commit ACK; no MSH-15/16: original mode
    assert [(a.code, a.control_id) for a in replies] == [("CA", "C2"), ("AA", "C4")]
    assert stats.silent == 2
    assert wal_control_ids(tmp_path / "wal") == ["C1", "C2", "C3", "C4"]


def test_retransmissions_are_acked_but_written_once_even_after_a_restart(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    with running(wal) as lst:
        c = connect(lst)
        c.send_messages([adt(1)])
        first = c.read_acks(1)
        c.send_messages([adt(1), adt(1), adt(2)])  # a late retransmission, twice, then a new one
        again = c.read_acks(3)
        c.close()
        assert lst.stats.duplicates == 2
    with running(wal) as lst:  # the index is rebuilt from the WAL
        c = connect(lst)
        c.send_messages([adt(1), adt(2), adt(1, sender="OTHER")])
        after = c.read_acks(3)
        c.close()
        assert lst.stats.duplicates == 2
    assert [(a.code, a.control_id) for a in first + again + after] == [
        ("AA", "C1"), ("AA", "C1"), ("AA", "C1"), ("AA", "C2"), ("AA", "C1"), ("AA", "C2"), ("AA", "C1"),
    ]
    assert wal_control_ids(wal) == ["C1", "C2", "C1"]  # the last C1 is another sender's message


def test_graceful_stop_acknowledges_every_stored_message(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    with running(wal) as lst:
        c = connect(lst)
        c.send_messages([adt(0)])
        acks = c.read_acks(1)
        c.send_messages([adt(i) for i in range(1, 400)])
        lst.request_stop()
        try:
            while True:
                acks += c.read_acks(1)
        except (ConnectionError, OSError):
            pass
        c.close()
    stored = wal_control_ids(wal)
    assert [a.control_id for a in acks] == stored  # stored ⇔ acknowledged
    assert stored[:1] == ["C0"]
    assert {a.code for a in acks} <= {"AA"}


def test_two_listeners_cannot_share_a_wal(tmp_path: Path) -> None:
    from medlake.errors import SourceError

    with running(tmp_path / "wal"), pytest.raises(SourceError, match="another listener"), running(tmp_path / "wal"):
        pass


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509", reason="TLS test needs the `cryptography` package")
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medlake-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_tls(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    with running(tmp_path / "wal", tls_cert=str(cert), tls_key=str(key)) as lst:
        c = connect(lst, client_ctx)
        c.send_messages([adt(1), adt(2)])
        acks = c.read_acks(2)
        c.close()
        plain = connect(lst)  # a client without TLS: the handshake fails, nothing is stored or acknowledged
        plain.send_messages([adt(3)])
        assert b"MSA" not in plain.read_until_closed()
        plain.close()
    assert [(a.code, a.control_id) for a in acks] == [("AA", "C1"), ("AA", "C2")]
    assert wal_control_ids(tmp_path / "wal") == ["C1", "C2"]


def test_a_sender_that_pipelines_thousands_gets_every_reply_in_order(tmp_path: Path) -> None:
    import threading

    payloads = [adt(i) for i in range(5_000)]
    with running(tmp_path / "wal") as lst:
        c = connect(lst)
        sender = threading.Thread(target=c.send_messages, args=(payloads,))
        sender.start()  # the listener stops reading while replies pile up, and goes on after
        acks = c.read_acks(len(payloads))
        sender.join()
        c.close()
    assert [a.control_id for a in acks] == [f"C{i}" for i in range(5_000)]
    assert {a.code for a in acks} == {"AA"}

"""What the listener accepts, and the exact replies: MSA-2 = MSH-10, ERR saying why, MSH-15/16."""

from __future__ import annotations

import pytest

from medlake.sources.mllp_accept import judge, oversize_verdict, reply, should_reply

GOOD = b"MSH|^~\\&|LAB|HOSP|LAKE|ACME|20240101120000||ADT^A01|CTL42|P|2.5\rPID|1||123^^^MRN\r"


def unframe(data: bytes | None) -> list[list[str]]:
    assert data is not None and data[:1] == b"\x0b" and data[-2:] == b"\x1c\r"
    return [seg.split("|") for seg in data[1:-2].decode().split("\r") if seg]


def msh(**fields: str) -> bytes:
    """GOOD with some MSH fields replaced (by number) and the rest kept."""
    parts = GOOD.split(b"\r")[0].decode().split("|")
    parts += [""] * (20 - len(parts))
    for k, v in fields.items():
        parts[int(k.removeprefix("f")) - 1] = v
    return ("|".join(parts).rstrip("|") + "\rPID|1||123\r").encode()


def test_accepted_message_gets_aa_echoing_its_control_id() -> None:
    v = judge(GOOD)
    assert v.accepted and v.key is not None
    segs = unframe(reply(v, stored=True))
    assert segs[0][2:6] == ["LAKE", "ACME", "LAB", "HOSP"]  # sender and receiver swapped
    assert segs[0][8] == "ACK^A01^ACK"
    assert segs[1] == ["MSA", "AA", "CTL42"]
    assert len(segs) == 2


def test_accepted_but_not_stored_is_rejected_so_the_sender_retries() -> None:
    segs = unframe(reply(judge(GOOD), stored=False))
    assert segs[1] == ["MSA", "AR", "CTL42"]
    assert segs[2][3] == "207^Application internal error^HL70357"
    assert segs[2][8] == "the message could not be stored durably; send it again later"


BAD = [
    (b"hello", "AR", "", "100", "the frame does not start with an MSH segment: it holds no HL7 v2 message"),
    (b"PID|1||123\rMSH|^~\\&|A", "AR", "", "100", "the frame does not start with an MSH segment: it holds no HL7 v2 message"),
    (msh(f10=""), "AR", "", "101", "MSH-10 (message control id) is empty"),
    (msh(f9=""), "AR", "CTL42", "101", "MSH-9 (message type) is empty"),
    (msh(f12=""), "AR", "CTL42", "101", "MSH-12 (version id) is empty"),
    (msh(f12="3.0"), "AR", "CTL42", "203", "MSH-12 version `3.0` is not supported; this listener accepts HL7 v2.x"),
    (GOOD + GOOD, "AE", "CTL42", "100", "the frame holds 2 messages or a batch envelope; MLLP carries one message per frame"),
    (b"MSH|^^\\&|A|F|R|RF|2024||ADT^A01|C9|P|2.5\r", "AE", "C9", "102", "MSH-1/MSH-2 do not declare valid delimiters"),
]


@pytest.mark.parametrize(("payload", "code", "msa2", "err", "why"), BAD)
def test_rejects_say_why(payload: bytes, code: str, msa2: str, err: str, why: str) -> None:
    v = judge(payload)
    assert not v.accepted
    segs = unframe(reply(v))
    assert segs[1] == ["MSA", code, msa2]
    assert segs[2][0] == "ERR"
    assert segs[2][3].split("^")[0] == err
    assert segs[2][8] == why


def test_processing_id_mismatch_is_rejected_when_asked_for() -> None:
    assert judge(msh(f11="T")).accepted
    segs = unframe(reply(judge(msh(f11="T"), processing_id="P")))
    assert segs[1] == ["MSA", "AR", "CTL42"]
    assert segs[2][8] == "MSH-11 processing id `T` does not match this listener's `P`"
    assert judge(msh(f11="P^T"), processing_id="P").accepted


def test_old_versions_put_the_error_in_err_1() -> None:
    segs = unframe(reply(judge(msh(f12="2.3", f10="")), stored=True))
    assert segs[1] == ["MSA", "AR", "", "MSH-10 (message control id) is empty"]
    assert segs[2] == ["ERR", "^^^101&MSH-10 (message control id) is empty"]


@pytest.mark.parametrize(
    ("msh15", "msh16", "ok_reply", "error_reply"),
    [
        ("", "", "AA", "AR"),  # original mode: always
        ("AL", "", "CA", "CR"),  # enhanced mode: commit acknowledgments
        ("NE", "", None, None),
        ("ER", "", None, "CR"),
        ("SU", "", "CA", None),
        ("", "NE", None, None),  # only MSH-16: application acknowledgment rule
        ("", "ER", None, "AR"),
        ("NE", "AL", None, None),  # MSH-15 wins: no commit ACK (application ACKs are not sent)
        ("XX", "", "CA", "CR"),  # an unknown value is read as AL
    ],
)
def test_msh15_msh16_decide_whether_to_reply(msh15: str, msh16: str, ok_reply: str | None, error_reply: str | None) -> None:
    good = judge(msh(f15=msh15, f16=msh16))
    ok = reply(good, stored=True)
    assert (unframe(ok)[1][1] if ok else None) == ok_reply
    bad = reply(judge(msh(f15=msh15, f16=msh16, f12="9.9")))
    assert (unframe(bad)[1][1] if bad else None) == error_reply
    if ok:
        assert unframe(ok)[1][2] == "CTL42"


def test_should_reply_table() -> None:
    assert [should_reply(r, s) for r in ("AL", "NE", "ER", "SU") for s in (True, False)] == [
        True, True, False, False, False, True, True, False,
    ]


def test_oversize_reply_names_the_message_from_its_head() -> None:
    segs = unframe(reply(oversize_verdict(GOOD[:60], 20_000_000, 16_777_216)))
    assert segs[1] == ["MSA", "AR", "CTL42"]
    assert segs[2][8] == "the message is over 16,777,216 bytes (20,000,000 received); this listener accepts at most 16,777,216"
    headless = unframe(reply(oversize_verdict(b"xxxx", 100, 10)))
    assert headless[1] == ["MSA", "AR", ""]


def test_replies_never_quote_message_content() -> None:
    secret = b"MSH|^~\\&|A|F|R|RF|2024||ADT^A01||P|2.5\rPID|1||123^^^MRN||SECRET^NAME\r"
    assert b"SECRET" not in (reply(judge(secret)) or b"")

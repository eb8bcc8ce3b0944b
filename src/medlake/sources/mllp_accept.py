"""Whether the MLLP listener accepts a message, and the acknowledgment it sends back.

A message is accepted when its frame holds exactly one HL7 v2 message whose MSH names a type
(MSH-9), a control id (MSH-10) and a 2.x version (MSH-12) — and, when the listener is given a
processing id, the same MSH-11. Everything else is rejected with an ERR segment saying why;
the reply never quotes message content beyond the header fields it echoes.

Which replies are sent follows MSH-15 / MSH-16:

- both empty: original mode, always reply AA / AE / AR;
- MSH-15 set: enhanced mode, a commit acknowledgment CA / CE / CR when MSH-15 asks for it
  (AL always, NE never, ER only on error, SU only on success);
- only MSH-16 set: AA / AE / AR when MSH-16 asks for it.

The positive reply (AA or CA) is sent only after the message is fsync'd in the write-ahead
log; the listener does that part. Every reply carries MSA-2 = the message's MSH-10.
"""

from __future__ import annotations

from dataclasses import dataclass

from medlake.formats.hl7v2 import Message, build_ack, parse_hl7, read_delimiters
from medlake.sources.mllp_framing import frame
from medlake.sources.mllp_wal import message_key

RULES = ("AL", "NE", "ER", "SU")
"""HL7 table 0155: always, never, error/reject only, successful completion only."""
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the listener decided about one frame."""

    msg: Message | None
    encoding: str
    key: bytes | None  # set when the message is accepted (to be stored)
    code: str = "AA"  # AA when accepted; AE or AR when not (original-mode spelling)
    error_code: str = "207"  # HL7 table 0357, for AE/AR
    text: str | None = None  # why it was not accepted (no message content)
    rule: str = "AL"  # MSH-15 (or MSH-16) in effect
    enhanced: bool = False  # MSH-15 was set: reply with commit codes CA/CE/CR

    @property
    def accepted(self) -> bool:
        return self.key is not None


def _reject(msg: Message | None, encoding: str, code: str, error_code: str, text: str) -> Verdict:
    rule, enhanced = reply_rule(msg) if msg is not None else ("AL", False)
    return Verdict(msg, encoding, None, code, error_code, text, rule, enhanced)


def reply_rule(msg: Message) -> tuple[str, bool]:
    """(the acknowledgment rule in effect, enhanced mode?) from MSH-15 / MSH-16."""
    fields = msg.fields(0)
    accept = fields[15].strip().upper() if len(fields) > 15 else ""
    if accept:
        return (accept if accept in RULES else "AL"), True
    app = fields[16].strip().upper() if len(fields) > 16 else ""
    return (app if app in RULES else "AL"), False


def judge(payload: bytes, processing_id: str | None = None, name: str = "mllp") -> Verdict:
    """Parse one frame's payload and decide whether to accept it."""
    body = payload
    for bom in _BOMS:
        if body.startswith(bom):
            body = body[len(bom):]
            break
    if not body.lstrip(b"\r\n").startswith(b"MSH"):
        return _reject(None, "utf-8", "AR", "100", "the frame does not start with an MSH segment: it holds no HL7 v2 message")
    try:
        parsed = parse_hl7(payload, name=name, errors="collect")
    except Exception:  # the parser collects problems; anything else is still the sender's bytes
        return _reject(None, "utf-8", "AR", "207", "the message could not be read as HL7 v2")
    enc = parsed.encoding
    if not parsed.messages:
        return _reject(None, enc, "AR", "100", "no MSH segment: the frame holds no HL7 v2 message")
    msg = parsed.messages[0]
    if len(parsed.messages) > 1 or parsed.batches or parsed.file_header:
        n = len(parsed.messages)
        return _reject(msg, enc, "AE", "100",
                       f"the frame holds {n} messages or a batch envelope; MLLP carries one message per frame")
    _, problem = read_delimiters(msg.segments[0])
    if problem:
        return _reject(msg, enc, "AE", "102", "MSH-1/MSH-2 do not declare valid delimiters")
    fields = msg.fields(0)

    def f(n: int) -> str:
        return fields[n] if n < len(fields) else ""

    for n, what in ((9, "message type"), (10, "message control id"), (12, "version id")):
        if not f(n).strip():
            return _reject(msg, enc, "AR", "101", f"MSH-{n} ({what}) is empty")
    version = msg.version or ""
    if not version.startswith("2."):
        return _reject(msg, enc, "AR", "203",
                       f"MSH-12 version `{version[:20]}` is not supported; this listener accepts HL7 v2.x")
    if processing_id:
        got = f(11).split(msg.delimiters.component)[0]
        if got != processing_id:
            return _reject(msg, enc, "AR", "202",
                           f"MSH-11 processing id `{got[:10]}` does not match this listener's `{processing_id}`")
    rule, enhanced = reply_rule(msg)
    key = message_key(f(3), f(4), f(10), payload)
    return Verdict(msg, enc, key, "AA", "207", None, rule, enhanced)


def oversize_verdict(head: bytes, size: int, limit: int) -> Verdict:
    """The reject for a frame over the size limit, naming the message when its MSH was kept."""
    first = head.split(b"\r", 1)[0].split(b"\n", 1)[0]
    msg: Message | None = None
    enc = "utf-8"
    if first.lstrip(b"\xef\xbb\xbf").startswith(b"MSH"):
        parsed = parse_hl7(first + b"\r", errors="ignore")
        msg = parsed.messages[0] if parsed.messages else None
        enc = parsed.encoding
    text = f"the message is over {limit:,} bytes ({size:,} received); this listener accepts at most {limit:,}"
    return _reject(msg, enc, "AR", "207", text)


def should_reply(rule: str, success: bool) -> bool:
    return rule == "AL" or (rule == "ER" and not success) or (rule == "SU" and success)


_ENHANCED = {"AA": "CA", "AE": "CE", "AR": "CR"}


def reply(v: Verdict, stored: bool | None = None) -> bytes | None:
    """The framed acknowledgment for `v` (or None when MSH-15/16 say not to reply).

    `stored` is whether an accepted message made it to disk: False turns the reply into a
    reject (the sender should send it again later)."""
    code, error_code, text = v.code, v.error_code, v.text
    if v.accepted and stored is False:
        code, error_code = "AR", "207"
        text = "the message could not be stored durably; send it again later"
    success = code == "AA"
    if not should_reply(v.rule, success):
        return None
    if v.enhanced:
        code = _ENHANCED[code]
    ack = build_ack(v.msg, code, text if not success else None, error_code)
    try:
        data = ack.encode(v.encoding, errors="replace")
    except LookupError:
        data = ack.encode("utf-8", errors="replace")
    return frame(data)

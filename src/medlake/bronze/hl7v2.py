"""HL7 v2 objects (files of messages, MLLP micro-batches) → one bronze row per message.

Each row keeps the message's raw text exactly, the header facts (type, trigger, structure,
MSH-10 control id, sending/receiving application and facility, message time and version as
written) and the problems the parser noted in it. `message_key` = SHA-256 of sending
application, sending facility, control id and the text: the bronze stage appends a message
only if its key is not in the table yet, so a retransmitted message, or the same message in
another file, lands once.

Text outside any message (it cannot become a row) and envelope defects (batch counts that
do not match, a batch with no trailer) are quarantined with their position.
"""

from __future__ import annotations

import hashlib

import orjson
import pyarrow as pa

from medlake.bronze.delimited import BronzeOutput
from medlake.bronze.records import ObjectRef, with_lineage
from medlake.errors import ParseError
from medlake.lake.quarantine import Quarantined

HL7_KIND = "messages"

HL7_BRONZE_SCHEMA = pa.schema(
    [
        ("message_type", pa.string()),
        ("trigger_event", pa.string()),
        ("message_structure", pa.string()),
        ("control_id", pa.string()),
        ("sending_application", pa.string()),
        ("sending_facility", pa.string()),
        ("receiving_application", pa.string()),
        ("receiving_facility", pa.string()),
        ("message_time", pa.string()),
        ("version", pa.string()),
        ("processing_id", pa.string()),
        ("segment_count", pa.int32()),
        ("line_ending", pa.string()),
        ("encoding", pa.string()),
        ("batch_index", pa.int32()),
        ("message_key", pa.string()),
        ("parse_problems", pa.string()),
        ("raw", pa.string()),
    ]
)


def message_key(sending_app: str, sending_facility: str, control_id: str, text: str) -> str:
    """The idempotency key of a message: sender + control id + content."""
    h = hashlib.sha256(f"{sending_app}\x1f{sending_facility}\x1f{control_id}\x1f".encode())
    h.update(text.encode())
    return h.hexdigest()


def to_bronze(data: bytes, obj: ObjectRef) -> BronzeOutput:
    from medlake.formats.hl7v2 import parse_hl7

    try:
        parsed = parse_hl7(data, name=obj.name, errors="collect")
    except ParseError as err:  # pragma: no cover - collect does not raise; kept for safety
        return BronzeOutput(HL7_KIND, None, [_q(obj, -1, str(err.context.get("position", "file")), str(err), None)])
    per_message: dict[int, list[dict[str, str]]] = {}
    quarantined: list[Quarantined] = []
    for p in parsed.problems:
        if p.record_index is not None:
            per_message.setdefault(p.record_index, []).append({"position": p.position, "message": p.message})
        else:
            quarantined.append(_q(obj, -1, p.position, f"{obj.name}: {p.position}: {p.message}", p.text))
    if not parsed.messages:
        reason = f"{obj.name}: no HL7 v2 message (no `MSH` segment) in the object"
        quarantined.append(_q(obj, -1, "file", reason, None))
        return BronzeOutput(HL7_KIND, None, quarantined)
    cols: dict[str, list[object]] = {f.name: [] for f in HL7_BRONZE_SCHEMA}
    for msg in parsed.messages:
        text = msg.text
        msh, cs = msg.fields(0), msg.delimiters.component

        def h(n: int, msh: list[str] = msh, cs: str = cs) -> str | None:
            """MSH-n as written; for an HD (application, facility) its namespace id."""
            value = msh[n] if n < len(msh) else ""
            return (value.split(cs)[0] or value) or None

        send_app, send_fac, ctl = h(3) or "", h(4) or "", msg.control_id or ""
        cols["message_type"].append(msg.message_type)
        cols["trigger_event"].append(msg.trigger)
        cols["message_structure"].append(msg.structure)
        cols["control_id"].append(msg.control_id)
        cols["sending_application"].append(h(3))
        cols["sending_facility"].append(h(4))
        cols["receiving_application"].append(h(5))
        cols["receiving_facility"].append(h(6))
        cols["message_time"].append(h(7))
        cols["version"].append(msg.version)
        cols["processing_id"].append(h(11))
        cols["segment_count"].append(len(msg.segments))
        cols["line_ending"].append(msg.terminator)
        cols["encoding"].append(parsed.encoding)
        cols["batch_index"].append(msg.batch)
        cols["message_key"].append(message_key(send_app, send_fac, ctl, text))
        probs = per_message.get(msg.index)
        cols["parse_problems"].append(orjson.dumps(probs).decode() if probs else None)
        cols["raw"].append(text)
    table = pa.table(cols, schema=HL7_BRONZE_SCHEMA)
    index = pa.array([m.index for m in parsed.messages], pa.int64())
    return BronzeOutput(HL7_KIND, with_lineage(table, obj, index), quarantined, len(parsed.messages))


def _q(obj: ObjectRef, record: int, position: str, reason: str, raw: str | None) -> Quarantined:
    return Quarantined(obj.source, "bronze", obj.sha256, obj.name, record, position, reason, raw)

"""X12 objects → one bronze row per transaction set (ST … SE), and per TA1.

Each row keeps the set's raw text exactly (terminators and line breaks included), the ISA and
GS segments it was sent under (so silver can read the set with the sender's separators), the
envelope facts (control numbers, sender and receiver, guide version, family, usage indicator)
and the problems the parser noted in it (control-count mismatches, a missing SE …).
`set_key` = SHA-256 of sender, receiver, ST02 and the text: the bronze stage appends a set only
if its key is not in the table yet, so a re-sent file lands once.

Text outside any interchange and interchange-level defects (a missing IEA, IEA01 ≠ the number
of groups …) are quarantined with their position; the sets themselves still land.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import orjson
import pyarrow as pa

from medlake.bronze.delimited import BronzeOutput
from medlake.bronze.records import ObjectRef, with_lineage
from medlake.lake.quarantine import Quarantined

if TYPE_CHECKING:
    from medlake.formats.x12 import TransactionSet

X12_KIND = "transactions"

X12_BRONZE_SCHEMA = pa.schema(
    [
        ("family", pa.string()),
        ("set_id", pa.string()),
        ("set_control_number", pa.string()),
        ("guide", pa.string()),
        ("version", pa.string()),
        ("functional_id", pa.string()),
        ("group_control_number", pa.string()),
        ("group_version", pa.string()),
        ("interchange_control_number", pa.string()),
        ("sender_qualifier", pa.string()),
        ("sender_id", pa.string()),
        ("receiver_qualifier", pa.string()),
        ("receiver_id", pa.string()),
        ("interchange_date", pa.string()),
        ("interchange_time", pa.string()),
        ("usage_indicator", pa.string()),
        ("segment_count", pa.int32()),
        ("claim_count", pa.int32()),
        ("has_trailer", pa.bool_()),
        ("line_ending", pa.string()),
        ("encoding", pa.string()),
        ("set_key", pa.string()),
        ("parse_problems", pa.string()),
        ("isa", pa.string()),
        ("gs", pa.string()),
        ("raw", pa.string()),
    ]
)

CLAIM_SEGMENTS = {"837P": "CLM", "837I": "CLM", "837D": "CLM", "835": "CLP"}


def set_key(sender: str, receiver: str, control: str, text: str) -> str:
    """The idempotency key of a transaction set: sender, receiver, ST02 and content."""
    h = hashlib.sha256(f"{sender}\x1f{receiver}\x1f{control}\x1f".encode())
    h.update(text.encode())
    return h.hexdigest()


def _claims(ts: TransactionSet) -> int:
    sid = CLAIM_SEGMENTS.get(ts.family)
    if sid is None:
        return 0
    return sum(1 for i in range(len(ts)) if ts.segment_id(i) == sid)


def to_bronze(data: bytes, obj: ObjectRef) -> BronzeOutput:
    from medlake.formats.x12 import X12Problem, parse_x12

    parsed = parse_x12(data, name=obj.name, errors="collect")
    per_set: dict[tuple[str | None, str | None, str | None], list[dict[str, str]]] = {}
    quarantined: list[Quarantined] = []
    for p in parsed.problems:
        if isinstance(p, X12Problem) and p.transaction_set is not None:
            per_set.setdefault((p.interchange, p.group, p.transaction_set), []).append(
                {"position": p.position, "message": p.message}
            )
        else:
            quarantined.append(
                Quarantined(obj.source, "bronze", obj.sha256, obj.name, -1, p.position, f"{obj.name}: {p.position}: {p.message}", p.text)
            )
    sets = list(parsed.transaction_sets())
    if not sets:
        reason = f"{obj.name}: no X12 transaction set (no `ST` or `TA1`) in the object"
        quarantined.append(Quarantined(obj.source, "bronze", obj.sha256, obj.name, -1, "file", reason, None))
        return BronzeOutput(X12_KIND, None, quarantined)
    cols: dict[str, list[object]] = {f.name: [] for f in X12_BRONZE_SCHEMA}
    for ts in sets:
        env = ts.envelope()
        ic, g = ts.interchange, ts.group
        seg_end = ic.separators.segment
        for name in (
            "family", "set_id", "set_control_number", "guide", "version", "functional_id", "group_control_number",
            "group_version", "interchange_control_number", "sender_qualifier", "sender_id", "receiver_qualifier",
            "receiver_id", "interchange_date", "interchange_time", "usage_indicator", "segment_count", "has_trailer",
        ):
            cols[name].append(env.get(name))
        text = ts.text
        cols["claim_count"].append(_claims(ts))
        cols["line_ending"].append(parsed.line_ending)
        cols["encoding"].append(parsed.encoding)
        cols["set_key"].append(set_key(str(env.get("sender_id") or ""), str(env.get("receiver_id") or ""), str(ts.control_number or ""), text))
        probs = per_set.get((ic.control_number, g.control_number if g else None, ts.control_number))
        cols["parse_problems"].append(orjson.dumps(probs).decode() if probs else None)
        cols["isa"].append(ic.segments[0] + seg_end if ic.segments and ic.segments[0].startswith("ISA") else None)
        cols["gs"].append(ic.segments[g.start] + seg_end if g is not None else None)
        cols["raw"].append(text)
    table = pa.table(cols, schema=X12_BRONZE_SCHEMA)
    return BronzeOutput(X12_KIND, with_lineage(table, obj), quarantined, len(sets))

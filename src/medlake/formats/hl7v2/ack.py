"""Original-mode acknowledgments: `MSH` + `MSA` (+ `ERR` saying why, for AE and AR).

The reply swaps sender and receiver, echoes MSH-10 in MSA-2 (replies are matched by control
id, never by order), keeps the processing id and version, and escapes the reason text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from medlake.formats.hl7v2.delimiters import DEFAULT
from medlake.formats.hl7v2.escape import escape
from medlake.formats.hl7v2.message import Message

_SEQ = count(1)

ERROR_CODES = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "202": "Unsupported processing id",
    "203": "Unsupported version id",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}
"""HL7 table 0357 (message error condition codes)."""


def build_ack(
    msg: Message | None,
    code: str = "AA",
    text: str | None = None,
    error_code: str = "207",
    now: datetime | None = None,
    control_id: str | None = None,
) -> str:
    """The ACK for `msg` (or, when the input could not be parsed at all, a reject with no
    MSA-2). `code` is AA, AE or AR (or CA, CE, CR in enhanced mode)."""
    d = msg.delimiters if msg is not None else DEFAULT
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    fs, cs = d.field, d.component

    def h(path: str) -> str:
        return msg.raw(path) if msg is not None else ""

    ctl = control_id or f"ACK{stamp}{next(_SEQ):06d}"
    version = h("MSH.12") or "2.5"  # as written (it may carry components)
    old = _old((msg.version if msg is not None else None) or "2.5")
    msh = fs.join(
        [
            "MSH", d.encoding_characters, h("MSH.5"), h("MSH.6"), h("MSH.3"), h("MSH.4"), stamp, "",
            f"ACK{cs}{h('MSH.9.2')}{cs}ACK", ctl, h("MSH.11") or "P", version,
        ]
    )
    msa = fs.join(["MSA", code, h("MSH.10")] + ([escape(text, d)] if text and old else []))
    segments = [msh, msa]
    if code not in ("AA", "CA"):
        reason = escape(text or ERROR_CODES.get(error_code, "error"), d)
        severity = "E"  # HL7 table 0516: an error (W warning and I information never reject)
        meaning = escape(ERROR_CODES.get(error_code, "error"), d)
        if old:  # ERR-1 (ELD): segment ^ sequence ^ field ^ the code (CE: code & text)
            segments.append(fs.join(["ERR", f"{cs}{cs}{cs}{error_code}{d.subcomponent}{reason}"]))
        else:  # ERR-3 the code (CWE), ERR-4 severity, ERR-8 the text for a person
            segments.append(fs.join(["ERR", "", "", f"{error_code}{cs}{meaning}{cs}HL70357", severity, "", "", "", reason]))
    return "\r".join(segments) + "\r"


def _old(version: str) -> bool:
    """Versions before 2.5 put the error in ERR-1 (and the text in MSA-3)."""
    try:
        major, minor = (int(p) for p in [*version.split("."), "0"][:2])
    except ValueError:
        return False
    return (major, minor) < (2, 5)

"""Bytes → text for HL7 v2: byte-order marks, UTF-16, then MSH-18 with a safe fallback.

MSH-18 names the character set (`UNICODE UTF-8`, `8859/1`, `ASCII` …). When it is absent the
bytes are read as UTF-8; when the bytes do not decode as declared, the decoder falls back to
UTF-8, then Windows-1252, then Latin-1 (which reads any byte), and says so.
"""

from __future__ import annotations

import re

from medlake.formats.encoding import detect_encoding

CHARSETS = {
    "ASCII": "ascii",
    "ISO IR6": "ascii",
    "8859/1": "latin-1",
    "ISO IR100": "latin-1",
    "8859/2": "iso8859-2",
    "ISO IR101": "iso8859-2",
    "8859/3": "iso8859-3",
    "ISO IR109": "iso8859-3",
    "8859/4": "iso8859-4",
    "ISO IR110": "iso8859-4",
    "8859/5": "iso8859-5",
    "ISO IR144": "iso8859-5",
    "8859/6": "iso8859-6",
    "ISO IR127": "iso8859-6",
    "8859/7": "iso8859-7",
    "ISO IR126": "iso8859-7",
    "8859/8": "iso8859-8",
    "ISO IR138": "iso8859-8",
    "8859/9": "iso8859-9",
    "ISO IR148": "iso8859-9",
    "8859/15": "iso8859-15",
    "UNICODE": "utf-8",
    "UNICODE UTF-8": "utf-8",
    "ISO IR192": "utf-8",
    "UNICODE UTF-16": "utf-16",
    "UNICODE UTF-32": "utf-32",
    "BIG-5": "big5",
    "GB 18030-2000": "gb18030",
    "KS X 1001": "euc_kr",
    "ISO IR87": "iso2022_jp",
    "ISO IR159": "iso2022_jp_2",
}

_MSH = re.compile(rb"(?:^|[\r\n])MSH(.)")


def declared_charset(data: bytes) -> str | None:
    """MSH-18 of the first MSH in `data` (read as bytes, before any decoding)."""
    m = _MSH.search(data[:65536])
    if m is None:
        return None
    fs = m.group(1)
    end = len(data)
    for stop in (b"\r", b"\n"):
        k = data.find(stop, m.end())
        if 0 <= k < end:
            end = k
    fields = data[m.start(1) - 3 : end].split(fs)
    # fields[0] is "MSH", fields[1] is MSH-2, so MSH-n is fields[n - 1]
    if len(fields) < 18:
        return None
    rep = fields[1][1:2] or b"~"  # the repetition character MSH-2 declares
    value = fields[17].split(rep)[0].strip()
    return value.decode("ascii", "replace") or None


def decode_hl7(data: bytes) -> tuple[str, str, str | None]:
    """(text, codec used, a sentence when the declared charset could not be honoured)."""
    codec, skip, _ = detect_encoding(data)
    body = data[skip:]
    if codec != "utf-8":
        try:
            return body.decode(codec), codec, None
        except UnicodeDecodeError:
            return body.decode("latin-1"), "latin-1", f"the bytes are not valid {codec} despite the byte-order mark; read as Latin-1"
    declared = declared_charset(body)
    want = CHARSETS.get(declared.upper()) if declared else "utf-8"
    note = None
    if declared and want is None:
        note = f"MSH-18 character set `{declared}` is not known; read as UTF-8"
        want = "utf-8"
    assert want is not None
    try:
        return body.decode(want), want, note
    except UnicodeDecodeError:
        pass
    for fallback in ("utf-8", "cp1252", "latin-1"):
        if fallback == want:
            continue
        try:
            text = body.decode(fallback)
        except UnicodeDecodeError:
            continue
        said = f"MSH-18 says `{declared}`" if declared else "no MSH-18 character set is declared"
        return text, fallback, f"{said} but the bytes are not valid {want}; read as {fallback}"
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover

"""An HL7 v2 file (or MLLP payload) → messages, batches, and the problems found on the way.

Segments end in `\\r` by the standard; `\\n` and `\\r\\n` are accepted too, and which one was
seen is recorded. A message starts at each `MSH`; `FHS/BHS … BTS/FTS` batch envelopes are
checked against their counts (BTS-1 messages per batch, FTS-1 batches per file) and plain
concatenated messages need no envelope. Z-segments and unknown segments are kept as they are.
In a file whose segments end in line feeds, a line that does not start with a segment id
continues the segment before it (multi-line text that a sender failed to escape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medlake.errors import ErrorLevel
from medlake.formats.hl7v2.batch import ENVELOPE, Batch, Envelope
from medlake.formats.hl7v2.charset import decode_hl7
from medlake.formats.hl7v2.delimiters import DEFAULT, Delimiters, read_delimiters
from medlake.formats.hl7v2.message import Lines, Message
from medlake.formats.problems import Problem, quote, report


@dataclass
class Hl7File:
    """What one file or MLLP payload held."""

    messages: list[Message]
    problems: list[Problem] = field(default_factory=list)
    """Text that could not become a message (it is quarantined), and envelope or header
    defects of messages that were kept (`record_index` names the message)."""
    encoding: str = "utf-8"
    line_ending: str = "CR"
    batches: list[Batch] = field(default_factory=list)
    file_header: bool = False
    declared_batches: int | None = None


def _terminator(text: str) -> tuple[str | None, str]:
    """The one segment terminator `text` uses (or `None` when it mixes them), and its label."""
    has_cr, has_lf = "\r" in text, "\n" in text
    if has_cr and not has_lf:
        return "\r", "CR"
    if has_lf and not has_cr:
        return "\n", "LF"
    if not has_cr:
        return "\r", "CR"
    crlf = text.count("\r\n")
    if crlf == text.count("\r") == text.count("\n"):
        return "\r\n", "CRLF"
    return None, "mixed"


def _lines(text: str, term: str | None) -> tuple[list[str], list[str]]:
    """(segment texts, the terminator after each). Blank lines join the terminator before them."""
    if term is not None and term + term not in text and not text.startswith(term):
        lines = text.split(term)
        if lines[-1] == "":
            lines.pop()
            return lines, [term] * len(lines)
        terms = [term] * len(lines)
        terms[-1] = ""
        return lines, terms
    lines, terms = [], []
    chunks = text.split("\r")
    last = len(chunks) - 1
    for k, chunk in enumerate(chunks):
        subs = chunk.split("\n") if "\n" in chunk else [chunk]
        end = len(subs) - 1
        for j, line in enumerate(subs):
            brk = "\n" if j < end else ("\r" if k < last else "")
            if line == "":
                if terms:
                    terms[-1] += brk
                continue
            lines.append(line)
            terms.append(brk)
    return lines, terms


_ID = r"[A-Z][A-Z0-9]{2}(?![A-Za-z0-9])"
_SEGMENT_ID = re.compile(_ID)
_BREAK = re.compile(r"\r\n?|\n")
_NOT_PLAIN = {t: re.compile(re.escape(t) + f"(?!(?!{'|'.join(ENVELOPE)}){_ID})") for t in ("\r", "\n", "\r\n")}
"""A terminator not followed by the id of a message segment: a blank line, a line that is no
segment, or a batch envelope (one regex pass finds all three)."""


def _one_terminator(text: str) -> str | None:
    """The terminator of a text the fast path can read (one terminator, no blank line, every
    line a message segment, MSH first), or None."""
    if not text.startswith("MSH") or _SEGMENT_ID.match(text) is None:
        return None
    brk = _BREAK.search(text)
    term = brk.group() if brk is not None else "\r"
    if term == "\r\n":
        if not text.count("\r") == text.count("\n") == text.count("\r\n"):
            return None
    elif ("\n" if term == "\r" else "\r") in text:
        return None
    body = text[: -len(term)] if text.endswith(term) else text
    return None if _NOT_PLAIN[term].search(body) else term


def _fast(text: str, out: Hl7File, name: str, errors: ErrorLevel) -> bool:
    """The common case in a few passes of C: one terminator, no blank lines, every line a
    segment, no batch envelope, MSH first. Returns False (and does nothing) otherwise.

    Messages are cut at each terminator + `MSH` and kept as text; only the header is looked
    at (its delimiters, and MSH-9, -10 and -12 present), and line numbers are counted when
    someone asks for them (`Lines`)."""
    term = _one_terminator(text)
    if term is None:
        return False
    out.line_ending = _LABELS[term]
    body = text[: -len(term)] if text.endswith(term) else text
    parts = body.split(term + "MSH")
    last = len(parts) - 1 if body is text else -1  # the message with no terminator at its end
    messages, make = out.messages, Message.from_text
    lines = Lines(term)
    bodies = lines.bodies
    prefix = "\x00"  # "MSH|^~\\&|" of the last header read without a problem
    for k, part in enumerate(parts):
        mtext = part if k == 0 else "MSH" + part
        bodies.append(mtext)
        cut = mtext.find(term)
        head = mtext if cut < 0 else mtext[:cut]
        if not head.startswith(prefix):
            d, problem = read_delimiters(head)
            prefix = _prefix(head, d) if problem is None else "\x00"
            if problem:
                report(Problem(problem, f"message {k + 1} MSH-2", lines.line(k), k, head[:80]), errors, out.problems, name)
        msg = make(mtext, term, "" if k == last else term, d, k, lines)
        messages.append(msg)
        f = head.split(d.field, 12)  # f[n - 1] is MSH-n
        if len(f) < 12 or not f[8] or not f[9] or not f[11]:
            _check_header(msg, out, name, errors)
    return True


def _prefix(head: str, d: Delimiters) -> str:
    """`MSH|^~\\&|`: a header that starts with it declares the same delimiters (no prefix when
    the header ends before the separator after MSH-2)."""
    prefix = head[: 5 + len(d.encoding_characters)]
    return prefix if prefix.endswith(d.field) else "\x00"


_LABELS = {"\r": "CR", "\n": "LF", "\r\n": "CRLF"}


def parse_hl7(
    data: bytes | str,
    *,
    name: str = "<bytes>",
    errors: ErrorLevel = "collect",
) -> Hl7File:
    """Parse every message in `data`. Problems go through the error level; a message with a
    problem in its header is still returned (the problem names it); text outside any message
    is reported and skipped."""
    if isinstance(data, bytes):
        text, encoding, note = decode_hl7(data)
    else:
        text, encoding, note = data.lstrip("\ufeff"), "utf-8", None
    problems: list[Problem] = []
    if note:
        report(Problem(note, "file"), errors, problems, name)
    out = Hl7File([], problems, encoding)
    if not _fast(text, out, name, errors):
        term, out.line_ending = _terminator(text)
        lines, terms = _lines(text, term)
        _walk(lines, terms, out, name, errors)
    return out


def _breaks(term: str) -> int:
    if term in ("\r", "\n", "\r\n"):
        return 1
    return term.count("\n") + term.count("\r") - term.count("\r\n")


def _segments(lines: list[str], terms: list[str], out: Hl7File, name: str, errors: ErrorLevel) -> tuple[list[str], list[str], list[int]]:
    """Lines → segments: continuation lines joined to the segment before them (in files whose
    segments end in line feeds), text that is no segment reported and left out."""
    segs: list[str] = []
    seg_terms: list[str] = []
    seg_lines: list[int] = []
    ids_ok: set[str] = set()
    lf_file = out.line_ending != "CR"
    line_no = 1
    for line, term in zip(lines, terms, strict=True):
        if line.startswith("\ufeff"):  # files concatenated with their byte-order marks
            line = line[1:]
        sid = line[:3]
        if sid not in ids_ok or (len(line) > 3 and line[3].isalnum()):
            if _SEGMENT_ID.match(line):
                ids_ok.add(sid)
            elif segs and lf_file and segs[-1][:3] not in ENVELOPE:
                segs[-1] = segs[-1] + seg_terms[-1] + line
                seg_terms[-1] = term
                line_no += _breaks(term)
                continue
            else:
                msg = f"text outside any segment (a segment starts with a 3-character id): {quote(line)}"
                report(Problem(msg, f"line {line_no:,}", line_no, None, line), errors, out.problems, name)
                line_no += _breaks(term)
                continue
        segs.append(line)
        seg_terms.append(term)
        seg_lines.append(line_no)
        line_no += _breaks(term)
    return segs, seg_terms, seg_lines


def _walk(lines: list[str], terms: list[str], out: Hl7File, name: str, errors: ErrorLevel) -> None:
    segs, seg_terms, seg_lines = _segments(lines, terms, out, name, errors)
    d: Delimiters = DEFAULT
    start = -1
    batch: Batch | None = None
    envelope = Envelope(out, name, errors)

    def close(end: int) -> None:
        nonlocal start
        if start < 0:
            return
        msg = Message(segs[start:end], seg_terms[start:end], d, len(out.messages), seg_lines[start], batch.index if batch else None)
        out.messages.append(msg)
        if batch is not None:
            batch.messages += 1
        _check_header(msg, out, name, errors)
        start = -1

    for i, seg in enumerate(segs):
        sid = seg[:3]
        if sid == "MSH":
            close(i)
            d, problem = read_delimiters(seg)
            start = i
            if problem:
                where = f"message {len(out.messages) + 1} MSH-2"
                report(Problem(problem, where, seg_lines[i], len(out.messages), seg[:80]), errors, out.problems, name)
        elif sid in ENVELOPE:
            close(i)
            batch = envelope.segment(seg, sid, seg_lines[i], batch)
        elif start < 0:
            where = f"line {seg_lines[i]:,} ({sid})"
            msg = f"segment `{sid}` outside any message (no MSH before it): {quote(seg)}"
            report(Problem(msg, where, seg_lines[i], None, seg), errors, out.problems, name)
    close(len(segs))
    envelope.end(batch)


_REQUIRED = (
    (9, "MSH-9 (message type) is empty: every message needs one, as `ADT^A01`"),
    (10, "MSH-10 (message control id) is empty: every message needs one, unique per sender (acknowledgments quote it)"),
    (12, "MSH-12 (version id) is empty: every message needs one, as `2.5.1`"),
)


def _check_header(msg: Message, out: Hl7File, name: str, errors: ErrorLevel) -> None:
    """The MSH fields every message needs; a message missing one is kept, and named."""
    fields = msg.fields(0)
    for n, text in _REQUIRED:
        if n >= len(fields) or not fields[n]:
            report(Problem(text, f"message {msg.index + 1} MSH-{n}", msg.line, msg.index, None), errors, out.problems, name)

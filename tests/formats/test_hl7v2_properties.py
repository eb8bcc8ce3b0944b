"""HL7 v2 parser properties: random messages round-trip exactly, and every value the parser
returns equals what an independent reference splitter (plain `str.split` and a tiny unescape
written here) returns.

The messages are random down to the sub-component: random distinct delimiters (4 or 5
encoding characters), random segment ids (Z-segments included), fields, repetitions,
components, sub-components, and leaf text that contains the delimiter characters themselves,
line breaks and `""`, written with the parser's `escape()`. Both read paths are covered: one
terminator for the whole text (the fast path) and a terminator per segment with blank lines
(the general path).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medlake.formats.hl7v2 import Delimiters, Message, escape, parse_hl7, unescape

PUNCTUATION = "|^~\\&#*!@$%+=:;/?<>{}[]()'`,."
"""Delimiter characters to draw from (HL7 allows any character that is not a letter or digit)."""

Leaf = str
Component = list[Leaf]  # sub-components
Repetition = list[Component]
Field = list[Repetition]
RESERVED = {"MSH", "FHS", "BHS", "BTS", "FTS"}


@dataclass
class Generated:
    d: Delimiters
    messages: list[list[tuple[str, list[Field]]]]  # per message: (segment id, fields) per segment
    texts: list[list[str]]  # per message: the segment strings as written


# --------------------------------------------------------------------------- strategies


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    n = draw(st.sampled_from([5, 6]))  # field separator + 4 or 5 encoding characters
    chars = draw(st.lists(st.sampled_from(PUNCTUATION), min_size=n, max_size=n, unique=True))
    return Delimiters(*chars) if n == 6 else Delimiters(*chars, truncation="")


def leaf_text(d: Delimiters) -> st.SearchStrategy[str]:
    specials = d.field + d.component + d.repetition + d.escape + d.subcomponent + d.truncation
    alphabet = st.sampled_from(list('abXY09 é"-') + list(specials) + ["\r", "\n"])
    return st.one_of(st.just(""), st.just('""'), st.text(alphabet, max_size=6))


def field(d: Delimiters) -> st.SearchStrategy[Field]:
    component = st.lists(leaf_text(d), min_size=1, max_size=2)
    repetition = st.lists(component, min_size=1, max_size=3)
    return st.lists(repetition, min_size=1, max_size=2)


ABSENT = "QQQ"  # the segment id the fast readers are asked for and never find: never generated
segment_id = st.from_regex(r"Z[A-Z0-9]{2}|[A-Y][A-Z0-9]{2}", fullmatch=True).filter(lambda s: s not in RESERVED | {ABSENT})


def write_field(f: Field, d: Delimiters) -> str:
    return d.repetition.join(
        d.component.join(d.subcomponent.join(escape(s, d) for s in comp) for comp in rep) for rep in f
    )


@st.composite
def messages(draw: st.DrawFn) -> Generated:
    d = draw(delimiters())
    out: list[list[tuple[str, list[Field]]]] = []
    texts: list[list[str]] = []
    for k in range(draw(st.integers(1, 2))):
        header: list[Field] = [draw(field(d)), *[[[[""]]]] * 4, draw(field(d))]  # MSH-3 … MSH-8
        header += [[[["ORU"], ["R01"]]], [[[f"C{k}"]]], [[["P"]]], [[["2.5"]]]]  # MSH-9 … MSH-12
        header += draw(st.lists(field(d), max_size=2))
        segs: list[tuple[str, list[Field]]] = [("MSH", header)]
        for _ in range(draw(st.integers(0, 3))):
            segs.append((draw(segment_id), draw(st.lists(field(d), max_size=4))))
        out.append(segs)
        seg_texts = ["MSH" + d.field + d.encoding_characters + d.field + d.field.join(write_field(f, d) for f in header)]
        seg_texts += [d.field.join([sid] + [write_field(f, d) for f in fields]) for sid, fields in segs[1:]]
        texts.append(seg_texts)
    return Generated(d, out, texts)


# --------------------------------------------------------------------------- the reference


def ref_unescape(value: str, d: Delimiters) -> str:
    """The escapes `escape()` writes, decoded by a plain scan (no code shared with the parser)."""
    table = {"F": d.field, "S": d.component, "T": d.subcomponent, "R": d.repetition, "E": d.escape,
             "X0D": "\r", "X0A": "\n"}
    if d.truncation:
        table["P"] = d.truncation
    out, i = "", 0
    while i < len(value):
        if value[i] == d.escape:
            j = value.index(d.escape, i + 1)
            out += table[value[i + 1 : j]]
            i = j + 1
        else:
            out += value[i]
            i += 1
    return out


def ref_messages(text: str, terms: tuple[str, ...]) -> list[list[str]]:
    """Segments grouped into messages: split on the terminators, drop blank lines, a new
    message at each MSH."""
    lines = [text]
    for t in terms:
        lines = [part for line in lines for part in line.split(t)]
    out: list[list[str]] = []
    for line in lines:
        if not line:
            continue
        if line.startswith("MSH"):
            out.append([])
        out[-1].append(line)
    return out


def ref_value(seg: str, d: Delimiters, n: int, r: int, c: int, s: int) -> str | None:
    fields = seg.split(d.field)
    if seg.startswith("MSH"):
        fields.insert(1, d.field)
    raw = fields[n] if n < len(fields) else ""
    parts = [raw]
    for sep, i in ((d.repetition, r), (d.component, c), (d.subcomponent, s)):
        split = parts[0].split(sep)
        if i > len(split):
            return None
        parts = [split[i - 1]]
    value = parts[0]
    return None if value in ("", '""') else ref_unescape(value, d)


def truth(f: Field, r: int, c: int, s: int) -> str | None:
    """The value as generated, before it was written."""
    try:
        value = f[r - 1][c - 1][s - 1]
    except IndexError:
        return None
    return None if value in ("", '""') else value


# --------------------------------------------------------------------------- the checks


def check_values(m: Message, gen_segments: list[tuple[str, list[Field]]], d: Delimiters) -> None:
    seen: dict[str, int] = {}
    for seg_text, (sid, fields) in zip(m.segments, gen_segments, strict=True):
        seen[sid] = occ = seen.get(sid, 0) + 1
        view = m.segment(sid, occ)
        first = 3 if sid == "MSH" else 1
        for n, f in enumerate(fields, start=first):
            for r, rep in enumerate(f, start=1):
                for c, comp in enumerate(rep, start=1):
                    for s in range(1, len(comp) + 1):
                        path = f"{sid}[{occ}].{n}({r}).{c}.{s}"
                        expected = ref_value(seg_text, d, n, r, c, s)
                        assert expected == truth(f, r, c, s), path
                        assert m.get(path) == expected, path
                        assert view is not None and view.get(n, c, s, r) == expected, path
    msh = m.segment("MSH")
    assert msh is not None and msh.get(1) == d.field and msh.get(2) == d.encoding_characters
    assert m.get("MSH.1") == d.field and m.get("MSH.2") == d.encoding_characters


def check_fast_readers(m: Message, gen_segments: list[tuple[str, list[Field]]]) -> None:
    """`rows`, `first` and `values` (regex-backed on an unsplit message) agree with `get`."""
    sids = sorted({sid for sid, _ in gen_segments[1:]})
    for sid in sids:
        count = sum(1 for s, _ in gen_segments if s == sid)
        paths = ("1", "2.1", "2.2", "3", "1.3")
        rows = m.rows(sid, *paths)
        assert len(rows) == count
        for i, got in enumerate(rows, start=1):
            assert got == tuple(m.get(f"{sid}[{i}].{p}") for p in paths), (sid, i)
        assert m.first(sid, *paths) == rows[0]
        assert m.first(sid, "4.2", "1") == (m.get(f"{sid}.4.2"), m.get(f"{sid}.1"))
        assert m.values(sid, 2, 1) == [r[1] for r in rows]
        assert m.values(sid, 3) == [r[3] for r in rows]
        assert m.values(sid, 2, 2, 1, 2) == [m.get(f"{sid}[{i}].2(2).2.1") for i in range(1, count + 1)]
    assert m.first(ABSENT, "1") is None and m.rows(ABSENT, "1") == []


def check(gen: Generated, text: str, terms: tuple[str, ...]) -> None:
    parsed = parse_hl7(text)
    assert parsed.problems == []
    assert len(parsed.messages) == len(gen.messages)
    assert "".join(m.text for m in parsed.messages) == text
    for m, gen_segments, seg_texts, ref in zip(
        parsed.messages, gen.messages, gen.texts, ref_messages(text, terms), strict=True
    ):
        assert m.segments == seg_texts == ref
        assert m.encode() == m.text
        assert m.delimiters == gen.d
        check_values(m, gen_segments, gen.d)
    for m, gen_segments in zip(parse_hl7(text).messages, gen.messages, strict=True):
        check_fast_readers(m, gen_segments)  # on fresh messages: the unsplit fast path
        assert m.segments == m.segments  # now split: the same answers from the list
        check_fast_readers(m, gen_segments)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gen=messages(), term=st.sampled_from(["\r", "\n", "\r\n"]), trailing=st.booleans())
def test_one_terminator_round_trips_and_matches_the_reference(gen: Generated, term: str, trailing: bool) -> None:
    text = term.join(s for seg_texts in gen.texts for s in seg_texts) + (term if trailing else "")
    check(gen, text, (term,))
    parsed = parse_hl7(text.encode("utf-8"))
    if term in text:  # (one segment and no terminator says nothing: CR, the standard's, is assumed)
        assert parsed.line_ending == {"\r": "CR", "\n": "LF", "\r\n": "CRLF"}[term]
    assert [m.text for m in parsed.messages] == [m.text for m in parse_hl7(text).messages]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gen=messages(), data=st.data())
def test_mixed_terminators_and_blank_lines_round_trip(gen: Generated, data: st.DataObject) -> None:
    segments = [s for seg_texts in gen.texts for s in seg_texts]
    breaks = data.draw(st.lists(
        st.lists(st.sampled_from(["\r", "\n", "\r\n"]), min_size=1, max_size=3).map("".join),
        min_size=len(segments), max_size=len(segments),
    ))
    text = "".join(s + b for s, b in zip(segments, breaks, strict=True))
    check(gen, text, ("\r\n", "\r", "\n"))
    lines = parse_hl7(text).messages
    assert [m.line for m in lines] == [1 + sum(_count_lines(b) for b in breaks[: _first(gen, k)]) for k in range(len(gen.texts))]


def _first(gen: Generated, k: int) -> int:
    """The index (among all segments) of message k's MSH."""
    return sum(len(t) for t in gen.texts[:k])


def _count_lines(brk: str) -> int:
    return brk.count("\n") + brk.count("\r") - brk.count("\r\n")


@settings(max_examples=200, deadline=None)
@given(d=delimiters(), data=st.data())
def test_escape_then_unescape_is_the_identity(d: Delimiters, data: st.DataObject) -> None:
    value = data.draw(leaf_text(d))
    written = escape(value, d)
    for c in (d.field, d.component, d.repetition, d.subcomponent, d.truncation, "\r", "\n"):
        assert not c or c not in written
    assert unescape(written, d) == value == ref_unescape(written, d)

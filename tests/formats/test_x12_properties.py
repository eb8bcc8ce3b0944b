"""Round-trip property tests: random separators and layouts come back exactly, and split the
same way as a plain reference splitter written here (an independent computation)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from medlake.formats.x12 import parse_x12

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
FILL = " \t\r\n"
ENVELOPE = {"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1", "HL"}
"""Ids the body never uses: envelopes are generated on purpose, and HL is checked (and so
would be reported) as a hierarchy."""


@dataclass(frozen=True)
class Seps:
    element: str
    component: str
    repetition: str
    segment: str
    brk: str


@st.composite
def separators(draw: st.DrawFn) -> Seps:
    chars = draw(st.lists(st.sampled_from(PUNCTUATION), min_size=4, max_size=4, unique=True))
    brk = draw(st.sampled_from(["", "\n", "\r\n", "\r", "\n  "]))
    return Seps(chars[0], chars[1], chars[2], chars[3], brk)


def _value_chars(seps: Seps) -> str:
    used = {seps.element, seps.component, seps.repetition, seps.segment}
    return "".join(c for c in "ABCXYZ0129 .-/&#" if c not in used)


@st.composite
def element(draw: st.DrawFn, seps: Seps) -> str:
    leaf = st.text(_value_chars(seps), max_size=6)
    comps = st.lists(leaf, min_size=1, max_size=3).map(seps.component.join)
    return draw(st.lists(comps, min_size=1, max_size=2).map(seps.repetition.join))


@st.composite
def body_segment(draw: st.DrawFn, seps: Seps) -> str:
    sid = draw(
        st.from_regex(r"[A-Z][A-Z0-9]{1,2}", fullmatch=True).filter(lambda s: s not in ENVELOPE)
    )
    elements = draw(st.lists(element(seps), max_size=6))
    return seps.element.join([sid, *elements])


def isa(seps: Seps, control: str) -> str:
    e = seps.element
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
              "240101", "1200", seps.repetition, "00501", control, "0", "T", seps.component]
    return e.join(fields)


@st.composite
def files(draw: st.DrawFn) -> tuple[str, list[Seps], list[list[str]], int]:
    """(text, separators per interchange, the segments per interchange, number of sets)."""
    n_sets = 0
    text = ""
    all_seps: list[Seps] = []
    all_segments: list[list[str]] = []
    for i in range(draw(st.integers(1, 2))):
        seps = draw(separators())
        e = seps.element
        control = f"{i + 1:09d}"
        segs = [isa(seps, control)]
        groups = draw(st.integers(0, 2))
        for g in range(groups):
            sets = draw(st.integers(1, 3))
            segs.append(e.join(["GS", "HC", "S", "R", "20240101", "1200", str(g + 1), "X", "005010X222A1"]))
            for k in range(sets):
                body = draw(st.lists(body_segment(seps), max_size=8))
                number = f"{k + 1:04d}"
                segs.append(e.join(["ST", "837", number, "005010X222A1"]))
                segs += body
                segs.append(e.join(["SE", str(len(body) + 2), number]))
            segs.append(e.join(["GE", str(sets), str(g + 1)]))
            n_sets += sets
        segs.append(e.join(["IEA", str(groups), control]))
        text += "".join(s + seps.segment + seps.brk for s in segs)
        all_seps.append(seps)
        all_segments.append(segs)
    return text, all_seps, all_segments, n_sets


def reference_split(text: str, seps: Seps) -> list[list[str]]:
    """The plain splitter: terminator, then line breaks off the front, then elements."""
    fill = "".join(c for c in FILL if c not in (seps.element, seps.component, seps.repetition, seps.segment))
    pieces = (p.lstrip(fill) for p in text.split(seps.segment))
    return [p.split(seps.element) for p in pieces if p]


@settings(max_examples=200, deadline=None)
@given(files())
def test_random_layouts_round_trip_and_split_like_the_reference(
    case: tuple[str, list[Seps], list[list[str]], int],
) -> None:
    text, seps, segments, n_sets = case
    f = parse_x12(text)
    assert f.to_x12() == text
    assert f.problems == []
    assert len(f.interchanges) == len(seps)
    for ic, s, segs in zip(f.interchanges, seps, segments, strict=True):
        got = ic.separators
        assert (got.element, got.component, got.repetition, got.segment) == (
            s.element, s.component, s.repetition, s.segment
        )
        assert [x.split(s.element) for x in ic.segments] == [x.split(s.element) for x in segs]
        assert [x.split(s.element) for x in ic.segments] == reference_split(ic.text, s)
    sets = list(f.transaction_sets())
    assert len(sets) == n_sets
    for ts in sets:
        e = ts.interchange.separators.element
        assert ts.segments == [x.split(e) for x in ts.raw_segments]
        assert ts.segments[0][0] == "ST" and ts.segments[-1][0] == "SE"
        assert ts.text == "".join(
            seg + ts.interchange.separators.segment + seps[ts.interchange.index].brk
            for seg in ts.raw_segments
        )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"ISAGETE*~:^|\n\r 0123456789", "ISA*", "~\n", "ST*", "SE*", "HL*", "GS*"]),
        max_size=150,
    ).map("".join)
)
def test_any_text_comes_back_exactly(text: str) -> None:
    f = parse_x12(text)
    assert f.to_x12() == text


@settings(max_examples=100, deadline=None)
@given(files(), st.integers(0, 10_000))
def test_a_file_cut_anywhere_comes_back_exactly(case: tuple[str, list[Seps], list[list[str]], int], at: int) -> None:
    text = case[0][: at % (len(case[0]) + 1)]
    f = parse_x12(text)
    assert f.to_x12() == text


@settings(max_examples=100, deadline=None)
@given(files(), st.integers(0, 10_000), st.sampled_from([*PUNCTUATION, "\n", "A", "I", "", "ISA*", "~~"]))
def test_a_file_with_a_character_replaced_comes_back_exactly(
    case: tuple[str, list[Seps], list[list[str]], int], at: int, new: str
) -> None:
    text = case[0]
    k = at % len(text)
    broken = text[:k] + new + text[k + 1 :]
    f = parse_x12(broken)
    assert f.to_x12() == broken

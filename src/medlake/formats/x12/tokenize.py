"""Text → segment strings, with what followed each one kept for an exact round trip.

One `str.split` on the terminator does the work. Line breaks and indentation after a
terminator are formatting: they are taken off the next segment and kept in the *gap* after
the segment before (`"~\\n"`), so `segments[i] + gaps[i]` concatenated is the input again.
When every terminator is followed by the same line break (the usual file), the split is on
terminator + line break and the gaps list is one string repeated: no per-segment Python work.
Empty segments (`~~`) are folded into the gap too.
"""

from __future__ import annotations

LINE_ENDINGS = {"": "none", "\n": "LF", "\r\n": "CRLF", "\r": "CR"}


def _lead(text: str, start: int, fill: str) -> str:
    """The run of fill characters at text[start:]."""
    end = start
    n = len(text)
    while end < n and text[end] in fill:
        end += 1
    return text[start:end]


def split_segments(region: str, term: str, fill: str) -> tuple[list[str], list[str]]:
    """(segments, gaps): `region` starts with a segment; gaps[i] follows segments[i].

    The last segment may have no terminator (a file cut short): its gap is then whatever
    fill followed it, or "".
    """
    first = region.find(term)
    lead = _lead(region, first + len(term), fill) if first >= 0 else ""
    unit = term + lead
    total = region.count(term)
    ends_bare = bool(lead) and region.endswith(term) and not region.endswith(unit)
    if (
        region.count(unit) == total - (1 if ends_bare else 0)
        and not any(unit + c in region for c in fill + term)
    ):
        pieces = region.split(unit)
        last = pieces.pop()
        gaps = [unit] * len(pieces)
        if ends_bare:
            pieces.append(last[: -len(term)])
            gaps.append(term)
        elif last:
            _tail(last, pieces, gaps, fill)
        return pieces, gaps
    return _split_general(region, term, fill)


def _tail(last: str, segs: list[str], gaps: list[str], fill: str) -> None:
    """The text after the final terminator: more formatting, or a segment cut short."""
    body = last.lstrip(fill)
    if len(body) != len(last):
        if gaps:
            gaps[-1] += last[: len(last) - len(body)]
        else:  # pragma: no cover - a region starts with a segment
            segs.append("")
            gaps.append(last[: len(last) - len(body)])
    if body:
        seg = body.rstrip(fill)
        segs.append(seg)
        gaps.append(body[len(seg) :])


def _split_general(region: str, term: str, fill: str) -> tuple[list[str], list[str]]:
    pieces = region.split(term)
    last = pieces.pop()
    segs: list[str] = []
    gaps: list[str] = []
    for p in pieces:
        s = p.lstrip(fill) if p[:1] in fill or not p else p
        if len(s) != len(p) and gaps:
            gaps[-1] += p[: len(p) - len(s)]
        if s:
            segs.append(s)
            gaps.append(term)
        elif gaps:
            gaps[-1] += term
        else:  # pragma: no cover - a region starts with a segment
            segs.append("")
            gaps.append(term)
    if last:
        _tail(last, segs, gaps, fill)
    return segs, gaps


def _label(gap: str, term: str) -> str:
    lead = gap[len(term) :] if gap.startswith(term) else gap
    return LINE_ENDINGS.get(lead.replace(" ", "").replace("\t", ""), "mixed")


def line_ending(gaps: list[str], term: str) -> str:
    """What followed the terminators: `none`, `LF`, `CRLF`, `CR`, or `mixed` (indentation
    after the line break is ignored).

    The gap after the last segment is left out (a file often ends differently).
    """
    if not gaps:
        return "none"
    body = gaps[:-1] or gaps
    first = body[0]
    if body.count(first) == len(body):
        return _label(first, term)
    seen = {_label(g, term) for g in set(body)}
    return seen.pop() if len(seen) == 1 else "mixed"

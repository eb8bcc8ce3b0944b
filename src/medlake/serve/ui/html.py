"""Small HTML building blocks for the dashboard: escaping, the page frame, tables, badges.

No template engine: every value that came from data passes through `esc` (or `attr`) on its
way into markup; the markup itself is literal strings in this package. Inline CSS only, no
JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote

STATE_COLORS: dict[str, str] = {
    "untouched": "#e5e7eb",
    "building": "#fde68a",
    "testing": "#fca5a5",
    "parallel": "#bfdbfe",
    "cutover": "#c4b5fd",
    "live": "#86efac",
    "legacy retired": "#4ade80",
}

STATUS_COLORS: dict[str, str] = {
    "pass": "#86efac",
    "ok": "#86efac",
    "fail": "#fca5a5",
    "failed": "#fca5a5",
    "error": "#fdba74",
    "not_applicable": "#e5e7eb",
    "skipped": "#e5e7eb",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb}
header{background:#1f2937;color:#f9fafb;padding:10px 24px;display:flex;gap:24px;align-items:baseline}
header a{color:#f9fafb;text-decoration:none}header .brand{font-weight:700;font-size:16px}
main{padding:16px 24px;max-width:1400px}
h1{font-size:22px;margin:8px 0 12px}h2{font-size:17px;margin:22px 0 8px}
table{border-collapse:collapse;background:#fff;margin:4px 0 12px}
th,td{border:1px solid #d1d5db;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;white-space:nowrap}
.cell{min-width:92px;text-align:center}
.note{color:#4b5563;font-size:12px}.muted{color:#6b7280}
.banner{background:#fef3c7;border:1px solid #f59e0b;padding:8px 12px;margin:8px 0}
.empty{color:#6b7280;font-style:italic;margin:4px 0 12px}
pre{background:#f3f4f6;padding:6px 8px;margin:4px 0;white-space:pre-wrap;font-size:12px;max-width:900px}
.legend span{margin-right:6px}
.groups li{margin:2px 0}
svg text{font:11px system-ui,sans-serif;fill:#374151}
"""


def esc(value: object) -> str:
    """Text for an element's content or a quoted attribute: `<>&"'` escaped; None is empty."""
    return "" if value is None else escape(str(value), quote=True)


def url_part(value: str) -> str:
    """A path segment (a tenant, source or person id) percent-encoded for a link."""
    return quote(value, safe="")


def link(href: str, text: object) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def badge(text: str, color: str | None = None, title: str | None = None) -> str:
    fill = color or STATUS_COLORS.get(text, "#e5e7eb")
    tip = f' title="{esc(title)}"' if title else ""
    return f'<span class="badge" style="background:{esc(fill)}"{tip}>{esc(text)}</span>'


def state_badge(state: str, title: str | None = None) -> str:
    return badge(state, STATE_COLORS.get(state, "#e5e7eb"), title)


def num(n: object) -> str:
    """A count with thousands separators (an empty cell for None)."""
    if n is None:
        return ""
    if isinstance(n, float):
        return f"{n:,.1f}"
    return f"{n:,}" if isinstance(n, int) else esc(n)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = (), empty: str = "nothing yet") -> str:
    """A table whose cells are already markup (escape data with `esc` before passing it)."""
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return f'<p class="empty">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, body: str, *, nav: Sequence[tuple[str, str]] = ()) -> str:
    """The whole document: header with links (`(href, text)`), then `body` (markup)."""
    links = "".join(f"<a href=\"{esc(href)}\">{esc(text)}</a>" for href, text in nav)
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)} · medlake</title><style>{CSS}</style></head>"
        f"<body><header><a class=\"brand\" href=\"/ui\">medlake status</a>{links}</header>"
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )

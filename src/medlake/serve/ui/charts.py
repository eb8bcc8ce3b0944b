"""Line charts as inline SVG, drawn on the server: readable with JavaScript off.

    line_chart({"bronze rows": [("2026-11-01", 120.0), ...]}, y_label="rows")

Every series shares the x axis: the union of their labels in the order first seen (runs in
time order). Points carry a `<title>` so a hover shows the value. Labels are escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from medlake.serve.ui.html import esc

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def line_chart(
    series: Mapping[str, Sequence[tuple[str, float]]],
    *,
    y_label: str,
    width: int = 720,
    height: int = 240,
    y_max: float | None = None,
) -> str:
    """An SVG line chart of `series` (name → [(x label, y)]); an empty-state note without points."""
    labels: list[str] = []
    for points in series.values():
        for x, _ in points:
            if x not in labels:
                labels.append(x)
    values = [y for points in series.values() for _, y in points]
    if not values:
        return '<p class="empty">no data to chart yet</p>'
    left, right, top, bottom = 56, 16, 14, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = y_max if y_max is not None else _nice(max(values))
    top_value = top_value or 1.0

    def px(i: int) -> float:
        return left + (plot_w * i / (len(labels) - 1) if len(labels) > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h - plot_h * min(v, top_value) / top_value

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{esc(y_label)}">']
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#d1d5db"/>')
    for k in range(5):  # grid lines and y ticks
        v = top_value * k / 4
        y = py(v)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#f3f4f6"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(_short(v))}</text>')
    parts.append(f'<text x="12" y="{top + plot_h / 2:.1f}" transform="rotate(-90 12 {top + plot_h / 2:.1f})" text-anchor="middle">{esc(y_label)}</text>')
    for i in _tick_indexes(len(labels)):
        anchor = "start" if i == 0 and len(labels) > 1 else "end" if i == len(labels) - 1 and i else "middle"
        parts.append(f'<text x="{px(i):.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}">{esc(labels[i])}</text>')
    index = {x: i for i, x in enumerate(labels)}
    for n, (name, points) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        coords = [(px(index[x]), py(y), x, y) for x, y in points]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy, _, _ in coords)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for cx, cy, x, y in coords:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{color}"><title>{esc(name)} · {esc(x)}: {esc(_short(y))}</title></circle>')
        lx = left + 150 * n
        parts.append(f'<rect x="{lx}" y="{height - 16}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{lx + 14}" y="{height - 7}">{esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _tick_indexes(n: int) -> list[int]:
    """At most six evenly spaced x labels, always the first and the last."""
    if n <= 6:
        return list(range(n))
    step = (n - 1) / 5
    return sorted({round(step * k) for k in range(6)})


def _nice(v: float) -> float:
    """A round upper bound for the y axis (1, 2 or 5 times a power of ten)."""
    if v <= 0:
        return 1.0
    power = 10 ** (len(str(int(v))) - 1) if v >= 1 else 1
    for m in (1, 2, 5, 10):
        if v <= m * power:
            return float(m * power)
    return float(10 * power)


def _short(v: float) -> str:
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"

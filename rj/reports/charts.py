"""Charts drawn on the server as inline SVG: no JavaScript, no style attributes (the CSP forbids
inline styles; SVG presentation attributes such as fill are allowed).

Accessible: role="img" with a <title> and <desc> the image is labelled by; every bar carries its
value as a direct text label, so the chart reads without colour; the same figures are always in
a table next to it."""
from __future__ import annotations

import itertools

from markupsafe import Markup, escape

BAR = "#1d70b8"     # GOV.UK blue: 5.2:1 on white
TEXT = "#0b0c0c"
AXIS = "#505a5f"
_ids = itertools.count(1)


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def bar_chart(title: str, description: str, items: list[tuple[str, float]], *, label_width: int = 220,
              width: int = 640) -> Markup:
    """Horizontal bars, one per item, labelled on the left with the value at the bar's end."""
    uid = f"rj-chart-{next(_ids)}"
    row_h, gap, top = 26, 8, 4
    height = top + len(items) * (row_h + gap) + 4
    maxv = max([v for _, v in items] + [0]) or 1
    plot = width - label_width - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rj-chart" role="img" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{uid}-t {uid}-d" focusable="false">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(description)}</desc>',
        f'<line x1="{label_width}" y1="0" x2="{label_width}" y2="{height}" stroke="{AXIS}" stroke-width="1"/>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * (row_h + gap)
        w = 0 if value <= 0 else max(2, round(plot * value / maxv))
        parts.append(f'<text x="{label_width - 8}" y="{y + row_h * 0.7:.0f}" text-anchor="end" font-size="14" '
                     f'font-family="arial, sans-serif" fill="{TEXT}">{escape(_truncate(label, 32))}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w}" height="{row_h}" fill="{BAR}"/>')
        parts.append(f'<text x="{label_width + w + 6}" y="{y + row_h * 0.7:.0f}" font-size="14" '
                     f'font-family="arial, sans-serif" font-weight="bold" fill="{TEXT}">{_fmt(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(title: str, description: str, items: list[tuple[str, float]], *, width: int = 640,
                 height: int = 240) -> Markup:
    """Vertical columns (a time series), each labelled underneath and with its value on top."""
    uid = f"rj-chart-{next(_ids)}"
    left, bottom, top = 10, 40, 24
    n = max(len(items), 1)
    slot = (width - left * 2) / n
    bar_w = max(4, slot * 0.7)
    maxv = max([v for _, v in items] + [0]) or 1
    plot_h = height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rj-chart" role="img" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{uid}-t {uid}-d" focusable="false">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(description)}</desc>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="{AXIS}" '
        f'stroke-width="1"/>',
    ]
    for i, (label, value) in enumerate(items):
        x = left + i * slot + (slot - bar_w) / 2
        h = 0 if value <= 0 else max(2, round(plot_h * value / maxv))
        y = height - bottom - h
        cx = x + bar_w / 2
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{bar_w:.1f}" height="{h}" fill="{BAR}"/>')
        parts.append(f'<text x="{cx:.1f}" y="{y - 6}" text-anchor="middle" font-size="12" '
                     f'font-family="arial, sans-serif" font-weight="bold" fill="{TEXT}">{_fmt(value)}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
                     f'font-family="arial, sans-serif" fill="{TEXT}">{escape(_truncate(label, 9))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def chart_for(report) -> Markup | None:
    """The chart a report asks for, or None (tables only)."""
    if not report.chart or not report.rows:
        return None
    items = report.chart_items()
    if report.chart == "column":
        return column_chart(report.title, report.description, items)
    return bar_chart(report.title, report.description, items)

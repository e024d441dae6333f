"""Bar charts as inline SVG, drawn on the server: no chart library, no script (the CSP
allows none inline), readable when printed. Each chart carries a <title> and the page puts
the same figures in a table beside it for screen readers."""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH, VALUE_WIDTH = 560, 22, 8, 130, 70
COLOURS = {"normal": "#2563eb", "good": "#16a34a", "usable": "#d97706", "poor": "#dc2626"}


def bar_chart(title: str, bars: Sequence[tuple[str, float, str]], unit: str = "",
              marks: Sequence[tuple[float, str]] = ()) -> Markup:
    """Horizontal bars: (label, value, colour key). `marks` draws reference lines (value, label)."""
    top = max([v for _, v, _ in bars] + [m for m, _ in marks] + [1])
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP + (16 if marks else 0)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, value, colour) in enumerate(bars):
        y = GAP + i * (BAR_HEIGHT + GAP)
        w = 0 if top == 0 else max(0.0, value) / top * span
        text = f"{value:g}{unit}"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT * 0.7}" text-anchor="end" '
            f'font-size="13">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{COLOURS.get(colour, COLOURS["normal"])}"></rect>'
            f'<text x="{LABEL_WIDTH + w + 4:.1f}" y="{y + BAR_HEIGHT * 0.7}" font-size="13">'
            f'{escape(text)}</text>')
    for value, label in marks:
        x = LABEL_WIDTH + value / top * span
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 14}" stroke="#64748b" '
                     f'stroke-dasharray="4 3"></line><text x="{x:.1f}" y="{height - 2}" '
                     f'font-size="11" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

"""Bar charts as inline SVG, drawn on the server: no chart library, no script (the CSP
allows none inline), readable when printed. Each chart carries a <title> and the page puts
the same figures in a table beside it for screen readers.

Honest and readable at any width:
- The geometry is in percentages of the chart's own width and the text in pixels, so text
  keeps its 13 px on a phone instead of shrinking with a scaled viewBox (it was 5–8 px in
  half-width charts).
- A rate (unit "%") is drawn on a fixed 0–100 % axis, never scaled to the largest bar, so a
  20 % rate draws a fifth of the axis; a count on an axis from 0 to a round number. The
  axis has gridlines and tick labels, and every bar its value printed.
- Each label has its own line above its bar (the whole width: long 专业 names fit); a label
  still too long is cut with "…" and its whole text is in the bar's <title> (hover, and
  what a screen reader announces).
- A chart with nothing to show (no bars, or all zero) says 暂无数据.
"""

from __future__ import annotations

import math
from typing import Sequence

from markupsafe import Markup, escape

COLOURS = {"normal": "#2563eb", "good": "#16a34a", "usable": "#d97706", "poor": "#dc2626"}
PLOT = 82.0       # % of the width the axis spans; the rest keeps the value beside a full bar
ROW = 40          # px: a label line, its bar, the gap
LABEL_LINE, BAR, AXIS = 15, 16, 24
FONT = 13         # px, at every width
MAX_LABEL = 24    # characters shown on a label's line; the <title> has the rest
TICKS = 4         # intervals on the axis


def nice_top(value: float) -> float:
    """The axis end for counts: the smallest 1, 2, 2.5 or 5 × 10ⁿ at least `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(title: str, bars: Sequence[tuple[str, float, str]], unit: str = "",
              marks: Sequence[tuple[float, str]] = ()) -> Markup:
    """Horizontal bars: (label, value, colour key). `marks` draws reference lines (value,
    label) on the same axis. A unit of "%" puts the bars on a 0–100 % axis."""
    rate = unit.strip() == "%"
    values = [max(0.0, float(v)) for _, v, _ in bars]
    empty = not bars or not any(values)
    top = 100.0 if rate else nice_top(max(values + [m for m, _ in marks] + [0.0]))
    pad = 16 if marks else 0  # a line above the bars for the reference lines' labels
    height = pad + (1 if empty else len(bars)) * ROW + AXIS
    plot_bottom = height - AXIS + 4
    parts = [f'<svg class="chart" role="img" width="100%" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT}"><title>{escape(title)}</title>']
    for step in range(TICKS + 1):  # gridlines and tick labels: 0 … top
        x = PLOT * step / TICKS
        tick = top * step / TICKS
        anchor = "start" if step == 0 else "end" if step == TICKS else "middle"
        parts.append(f'<line class="grid" x1="{x:.2f}%" x2="{x:.2f}%" y1="0" y2="{plot_bottom}" '
                     f'stroke="#e2e8f0"></line>'
                     f'<text class="tick" x="{x:.2f}%" y="{height - 4}" text-anchor="{anchor}" '
                     f'fill="#475569">{escape(_number(tick) + ("%" if rate else ""))}</text>')
    if empty:
        parts.append(f'<text class="empty" x="{PLOT / 2:.2f}%" y="{pad + ROW / 2 + 5}" '
                     f'text-anchor="middle" fill="#475569">暂无数据</text>')
    for i, ((label, _, colour), value) in enumerate(zip(bars, values)):
        if empty:
            break
        y = pad + i * ROW
        width = min(value, top) / top * PLOT
        text = f"{_number(value)}{unit}"
        parts.append(
            f'<g class="bar"><title>{escape(f"{label}：{text}")}</title>'
            f'<text x="0" y="{y + LABEL_LINE - 2}" fill="#0f172a">{escape(_label(label))}</text>'
            f'<rect x="0" y="{y + LABEL_LINE + 2}" width="{width:.2f}%" height="{BAR}" '
            f'fill="{COLOURS.get(colour, COLOURS["normal"])}"></rect>'
            f'<text x="{width:.2f}%" dx="4" y="{y + LABEL_LINE + BAR - 1}" fill="#0f172a">'
            f'{escape(text)}</text></g>')
    for value, label in marks:
        x = min(value, top) / top * PLOT
        parts.append(f'<line class="mark" x1="{x:.2f}%" x2="{x:.2f}%" y1="0" y2="{plot_bottom}" '
                     f'stroke="#64748b" stroke-dasharray="4 3"></line>'
                     f'<text class="mark" x="{x:.2f}%" dx="3" y="11" font-size="12" '
                     f'fill="#334155">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

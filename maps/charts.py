"""Small charts as inline SVG, written here in Python: no chart library, no script, no CDN.

The landing page and the pairing map draw a few bar charts of a dozen to a hundred bars; a
JavaScript chart library (and its vendoring) would weigh more than the page, and inline SVG
prints as vectors in Chromium's PDF. Every label is text from data and is escaped
(:func:`html.escape`): a unit called ``<script>`` shows those characters.

Pure: lists of numbers in, SVG text out.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

#: The charts' colours: the task, the input, a shortfall, the 100 % line.
TASK = "#9e9e9e"
INPUT = "#8b1a1a"
SHORT = "#e08a00"
MET = "#2e7d32"
FONT = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif'
_ROW = 18
_LABEL_PX_PER_CHAR = 12.5


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _label_width(labels: Sequence[str], *, at_most: int = 12) -> float:
    longest = max((min(len(str(t)), at_most) for t in labels), default=2)
    return 8 + longest * _LABEL_PX_PER_CHAR


def _short(text: str, at_most: int = 12) -> str:
    text = str(text)
    return text if len(text) <= at_most else text[:at_most - 1] + "…"


def _svg(width: float, height: float, body: str, *, title: str, chart: str) -> str:
    e = html.escape
    return (f'<svg class="chart" data-chart="{e(chart)}" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'font-family=\'{FONT}\' font-size="12"><title>{e(title)}</title>{body}</svg>')


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    out = []
    for colour, text in items:
        out.append(f'<rect x="{x:.0f}" y="{y - 9:.0f}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{x + 14:.0f}" y="{y:.0f}">{html.escape(text)}</text>')
        x += 24 + len(text) * 12
    return "".join(out)


def paired_bars(rows: Sequence[tuple[str, float | None, float | None]], *, title: str, names: tuple[str, str],
                unit: str, chart: str, width: int = 460) -> str:
    """Two bars per row (e.g. task funds and inputs of each township), one scale.

    Parameters
    ----------
    rows
        ``(label, first, second)``; a missing value draws no bar and says 无.
    names
        The legend of the two values.
    unit
        Shown after the numbers (``万元``).
    """
    e = html.escape
    left = _label_width([r[0] for r in rows])
    top, plot = 24, width - left - 70
    top_value = max([v for r in rows for v in r[1:] if v is not None and not math.isnan(v)] or [1.0]) or 1.0
    body = [_legend([(TASK, names[0]), (INPUT, names[1])], left, 14)]
    y = top
    for label, first, second in rows:
        body.append(f'<text x="{left - 6:.0f}" y="{y + 15:.0f}" text-anchor="end">{e(_short(label))}</text>')
        for offset, value, colour in ((0, first, TASK), (10, second, INPUT)):
            if value is None or math.isnan(value):
                body.append(f'<text x="{left + 2:.0f}" y="{y + offset + 9:.0f}" font-size="10" fill="#888">无</text>')
                continue
            length = max(plot * value / top_value, 1)
            body.append(f'<rect x="{left:.0f}" y="{y + offset:.0f}" width="{length:.1f}" height="9" fill="{colour}">'
                        f'<title>{e(label)} {e(names[offset // 10])} {_fmt(value)} {e(unit)}</title></rect>'
                        f'<text x="{left + length + 3:.0f}" y="{y + offset + 8:.0f}" font-size="10">{_fmt(value)}</text>')
        y += 2 * _ROW - 10
    return _svg(width, y + 8, "".join(body), title=title, chart=chart)


def share_bars(rows: Sequence[tuple[str, float | None]], *, title: str, chart: str, reference: float = 100.0,
               unit: str = "%", width: int = 460, good_at_least: float | None = 100.0) -> str:
    """One bar per row of a share [%] with a reference line (100 %: the task met); bars under
    ``good_at_least`` in the shortfall colour, missing values say 无数据."""
    e = html.escape
    left = _label_width([r[0] for r in rows])
    top, plot = 8, width - left - 60
    top_value = max([v for _, v in rows if v is not None and not math.isnan(v)] + [reference]) or 1.0
    body = []
    y = top
    for label, value in rows:
        body.append(f'<text x="{left - 6:.0f}" y="{y + 11:.0f}" text-anchor="end">{e(_short(label))}</text>')
        if value is None or math.isnan(value):
            body.append(f'<text x="{left + 2:.0f}" y="{y + 11:.0f}" font-size="10" fill="#888">无数据</text>')
        else:
            colour = MET if good_at_least is None or value >= good_at_least else SHORT
            length = max(plot * value / top_value, 1)
            body.append(f'<rect x="{left:.0f}" y="{y + 2:.0f}" width="{length:.1f}" height="12" fill="{colour}">'
                        f'<title>{e(label)} {_fmt(value)}{e(unit)}</title></rect>'
                        f'<text x="{left + length + 3:.0f}" y="{y + 12:.0f}" font-size="10">{_fmt(value)}{e(unit)}</text>')
        y += _ROW
    x = left + plot * reference / top_value
    body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{y:.0f}" stroke="#333" stroke-dasharray="3,2"/>'
                f'<text x="{x:.1f}" y="{y + 12:.0f}" font-size="10" text-anchor="middle">{_fmt(reference)}{e(unit)}</text>')
    return _svg(width, y + 16, "".join(body), title=title, chart=chart)


def column_bars(rows: Sequence[tuple[str, float]], *, title: str, unit: str, chart: str, height: int = 180,
                width: int | None = None) -> str:
    """Vertical bars (e.g. households exited per year), the value above each bar."""
    e = html.escape
    step = 44
    width = width or max(len(rows) * step + 40, 200)
    top_value = max([v for _, v in rows] or [1.0]) or 1.0
    plot = height - 40
    body = [f'<line x1="20" y1="{height - 20}" x2="{width - 10}" y2="{height - 20}" stroke="#999"/>']
    for i, (label, value) in enumerate(rows):
        x = 28 + i * step
        bar = plot * value / top_value
        body.append(f'<rect x="{x}" y="{height - 20 - bar:.1f}" width="{step - 14}" height="{bar:.1f}" fill="{INPUT}">'
                    f'<title>{e(label)} {_fmt(value)} {e(unit)}</title></rect>'
                    f'<text x="{x + (step - 14) / 2:.0f}" y="{height - 24 - bar:.1f}" font-size="10" '
                    f'text-anchor="middle">{_fmt(value)}</text>'
                    f'<text x="{x + (step - 14) / 2:.0f}" y="{height - 6}" text-anchor="middle">{e(_short(label, 6))}</text>')
    return _svg(width, height, "".join(body), title=title, chart=chart)

"""Charts as inline SVG, rendered on the server: trend lines, stacked bars, horizontal bars and a
funnel. No JavaScript and nothing fetched from the network: hovering shows each value (an SVG
``<title>``, which browsers show as a tooltip), and a mark with a link opens the documents behind
it. Every text and every link is escaped here; the result is safe to mark safe in a template.

Values are ``Decimal`` (never float: coordinates are computed in Decimal and printed with two
decimals). Each mark carries ``data-value`` with the exact number shown, so tests (and people)
can read the chart against the KPI service.

Must not import Django or any app: only ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

WIDTH = Decimal(640)
HEIGHT = Decimal(220)
PAD_LEFT = Decimal(70)
PAD_RIGHT = Decimal(16)
PAD_TOP = Decimal(16)
PAD_BOTTOM = Decimal(36)
PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#64748b")


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    value: Decimal
    href: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: Sequence[Point]


def _n(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def _text(value: Decimal) -> str:
    return format(value, "f")


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _svg(title: str, body: list[str], height: Decimal = HEIGHT) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{_attr(title)}" viewBox="0 0 {_n(WIDTH)} {_n(height)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _mark(shape: str, tip: str, href: str, value: Decimal, key: str) -> str:
    inner = f"<title>{escape(tip)}</title>"
    el = shape.replace(
        "/>",
        f' data-key="{_attr(key)}" data-value="{_attr(_text(value))}">{inner}</' + shape.split()[0][1:] + ">",
    )
    if href:
        return f'<a href="{_attr(href)}">{el}</a>'
    return el


def _scale(top: Decimal, bottom: Decimal) -> tuple[Decimal, Decimal]:
    """The value range of the y axis: always includes 0; a flat series gets a unit span."""
    high, low = max(top, Decimal(0)), min(bottom, Decimal(0))
    if high == low:
        high = low + 1
    return low, high


def _y(value: Decimal, low: Decimal, high: Decimal, height: Decimal = HEIGHT) -> Decimal:
    inner = height - PAD_TOP - PAD_BOTTOM
    return PAD_TOP + inner - (value - low) / (high - low) * inner


def _axes(low: Decimal, high: Decimal, labels: Sequence[str], step: Decimal, unit: str) -> list[str]:
    out = [
        f'<line class="axis" x1="{_n(PAD_LEFT)}" y1="{_n(_y(low, low, high))}" x2="{_n(WIDTH - PAD_RIGHT)}" '
        f'y2="{_n(_y(low, low, high))}" stroke="#94a3b8"/>',
    ]
    for value in (low, high) if low != 0 else (Decimal(0), high):
        out.append(
            f'<text x="{_n(PAD_LEFT - 6)}" y="{_n(_y(value, low, high) + 4)}" text-anchor="end" '
            f'font-size="10" fill="#475569">{escape(_text(value.quantize(Decimal(1))) + unit)}</text>'
        )
    if low < 0 < high:
        out.append(
            f'<line x1="{_n(PAD_LEFT)}" y1="{_n(_y(Decimal(0), low, high))}" x2="{_n(WIDTH - PAD_RIGHT)}" '
            f'y2="{_n(_y(Decimal(0), low, high))}" stroke="#cbd5e1" stroke-dasharray="3 3"/>'
        )
    for i, label in enumerate(labels):
        x = PAD_LEFT + step * i + step / 2
        out.append(
            f'<text x="{_n(x)}" y="{_n(HEIGHT - PAD_BOTTOM + 14)}" text-anchor="middle" font-size="10" '
            f'fill="#475569">{escape(label)}</text>'
        )
    return out


def line_chart(title: str, series: Sequence[Series], *, unit: str = "") -> str:
    """One polyline per series over shared x labels (the first series' labels); a dot per point
    with its value on hover and a link when the point has one."""
    labels = [p.label for p in series[0].points] if series else []
    values = [p.value for s in series for p in s.points]
    if not labels:
        return _svg(title, ['<text x="20" y="40" font-size="12">No data in this range.</text>'])
    low, high = _scale(max(values), min(values))
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(labels)
    body = _axes(low, high, labels, step, unit)
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        coords = [(PAD_LEFT + step * i + step / 2, _y(p.value, low, high)) for i, p in enumerate(s.points)]
        body.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
            + " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)
            + '"/>'
        )
        for (x, y), p in zip(coords, s.points, strict=True):
            body.append(
                _mark(
                    f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4" fill="{colour}"/>',
                    f"{s.name} {p.label}: {_text(p.value)}{unit}",
                    p.href,
                    p.value,
                    f"{s.name}|{p.label}",
                )
            )
    body.append(_legend([s.name for s in series]))
    return _svg(title, body)


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series], *, unit: str = "") -> str:
    """Bars per label, one segment per series, positive segments stacked up from 0 and negative
    ones down (churn and contraction are drawn as negatives)."""
    if not labels:
        return _svg(title, ['<text x="20" y="40" font-size="12">No data in this range.</text>'])
    ups = [
        sum((s.points[i].value for s in series if s.points[i].value > 0), Decimal(0))
        for i in range(len(labels))
    ]
    downs = [
        sum((s.points[i].value for s in series if s.points[i].value < 0), Decimal(0))
        for i in range(len(labels))
    ]
    low, high = _scale(max(ups), min(downs))
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(labels)
    width = step * Decimal("0.6")
    body = _axes(low, high, labels, step, unit)
    for i, label in enumerate(labels):
        up, down = Decimal(0), Decimal(0)
        x = PAD_LEFT + step * i + (step - width) / 2
        for k, s in enumerate(series):
            p = s.points[i]
            if p.value == 0:
                continue
            if p.value > 0:
                y0, y1 = _y(up + p.value, low, high), _y(up, low, high)
                up += p.value
            else:
                y0, y1 = _y(down, low, high), _y(down + p.value, low, high)
                down += p.value
            body.append(
                _mark(
                    f'<rect x="{_n(x)}" y="{_n(y0)}" width="{_n(width)}" height="{_n(y1 - y0)}" '
                    f'fill="{PALETTE[k % len(PALETTE)]}"/>',
                    f"{s.name} {label}: {_text(p.value)}{unit}",
                    p.href,
                    p.value,
                    f"{s.name}|{label}",
                )
            )
    body.append(_legend([s.name for s in series]))
    return _svg(title, body)


def hbars(title: str, points: Sequence[Point], *, unit: str = "") -> str:
    """Horizontal bars, one per point (aging buckets, funnel stages), longest = the largest."""
    row = Decimal(26)
    height = PAD_TOP + row * max(len(points), 1) + Decimal(8)
    top = max((p.value for p in points), default=Decimal(0))
    span = top if top > 0 else Decimal(1)
    inner = WIDTH - Decimal(150) - PAD_RIGHT - Decimal(90)
    body = []
    for i, p in enumerate(points):
        y = PAD_TOP + row * i
        length = max(p.value, Decimal(0)) / span * inner
        body.append(
            f'<text x="144" y="{_n(y + 15)}" text-anchor="end" font-size="11" fill="#334155">{escape(p.label)}</text>'
        )
        body.append(
            _mark(
                f'<rect x="150" y="{_n(y + 3)}" width="{_n(length)}" height="18" fill="{PALETTE[i % len(PALETTE)]}"/>',
                f"{p.label}: {_text(p.value)}{unit}",
                p.href,
                p.value,
                p.label,
            )
        )
        body.append(
            f'<text x="{_n(Decimal(156) + length)}" y="{_n(y + 16)}" font-size="11" '
            f'fill="#0f172a">{escape(_text(p.value) + unit)}</text>'
        )
    return _svg(title, body, height)


def _legend(names: Sequence[str]) -> str:
    parts = []
    x = PAD_LEFT
    for k, name in enumerate(names):
        parts.append(
            f'<rect x="{_n(x)}" y="{_n(HEIGHT - 14)}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{_n(x + 14)}" y="{_n(HEIGHT - 5)}" font-size="10" fill="#334155">{escape(name)}</text>'
        )
        x += Decimal(24) + Decimal(7) * len(name)
    return "".join(parts)

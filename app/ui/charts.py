"""Charts drawn on the server as inline SVG (no JavaScript, no CDN). Every text is escaped
(labels come from manifests: shipper names, descriptions); each chart has a <title> and an
aria-label, and the page shows the same figures in a table beside it. Every data point is
one ``<rect class="datum">`` carrying ``data-label``, ``data-series`` and ``data-value``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Format = Callable[[float], str]
WIDTH = 720
# Okabe-Ito: told apart by colour-blind readers too.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#6b7785",
           "#000000")
EMPTY = "Nothing to chart in this period."


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    colour: str | None = None


@dataclass(frozen=True)
class Scale:
    """From ``low`` to ``high`` (zero always included), in round steps."""

    low: float
    high: float
    ticks: tuple[float, ...]

    def at(self, value: float, length: float) -> float:
        """Where ``value`` falls on an axis ``length`` long, from ``low``."""
        return (value - self.low) / (self.high - self.low) * length


def scale(values: Sequence[float], steps: int = 4) -> Scale:
    """The smallest range holding ``values`` and zero whose ends are multiples of a round
    step (1, 2, 2.5 or 5 times a power of ten), about ``steps`` steps long."""
    low, high = min([0.0, *values]), max([0.0, *values])
    if low == high:
        return Scale(0.0, 1.0, (0.0, 1.0))
    raw = (high - low) / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    ticks = tuple(float(round(i * step, 10)) for i in range(first, last + 1))
    return Scale(ticks[0], ticks[-1], ticks)


def number(value: float) -> str:
    """Compact: 950, 1.2k, 3.4M."""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.1f}".rstrip("0").rstrip(".")


def dollars(value: float) -> str:
    return ("-$" if value < 0 else "$") + number(abs(value))


def percent(value: float) -> str:
    return f"{value:+.1f}%" if value else "0%"


def _plain(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _f(value: float) -> str:
    return f"{value:.1f}"


def _svg(title: str, height: float, body: list[str]) -> str:
    label = escape(title)
    return (f'<svg class="chart" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} '
            f'{_f(height)}" xmlns="http://www.w3.org/2000/svg" font-size="12" '
            f'font-family="system-ui, sans-serif"><title>{label}</title>{"".join(body)}</svg>')


def _empty(title: str) -> str:
    return _svg(title, 40, [f'<text x="8" y="24" fill="#4a5563">{EMPTY}</text>'])


def _bar(x: float, y: float, width: float, height: float, colour: str, label: str,
         series: str, value: float, fmt: Format) -> str:
    tip = f"{label}, {series}: {fmt(value)}" if series else f"{label}: {fmt(value)}"
    return (f'<rect class="datum" x="{_f(x)}" y="{_f(y)}" width="{_f(width)}" '
            f'height="{_f(height)}" fill="{colour}" data-label="{escape(label)}" '
            f'data-series="{escape(series)}" data-value="{_plain(value)}">'
            f'<title>{escape(tip)}</title></rect>')


def _legend(series: Sequence[Series]) -> list[str]:
    out, x = [], 60.0
    for i, s in enumerate(series):
        out.append(f'<circle cx="{_f(x)}" cy="10" r="5" fill="{_colour(s, i)}"/>'
                   f'<text x="{_f(x + 9)}" y="14">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return out


def _colour(series: Series, index: int) -> str:
    return series.colour or PALETTE[index % len(PALETTE)]


def _is_empty(labels: Sequence[str], series: Sequence[Series]) -> bool:
    return not labels or not any(v for s in series for v in s.values)


def _value_axis(s: Scale, top: float, height: float, left: float, fmt: Format) -> list[str]:
    out = []
    for tick in s.ticks:
        y = top + height - s.at(tick, height)
        out.append(f'<line x1="{_f(left)}" x2="{WIDTH - 8}" y1="{_f(y)}" y2="{_f(y)}" '
                   f'stroke="{"#4a5563" if tick == 0 else "#e2e7ec"}"/>'
                   f'<text x="{_f(left - 6)}" y="{_f(y + 4)}" text-anchor="end" '
                   f'fill="#4a5563">{escape(fmt(tick))}</text>')
    return out


def _category_axis(labels: Sequence[str], left: float, slot: float, y: float) -> list[str]:
    # Only as many labels as fit side by side (about 7 units a character).
    fit = max(1, int(slot * len(labels) // (7 * max(map(len, labels)) + 12)))
    every = math.ceil(len(labels) / fit)
    return [f'<text x="{_f(left + slot * (i + 0.5))}" y="{_f(y)}" text-anchor="middle" '
            f'fill="#4a5563">{escape(label)}</text>'
            for i, label in enumerate(labels) if i % every == 0]


def columns(title: str, labels: Sequence[str], series: Sequence[Series], *,
            fmt: Format = number) -> str:
    """Vertical bars per label, side by side per series (e.g. this year and the same months
    a year earlier); negative values hang below the zero line."""
    if _is_empty(labels, series):
        return _empty(title)
    top, plot, left = 28.0, 180.0, 64.0
    s = scale([v for x in series for v in x.values])
    slot = (WIDTH - 8 - left) / len(labels)
    width = slot * 0.8 / len(series)
    zero = top + plot - s.at(0, plot)
    body = _legend(series) if len(series) > 1 else []
    body += _value_axis(s, top, plot, left, fmt)
    for i, label in enumerate(labels):
        for j, x in enumerate(series):
            value = x.values[i]
            y = top + plot - s.at(value, plot)
            body.append(_bar(left + slot * (i + 0.1) + width * j, min(y, zero), width,
                             abs(zero - y), _colour(x, j), label, x.name, value, fmt))
    body += _category_axis(labels, left, slot, top + plot + 18)
    return _svg(title, top + plot + 28, body)


def stacked(title: str, labels: Sequence[str], series: Sequence[Series], *,
            fmt: Format = number) -> str:
    """Vertical bars per label made of one segment per series (values not negative)."""
    if _is_empty(labels, series):
        return _empty(title)
    top, plot, left = 28.0, 180.0, 64.0
    s = scale([sum(x.values[i] for x in series) for i in range(len(labels))])
    slot = (WIDTH - 8 - left) / len(labels)
    body = _legend(series) + _value_axis(s, top, plot, left, fmt)
    for i, label in enumerate(labels):
        base = 0.0
        for j, x in enumerate(series):
            value = x.values[i]
            y0, y1 = top + plot - s.at(base, plot), top + plot - s.at(base + value, plot)
            body.append(_bar(left + slot * (i + 0.1), y1, slot * 0.8, y0 - y1, _colour(x, j),
                             label, x.name, value, fmt))
            base += value
    body += _category_axis(labels, left, slot, top + plot + 18)
    return _svg(title, top + plot + 28, body)


def hbars(title: str, labels: Sequence[str], values: Sequence[float], *,
          fmt: Format = number, colour: str = PALETTE[0]) -> str:
    """Horizontal bars, one row per label (a ranking: HTS codes, origins, shippers, policies);
    long labels are shortened on the chart, in full in each bar's tooltip."""
    if _is_empty(labels, [Series("", values)]):
        return _empty(title)
    row, top, left, right = 22.0, 8.0, 250.0, 70.0
    s = scale(values)
    length = WIDTH - left - right
    zero = left + s.at(0, length)
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row * i
        x = left + s.at(value, length)
        short = label if len(label) <= 30 else label[:29] + "\u2026"
        body.append(f'<text x="{_f(left - 6)}" y="{_f(y + 14)}" text-anchor="end">'
                    f'{escape(short)}</text>')
        body.append(_bar(min(x, zero), y + 3, abs(x - zero), row - 6, colour, label, "", value,
                         fmt))
        body.append(f'<text x="{_f(max(x, zero) + 4)}" y="{_f(y + 14)}" fill="#4a5563">'
                    f'{escape(fmt(value))}</text>')
    body.append(f'<line x1="{_f(zero)}" x2="{_f(zero)}" y1="{_f(top)}" '
                f'y2="{_f(top + row * len(labels))}" stroke="#4a5563"/>')
    return _svg(title, top + row * len(labels) + 8, body)

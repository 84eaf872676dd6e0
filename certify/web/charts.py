"""Charts as server-rendered SVG: escaped text, colours from certify.css classes, a title and description to read."""
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup

from certify.i18n import lazy_gettext as _l
from certify.web.formatting import number

# Presentation attributes for an SVG seen without certify.css (saved or printed alone): neutral, still readable.
# Under the stylesheet every class named below sets the real colour (the CSP allows no inline styles).
INK = "#1b2430"
MUTED = "#5b6676"
GRID = "#d9dee6"
FONT_SIZE = 14
SMALL_FONT_SIZE = 13
NO_DATA = _l("No data yet")


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar: its value, the CSS class that colours it and the series it belongs to."""

    value: Decimal | int | float
    css_class: str
    series: str = ""


@dataclass(frozen=True)
class Bar:
    """One labelled bar made of one or more stacked segments; `value_text` is written beside it."""

    label: str
    segments: Sequence[Segment]
    value_text: str | None = None
    sublabel: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((_decimal(segment.value) for segment in self.segments), Decimal(0))


@dataclass(frozen=True)
class LegendItem:
    """A legend entry: a swatch (`box`), or a line (`line`, `dashed`) for target markers."""

    label: str
    css_class: str
    kind: str = "box"


@dataclass(frozen=True)
class Target:
    """A marker line at `value` (a minimum to reach); `label` is its tooltip."""

    value: Decimal | int | float
    css_class: str
    label: str = ""
    dashed: bool = False


@dataclass(frozen=True)
class TargetRow:
    """A bar on a fixed scale with its target markers and a short verdict written after it."""

    bar: Bar
    targets: Sequence[Target] = field(default_factory=tuple)
    note: str = ""
    note_class: str = ""


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _fmt(value: float) -> str:
    """A coordinate: one decimal is finer than any screen needs and keeps the markup short."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """A generous estimate of rendered width: wide (Hangul, CJK) characters take a full em, others about 0.6."""
    width = sum(font_size * (1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6) for ch in str(text))
    return width * 1.1 if bold else width


def _fit(text: str, font_size: float, width: float, bold: bool = False) -> str:
    """The text shortened with an ellipsis to fit `width`; the full text stays in the element's <title>."""
    text = str(text)
    if text_width(text, font_size, bold) <= width:
        return text
    while text and text_width(text + "…", font_size, bold) > width:
        text = text[:-1]
    return text + "…"


def _text(x: float, y: float, content, *, css_class: str, anchor: str = "start", size: int = FONT_SIZE,
          fill: str = INK, full_text: str | None = None, weight: str | None = None) -> Markup:
    tooltip = Markup("<title>{}</title>").format(full_text) if full_text and full_text != content else Markup()
    bold = Markup(' font-weight="{}"').format(weight) if weight else Markup()
    return Markup('<text class="{cls}" x="{x}" y="{y}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"'
                  '{bold}>{tooltip}{content}</text>').format(
        cls=css_class, x=_fmt(x), y=_fmt(y), anchor=anchor, size=size, fill=fill, bold=bold, tooltip=tooltip,
        content=content)


def _rect(x: float, y: float, width: float, height: float, css_class: str, fill: str = MUTED,
          tooltip: str | None = None) -> Markup:
    title = Markup("<title>{}</title>").format(tooltip) if tooltip else Markup()
    return Markup('<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}">{}</rect>').format(
        css_class, _fmt(x), _fmt(y), _fmt(width), _fmt(height), fill, title)


def _line(x1: float, y1: float, x2: float, y2: float, css_class: str, stroke: str = GRID, dashed: bool = False,
          width: float = 1, tooltip: str | None = None) -> Markup:
    dash = Markup(' stroke-dasharray="5 3"') if dashed else Markup()
    title = Markup("<title>{}</title>").format(tooltip) if tooltip else Markup()
    return Markup('<line class="{}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"{}>{}</line>').format(
        css_class, _fmt(x1), _fmt(y1), _fmt(x2), _fmt(y2), stroke, _fmt(width), dash, title)


def _svg(chart_id: str, kind: str, width: float, height: float, title: str, description: str,
         parts: Sequence[Markup]) -> Markup:
    """The chart's frame: role="img" with its <title> and <desc> named, so a screen reader announces both."""
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" id="{id}" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="sans-serif">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>').format(
        kind=kind, id=chart_id, w=_fmt(width), h=_fmt(height), title=title, desc=description,
        body=Markup("").join(parts))


def empty_chart(chart_id: str, title: str, empty_text: str = NO_DATA, width: float = 520) -> Markup:
    """The no-data state: a dashed frame that says so, in place of a chart that would only show an empty axis."""
    height = 72
    parts = [Markup('<rect class="chart-empty-frame" x="1" y="1" width="{}" height="{}" rx="6" fill="none" '
                    'stroke="{}" stroke-dasharray="6 4"/>').format(_fmt(width - 2), height - 2, MUTED),
             _text(width / 2, height / 2 + 5, empty_text, css_class="chart-empty-text", anchor="middle", fill=MUTED)]
    return _svg(chart_id, "empty", width, height, title, empty_text, parts)


def _legend(items: Sequence[LegendItem], x0: float, y0: float, width: float) -> tuple[list[Markup], float]:
    """Legend entries laid out left to right, wrapping within `width`; returns the markup and the height used."""
    parts, x, y, row_height = [], x0, y0, 22
    for item in items:
        item_width = 18 + 6 + text_width(item.label, SMALL_FONT_SIZE) + 18
        if x > x0 and x + item_width > x0 + width:
            x, y = x0, y + row_height
        if item.kind == "box":
            parts.append(_rect(x, y + 2, 14, 14, f"chart-swatch {item.css_class}"))
        else:
            parts.append(_line(x, y + 9, x + 18, y + 9, f"chart-marker {item.css_class}", stroke=INK,
                               dashed=item.kind == "dashed", width=2.5))
        parts.append(_text(x + 22, y + 13, item.label, css_class="chart-legend-text", size=SMALL_FONT_SIZE))
        x += item_width
    return parts, (y - y0 + row_height) if items else 0


def _segments(bar: Bar, x: float, y: float, height: float, scale: float) -> list[Markup]:
    """A bar's segments end to end from `x`; a value too small to see still gets a sliver."""
    parts = []
    for segment in bar.segments:
        value = _decimal(segment.value)
        if value <= 0:
            continue
        width = max(float(value) * scale, 2.0)
        tooltip = f"{segment.series}: {number(value, 2)}" if segment.series else None
        parts.append(_rect(x, y, width, height, f"chart-bar {segment.css_class}", tooltip=tooltip))
        x += width
    return parts


def horizontal_bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, description: str,
                         legend: Sequence[LegendItem] = (), empty_text: str = NO_DATA, width: float = 520) -> Markup:
    """Labelled horizontal bars (stacked when a bar has several segments), lengths proportional to the totals."""
    if not bars or all(bar.total <= 0 for bar in bars):
        return empty_chart(chart_id, title, empty_text, width)
    row_height, bar_height, gap = 32, 20, 8
    value_texts = [bar.value_text if bar.value_text is not None else number(bar.total, 2) for bar in bars]
    label_width = min(max(text_width(bar.label, FONT_SIZE) for bar in bars) + 12, width * 0.42)
    value_width = max(text_width(text, FONT_SIZE, bold=True) for text in value_texts) + 10
    plot_x, plot_width = label_width, width - label_width - value_width - gap
    parts, top = [], 4.0
    if legend:
        legend_parts, legend_height = _legend(legend, plot_x, 2, plot_width + value_width)
        parts += legend_parts
        top += legend_height + 4
    scale = plot_width / float(max(bar.total for bar in bars))
    for index, (bar, value_text) in enumerate(zip(bars, value_texts)):
        y = top + index * row_height
        bar_y = y + (row_height - bar_height) / 2
        label = _fit(bar.label, FONT_SIZE, label_width - 10)
        parts.append(_text(plot_x - 8, bar_y + bar_height / 2 + 5, label, css_class="chart-label", anchor="end",
                           full_text=bar.label))
        parts += _segments(bar, plot_x, bar_y, bar_height, scale)
        end = plot_x + max(float(bar.total) * scale, 2.0 if bar.total > 0 else 0)
        parts.append(_text(end + 6, bar_y + bar_height / 2 + 5, value_text, css_class="chart-value",
                           weight="600"))
    height = top + len(bars) * row_height + 4
    parts.insert(0, _line(plot_x, top, plot_x, height - 4, "chart-axis-line", stroke=MUTED))
    return _svg(chart_id, "hbar", width, height, title, description, parts)


def nice_ceiling(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum at or above `value` and its step (1, 2, 2.5 or 5 × a power of ten)."""
    if value <= 0:
        return 1.0, 0.25
    raw_step = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    return step * math.ceil(value / step - 1e-9), step


def stacked_column_chart(columns: Sequence[Bar], *, chart_id: str, title: str, description: str,
                         legend: Sequence[LegendItem], unit: str = "", empty_text: str = NO_DATA,
                         width: float = 760, plot_height: float = 220) -> Markup:
    """Columns of stacked segments (months × series), a round value axis, the total above each column, a legend.

    Each column's `label` is written under it and its `sublabel` (the year, say) on a second line.
    """
    if not columns or all(column.total <= 0 for column in columns):
        return empty_chart(chart_id, title, empty_text, width)
    axis_max, step = nice_ceiling(float(max(column.total for column in columns)))
    plot_x, right = max(text_width(number(Decimal(str(axis_max)), 2), SMALL_FONT_SIZE) + 14, 40), 8
    plot_width = width - plot_x - right
    legend_parts, legend_height = _legend(legend, plot_x, 2, plot_width)
    top = legend_height + 22  # room for the unit above the axis and the totals above the tallest column
    scale = plot_height / axis_max
    base_y = top + plot_height
    parts = list(legend_parts)
    if unit:
        parts.append(_text(plot_x - 6, top - 10, unit, css_class="chart-axis-text", anchor="end",
                           size=SMALL_FONT_SIZE, fill=MUTED))
    for tick in range(round(axis_max / step) + 1):
        value = tick * step
        y = base_y - value * scale
        parts.append(_line(plot_x, y, plot_x + plot_width, y, "chart-grid" if tick else "chart-axis-line",
                           stroke=GRID if tick else MUTED))
        parts.append(_text(plot_x - 6, y + 4, number(Decimal(str(value)), 2), css_class="chart-axis-text",
                           anchor="end", size=SMALL_FONT_SIZE, fill=MUTED))
    band = plot_width / len(columns)
    column_width = min(band * 0.64, 56)
    for index, column in enumerate(columns):
        center = plot_x + band * (index + 0.5)
        y = base_y
        for segment in column.segments:
            value = float(_decimal(segment.value))
            if value <= 0:
                continue
            height = max(value * scale, 1.5)
            y -= height
            tooltip = f"{segment.series}: {number(segment.value, 2)}" if segment.series else None
            parts.append(_rect(center - column_width / 2, y, column_width, height, f"chart-bar {segment.css_class}",
                               tooltip=tooltip))
        if column.total > 0:
            total_text = column.value_text if column.value_text is not None else number(column.total, 1)
            parts.append(_text(center, y - 5, total_text, css_class="chart-value", anchor="middle",
                               size=SMALL_FONT_SIZE, weight="600"))
        parts.append(_text(center, base_y + 17, _fit(column.label, SMALL_FONT_SIZE, band - 2),
                           css_class="chart-label", anchor="middle", size=SMALL_FONT_SIZE, full_text=column.label))
        if column.sublabel:
            parts.append(_text(center, base_y + 32, column.sublabel, css_class="chart-axis-text", anchor="middle",
                               size=SMALL_FONT_SIZE, fill=MUTED))
    height = base_y + 40
    return _svg(chart_id, "columns", width, height, title, description, parts)


def target_bar_chart(rows: Sequence[TargetRow], *, chart_id: str, title: str, description: str,
                     legend: Sequence[LegendItem] = (), maximum: float = 100, unit: str = "%",
                     empty_text: str = NO_DATA, width: float = 680) -> Markup:
    """Bullet bars on a fixed 0–`maximum` scale with target marker lines, the value, and a verdict after each."""
    if not rows:
        return empty_chart(chart_id, title, empty_text, width)
    row_height, bar_height, gap = 40, 16, 8
    label_width = min(max(text_width(row.bar.label, FONT_SIZE, bold=True) for row in rows) + 12, width * 0.3)
    value_texts = [row.bar.value_text if row.bar.value_text is not None else f"{number(row.bar.total, 1)} {unit}"
                   for row in rows]
    value_width = max(text_width(text, FONT_SIZE, bold=True) for text in value_texts) + gap
    note_width = min(max((text_width(row.note, SMALL_FONT_SIZE, bold=True) for row in rows), default=0) + gap,
                     width * 0.3)
    plot_x = label_width
    plot_width = width - label_width - value_width - note_width - gap
    parts, top = [], 4.0
    if legend:
        legend_parts, legend_height = _legend(legend, 4, 2, width - 8)
        parts += legend_parts
        top += legend_height + 6
    scale = plot_width / maximum
    bottom = top + len(rows) * row_height
    for tick in range(5):
        value = maximum * tick / 4
        x = plot_x + value * scale
        parts.append(_line(x, top, x, bottom, "chart-grid" if tick else "chart-axis-line",
                           stroke=GRID if tick else MUTED))
        parts.append(_text(x, bottom + 16, f"{number(Decimal(str(value)), 0)} {unit}", css_class="chart-axis-text",
                           anchor="middle", size=SMALL_FONT_SIZE, fill=MUTED))
    for index, (row, value_text) in enumerate(zip(rows, value_texts)):
        y = top + index * row_height
        bar_y = y + (row_height - bar_height) / 2
        middle = bar_y + bar_height / 2
        label = _fit(row.bar.label, FONT_SIZE, label_width - 10)
        label_y = middle + (0 if row.bar.sublabel else 5)
        parts.append(_text(plot_x - 8, label_y, label, css_class="chart-label", anchor="end", full_text=row.bar.label,
                           weight="600"))
        if row.bar.sublabel:
            parts.append(_text(plot_x - 8, label_y + 14, row.bar.sublabel, css_class="chart-axis-text", anchor="end",
                               size=SMALL_FONT_SIZE, fill=MUTED))
        parts.append(_rect(plot_x, bar_y, plot_width, bar_height, "chart-track", fill="#eef1f5"))
        parts += _segments(row.bar, plot_x, bar_y, bar_height, scale)
        for target in row.targets:
            x = plot_x + min(float(_decimal(target.value)), maximum) * scale
            parts.append(_line(x, bar_y - 6, x, bar_y + bar_height + 6, f"chart-marker {target.css_class}",
                               stroke=INK, dashed=target.dashed, width=2.5, tooltip=target.label))
        parts.append(_text(plot_x + plot_width + gap, middle + 5, value_text, css_class="chart-value", weight="600"))
        if row.note:
            parts.append(_text(width - note_width + gap / 2, middle + 4,
                               _fit(row.note, SMALL_FONT_SIZE, note_width - gap, bold=True),
                               css_class=f"chart-note {row.note_class}".strip(), size=SMALL_FONT_SIZE,
                               full_text=row.note, fill=MUTED))
    height = bottom + 24
    return _svg(chart_id, "targets", width, height, title, description, parts)

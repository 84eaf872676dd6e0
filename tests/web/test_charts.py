"""The SVG charts alone: well-formed, escaped, accessible, proportional, and honest when there is nothing to show."""
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from certify.web.charts import (
    Bar,
    LegendItem,
    Segment,
    Target,
    TargetRow,
    empty_chart,
    horizontal_bar_chart,
    nice_ceiling,
    stacked_column_chart,
    target_bar_chart,
    text_width,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "quotes"'


def parsed(svg) -> ElementTree.Element:
    """The chart as XML: parsing fails on any text that was not escaped."""
    return ElementTree.fromstring(str(svg))


def bar_rects(svg, css_class: str = "chart-bar") -> list[ElementTree.Element]:
    return [rect for rect in parsed(svg).iter(f"{SVG}rect") if css_class in rect.get("class", "").split()]


def texts(svg) -> list[str]:
    return ["".join(element.itertext()) for element in parsed(svg).iter(f"{SVG}text")]


def bars(*values, css_class="fill-status-approved"):
    return [Bar(f"bar {index}", [Segment(value, css_class)]) for index, value in enumerate(values)]


def test_horizontal_bars_are_proportional_to_their_values():
    svg = horizontal_bar_chart(bars(10, 5, 2.5), chart_id="c", title="Batches", description="Three bars")
    widths = [float(rect.get("width")) for rect in bar_rects(svg)]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2) and widths[1] == pytest.approx(2 * widths[2], abs=0.2)
    assert "10" in texts(svg) and "5" in texts(svg)


def test_stacked_segments_of_a_bar_add_up_to_its_length():
    stacked = [Bar("mine and theirs", [Segment(3, "fill-decision-approve", "you"), Segment(1, "fill-others", "others")]),
               Bar("theirs", [Segment(0, "fill-decision-approve"), Segment(2, "fill-others")])]
    svg = horizontal_bar_chart(stacked, chart_id="c", title="Decisions", description="d",
                               legend=[LegendItem("you", "fill-legend-you"), LegendItem("others", "fill-legend-others")])
    first, second, third = (float(rect.get("width")) for rect in bar_rects(svg))
    assert first == pytest.approx(3 * second, abs=0.2) and third == pytest.approx(2 * second, abs=0.2)
    assert {"you", "others"} <= set(texts(svg))


def test_labels_titles_and_descriptions_are_escaped():
    svg = horizontal_bar_chart([Bar(HOSTILE, [Segment(1, "fill-fail")], value_text=HOSTILE)], chart_id="c",
                               title=HOSTILE, description=HOSTILE)
    markup = str(svg)
    assert "<script" not in markup and "&lt;script&gt;" in markup
    root = parsed(svg)
    assert root.find(f"{SVG}title").text == HOSTILE and root.find(f"{SVG}desc").text == HOSTILE


@pytest.mark.parametrize("render", [
    lambda label: horizontal_bar_chart([Bar(label, [Segment(1, "x")])], chart_id="c", title="t", description="d"),
    lambda label: stacked_column_chart([Bar(label, [Segment(1, "x", label)], sublabel=label)], chart_id="c",
                                       title="t", description="d", legend=[LegendItem(label, "x")]),
    lambda label: target_bar_chart([TargetRow(Bar(label, [Segment(1, "x", label)], sublabel=label),
                                              [Target(6, "m", label)], note=label)], chart_id="c", title="t",
                                   description="d", legend=[LegendItem(label, "m", "dashed")]),
])
def test_every_chart_escapes_every_label(render):
    markup = str(render(HOSTILE))
    assert "<script" not in markup
    parsed(markup)


def test_css_classes_and_ids_cannot_break_out_of_their_attribute():
    svg = horizontal_bar_chart([Bar("a", [Segment(1, '" onload="alert(1)')])], chart_id='x" onload="y', title="t",
                               description="d")
    assert 'onload="' not in str(svg)
    parsed(svg)


@pytest.mark.parametrize("render", [
    lambda: horizontal_bar_chart([], chart_id="c", title="Batches by status", description="d"),
    lambda: horizontal_bar_chart(bars(0, 0), chart_id="c", title="Batches by status", description="d"),
    lambda: stacked_column_chart([Bar("Jan", [Segment(0, "x")])], chart_id="c", title="Batches by status",
                                 description="d", legend=[]),
    lambda: target_bar_chart([], chart_id="c", title="Batches by status", description="d"),
])
def test_no_data_says_so_instead_of_drawing_empty_axes(render):
    svg = render()
    assert "No data yet" in texts(svg)
    assert not bar_rects(svg)
    assert parsed(svg).find(f"{SVG}title").text == "Batches by status"


def test_the_no_data_text_can_say_what_is_missing():
    svg = empty_chart("c", "Decisions", "No decisions this month yet")
    assert texts(svg) == ["No decisions this month yet"]


def test_a_chart_is_an_image_named_by_its_title_and_description():
    root = parsed(horizontal_bar_chart(bars(1), chart_id="queue-age", title="Waiting", description="1 batch"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "queue-age-title queue-age-desc"
    assert root.find(f"{SVG}title").get("id") == "queue-age-title"
    assert root.find(f"{SVG}desc").get("id") == "queue-age-desc"


def test_charts_use_no_inline_styles_or_scripts_the_csp_would_block():
    charts = [
        horizontal_bar_chart(bars(3, 1), chart_id="a", title="t", description="d"),
        stacked_column_chart([Bar("Jan", [Segment(2, "fill-series-0", "NISO4")], sublabel="2026")], chart_id="b",
                             title="t", description="d", legend=[LegendItem("NISO4", "fill-series-0")]),
        target_bar_chart([TargetRow(Bar("NISO4", [Segment(40, "fill-post-consumer")]), [Target(6, "m")])],
                         chart_id="c", title="t", description="d"),
    ]
    for svg in charts:
        markup = str(svg)
        assert "style" not in markup and "<script" not in markup and " on" not in markup.replace(" one", "")


def test_monthly_columns_stack_their_series_and_heights_are_proportional():
    columns = [Bar("Jan", [Segment(Decimal(4), "fill-series-0", "NISO4"), Segment(Decimal(2), "fill-series-1",
                                                                                    "COSO4")], sublabel="2026"),
               Bar("Feb", [Segment(Decimal(3), "fill-series-0", "NISO4"), Segment(0, "fill-series-1", "COSO4")])]
    svg = stacked_column_chart(columns, chart_id="t", title="Tonnage", description="d", unit="t",
                               legend=[LegendItem("NISO4", "fill-series-0"), LegendItem("COSO4", "fill-series-1")])
    jan_nickel, jan_cobalt, feb_nickel = (float(rect.get("height")) for rect in bar_rects(svg))
    assert jan_nickel == pytest.approx(2 * jan_cobalt, abs=0.2)
    assert feb_nickel == pytest.approx(1.5 * jan_cobalt, abs=0.2)
    labels = texts(svg)
    assert {"NISO4", "COSO4", "Jan", "Feb", "2026", "t", "6", "3"} <= set(labels)


def test_target_markers_sit_at_their_share_of_the_scale():
    row = TargetRow(Bar("NISO4", [Segment(30, "fill-post-consumer", "post"), Segment(20, "fill-pre-consumer", "pre")],
                        sublabel="Ni"),
                    [Target(6, "chart-marker-2031", "EU 2031", dashed=True), Target(15, "chart-marker-2036", "EU 2036")],
                    note="meets 2036 minimum", note_class="chart-note-ok")
    svg = target_bar_chart([row], chart_id="s", title="Shares", description="d")
    track = bar_rects(svg, "chart-track")[0]
    x0, width = float(track.get("x")), float(track.get("width"))
    post, pre = bar_rects(svg)
    assert float(post.get("width")) == pytest.approx(width * 0.30, abs=0.2)
    assert float(pre.get("width")) == pytest.approx(width * 0.20, abs=0.2)
    markers = [line for line in parsed(svg).iter(f"{SVG}line") if "chart-marker" in line.get("class")]
    assert [float(line.get("x1")) for line in markers] == [pytest.approx(x0 + width * 0.06, abs=0.2),
                                                           pytest.approx(x0 + width * 0.15, abs=0.2)]
    assert markers[0].get("stroke-dasharray") and not markers[1].get("stroke-dasharray")
    assert "50 %" in texts(svg) and "meets 2036 minimum" in texts(svg)


def test_long_labels_are_shortened_but_kept_whole_in_a_tooltip():
    label = "Transfer document unique across every company and every year " * 3
    svg = horizontal_bar_chart([Bar(label, [Segment(1, "x")])], chart_id="c", title="t", description="d")
    written = next(text for text in parsed(svg).iter(f"{SVG}text") if "chart-label" in text.get("class"))
    assert written.find(f"{SVG}title").text == label
    assert "".join(written.itertext()).endswith("…")


def test_hangul_is_measured_wider_than_latin_letters():
    assert text_width("검토 대기", 14) > text_width("abcde", 14)


@pytest.mark.parametrize("value, expected", [(0, 1.0), (7, 8.0), (23, 30.0), (0.7, 0.8), (1000, 1000.0)])
def test_axis_maximum_is_a_round_number_at_or_above_the_largest_value(value, expected):
    assert nice_ceiling(value)[0] == pytest.approx(expected)

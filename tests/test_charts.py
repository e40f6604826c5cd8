"""The hand-written SVG line charts of every report."""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from riskkit.charts import nice_ticks
from riskkit.report import bar_svg, histogram_svg, line_svg

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_one_path_per_series_marks_and_legend() -> None:
    x = [dt.datetime(2026, 11, d) for d in range(1, 8)]
    svg = line_svg(
        x,
        {"orders": [1, 2, 3, 4, 5, 6, 7], "refunds": [0, 0, 1, 0, 2, 0, 1]},
        "Orders per day",
        marks=[x[2], x[5]],
        ylabel="orders",
    )
    root = parse(svg)
    paths = [p for p in root.iter(f"{SVG}path") if p.get("class") == "series"]
    assert [p.findtext(f"{SVG}title") for p in paths] == ["orders", "refunds"]
    assert len([m for m in root.iter(f"{SVG}line") if m.get("class") == "mark"]) == 2
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Orders per day" in texts and "orders" in texts and "refunds" in texts
    assert "11-01" in texts and "11-07" in texts  # a multi-day span is labelled by day


def test_points_land_on_the_plot_edges_and_scale_linearly() -> None:
    svg = line_svg([0, 5, 10], {"y": [0.0, 5.0, 10.0]}, "linear")
    path = next(p for p in parse(svg).iter(f"{SVG}path") if p.get("class") == "series")
    points = [tuple(map(float, xy.split(","))) for xy in path.get("d", "")[1:].split(" L")]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    assert xs[0] == pytest.approx(64.0) and xs[2] == pytest.approx(700 - 12)
    assert xs[1] == pytest.approx((xs[0] + xs[2]) / 2)
    assert ys[1] == pytest.approx((ys[0] + ys[2]) / 2)
    assert ys[0] > ys[2]  # larger values are higher up


def test_missing_values_break_the_line() -> None:
    svg = line_svg([1, 2, 3, 4, 5], {"s": [1.0, math.nan, 3.0, 4.0, None]}, "gaps")  # type: ignore[list-item]
    path = next(p for p in parse(svg).iter(f"{SVG}path") if p.get("class") == "series")
    assert path.get("d", "").count("M") == 2


def test_text_from_the_data_is_escaped() -> None:
    svg = line_svg([1, 2], {"<script>alert(1)</script>": [1, 2]}, 'a & b "<img>"')
    assert "<script>" not in svg and "<img>" not in svg
    root = parse(svg)
    assert root.findtext(f"{SVG}title") == 'a & b "<img>"'


@pytest.mark.parametrize(
    "x, series",
    [
        ([], {}),
        ([1.0], {"one": [3.0]}),
        ([1, 2, 3], {"flat": [0.0, 0.0, 0.0]}),
        ([1, 2], {"empty": [math.nan, math.nan]}),
        ([dt.datetime(2026, 1, 1, h, tzinfo=dt.UTC) for h in range(3)], {"tz": [1, 2, 3]}),
    ],
)
def test_degenerate_inputs_still_give_a_valid_chart(
    x: list[object], series: dict[str, list[float]]
) -> None:
    root = parse(line_svg(x, series, "edge"))
    assert root.tag == f"{SVG}svg"


def test_hours_are_labelled_with_the_time() -> None:
    x = [dt.datetime(2026, 11, 11, h) for h in range(6)]
    texts = [t.text for t in parse(line_svg(x, {"s": list(range(6))}, "h")).iter(f"{SVG}text")]
    assert "11-11 00:00" in texts and "11-11 05:00" in texts


@given(
    st.floats(-1e9, 1e9, allow_nan=False),
    st.floats(0, 1e9, allow_nan=False),
)
def test_nice_ticks_cover_the_range_with_round_steps(low: float, width: float) -> None:
    # a range narrower than a millionth of its values is not chartable in float64 ticks
    assume(width == 0 or width > abs(low) * 1e-6)
    ticks = nice_ticks(low, low + width)
    assert ticks[0] <= low + 1e-6 * max(1.0, abs(low))
    assert ticks[-1] >= low + width - 1e-6 * max(1.0, abs(low + width))
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))
    assert 2 <= len(ticks) <= 12


def _bars(svg: str) -> list[ET.Element]:
    return [r for r in parse(svg).iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_histogram_bins_with_numpy_on_a_log_scale() -> None:
    values = [0.05] * 1000 + [0.55] * 100 + [0.75] + [0.95] * 10 + [math.nan]
    svg = histogram_svg(values, "brushing: order scores", bins=10, xlabel="score")
    bars = _bars(svg)
    assert [b.findtext(f"{SVG}title") for b in bars] == ["1000", "100", "1", "10"]
    heights = [float(b.get("height", "0")) for b in bars]
    # log scale: each tenfold step adds the same height
    assert heights[0] - heights[1] == pytest.approx(heights[1] - heights[3], abs=0.2)
    assert heights[2] > 0  # a single order still shows
    texts = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert "score" in texts and "1000" in texts


def test_empty_histogram_is_a_valid_chart() -> None:
    assert _bars(histogram_svg([], "nothing")) == []


def test_bars_one_per_label_in_order_and_escaped() -> None:
    svg = bar_svg(["pay", "<b>checkout</b>", "view"], [4.0, 2.0, 0.0], "Errors by step")
    assert "<b>" not in svg
    bars = _bars(svg)
    assert [b.findtext(f"{SVG}title") for b in bars] == ["4", "2", "0"]
    widths = [float(b.get("width", "0")) for b in bars]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01) and widths[2] == 0
    ys = [float(b.get("y", "0")) for b in bars]
    assert ys == sorted(ys)  # the first label on top
    texts = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert "<b>checkout</b>" in texts  # the text itself, escaped in the SVG

# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET

import pytest

BENCH = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks"))
sys.path.insert(0, BENCH)
import charts  # noqa: E402
import figures  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
PLOT_HEIGHT = charts.HEIGHT - charts.TOP - charts.BOTTOM


@pytest.mark.parametrize("value, top", [(0, 1.0), (0.7, 1.0), (1, 1.0), (1.2, 2.0), (3, 5.0), (18.7, 20.0),
                                        (158.6, 200.0), (950.1, 1000.0), (1001, 2000.0)])
def test_the_axis_top_is_the_next_round_number(value, top):
    assert charts.nice_top(value) == top


def bars(svg):
    return [r for r in ET.fromstring(svg).iter(SVG + "rect") if r.get("class") == "bar"]


def test_a_bar_is_as_tall_as_its_value_on_the_axis_and_a_missing_value_draws_none():
    svg = charts.bar_chart("t", "s", ["a", "b"], [("one", [10, 5]), ("two", [None, 20])])
    heights = sorted(float(b.get("height")) for b in bars(svg))
    # top = 20: 5, 10, 20 are a quarter, half and all of the plot.
    assert heights == pytest.approx([PLOT_HEIGHT / 4, PLOT_HEIGHT / 2, PLOT_HEIGHT])
    assert [b.find(SVG + "title").text for b in bars(svg)] == ["10", "5", "20"]


def test_a_line_chart_turns_logarithmic_over_a_wide_range():
    wide = charts.line_chart("t", "subscribers", "s", [("a", [(10, 1), (100, 2), (1000, 3)])])
    narrow = charts.line_chart("t", "hosts", "s", [("a", [(1, 1), (20, 2)])])
    assert "(log scale)" in wide and "(log scale)" not in narrow
    xs = [float(p.split(",")[0]) for p in ET.fromstring(wide).find(SVG + "polyline").get("points").split()]
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])  # 10 -> 100 -> 1000 equally spaced


RESULTS = {
    "machine": {"cpus": 2},
    "lean": {"16": {"stock": {"rss_kib": 102400, "modules": 347}, "hardened": {"rss_kib": 40960, "modules": 70}}},
    "site": {"22": {"converge": {"seconds": 16.2}, "rerun": {"seconds": 8.0},
                    "baseline": {"rev": "317983c", "seconds": 14.2}}},
    "scale": {"22": {"runs": [{"subscribers": 10, "seconds": 35.0}, {"subscribers": 1000, "seconds": 40.2}]}},
    "fleet": {"runs": [{"hosts": 1, "seconds": 18.5, "pbx_cpu_seconds": 12.1, "cpus": 2},
                       {"hosts": 20, "seconds": 158.6, "pbx_cpu_seconds": 250.1, "cpus": 2}]},
    "calls": {"22": {"stock": {"cps": 800.0}, "hardened": {"cps": 900.0}}},
}


def test_every_benchmark_in_the_results_gets_its_chart_and_the_page_shows_them(tmp_path):
    drawn = charts.charts(RESULTS)
    assert sorted(drawn) == ["calls.svg", "fleet.svg", "lean-memory.svg", "lean-modules.svg", "scale.svg", "site.svg"]
    for _caption, svg in drawn.values():
        ET.fromstring(svg)  # well-formed
    # The fleet's floor: the containers' CPU over the machine's CPUs (250.1 s / 2 at 20 hosts).
    assert "<title>125.05</title>" in drawn["fleet.svg"][1]
    assert "re-run of the baseline 317983c" in drawn["site.svg"][1]
    page = charts.markdown(RESULTS)
    for name in drawn:
        assert "](images/performance/%s)" % name in page
    written = charts.write(RESULTS, str(tmp_path))
    assert sorted(os.path.basename(p) for p in written) == sorted(drawn)


def test_the_figures_section_ends_with_the_charts_of_the_stored_run():
    with open(os.path.join(BENCH, "results", "latest.json"), encoding="utf-8") as handle:
        page = figures.markdown(json.load(handle))
    assert page.index("### 4. Fleet") < page.index("### Charts") and "](images/performance/fleet.svg)" in page


def test_no_results_no_charts():
    assert charts.charts({}) == {} and charts.markdown({}) == ""
    assert "### Charts" not in figures.markdown({})

# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmark figures as charts: plain SVG written with the standard library, no plotting
package. run.py --update-docs writes them next to docs/performance.md (docs/images/performance/)
from the same results as the tables; `python benchmarks/charts.py RESULTS.json` writes them again
from a stored run (benchmarks/results/latest.json). Unit-tested (tests/unit/benchmarks)."""

from __future__ import annotations

import json
import math
import os
import sys
from xml.sax.saxutils import escape

DIRECTORY = os.path.join("docs", "images", "performance")
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 60
COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#af7aa1")


def nice_top(value):
    """The smallest 1, 2 or 5 x 10^n at or above value (the axis' top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def label(value):
    """An axis or bar label: whole numbers without decimals, others with at most two."""
    return ("%d" % value) if float(value).is_integer() else ("%.2f" % value).rstrip("0").rstrip(".")


def _frame(title, y_label, top):
    plot_h = HEIGHT - TOP - BOTTOM
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (WIDTH, HEIGHT, WIDTH, HEIGHT),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>' % (LEFT, escape(title)),
           '<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>'
           % (TOP + plot_h / 2, TOP + plot_h / 2, escape(y_label))]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (LEFT, WIDTH - RIGHT, y, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (LEFT - 6, y + 4, label(value)))
    return out


def _legend(names):
    out = []
    for i, name in enumerate(names):
        x = LEFT + i * 170
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (x, HEIGHT - 22, COLOURS[i % len(COLOURS)]))
        out.append('<text x="%d" y="%d">%s</text>' % (x + 16, HEIGHT - 12, escape(name)))
    return out


def bar_chart(title, y_label, groups, series):
    """Grouped bars: groups = [group label], series = [(name, [value per group or None])]."""
    values = [v for _name, row in series for v in row if v is not None]
    top = nice_top(max(values) if values else 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = _frame(title, y_label, top)
    slot = plot_w / max(1, len(groups))
    bar_width = slot * 0.7 / max(1, len(series))
    for g, group in enumerate(groups):
        x0 = LEFT + g * slot + slot * 0.15
        for s, (_name, row) in enumerate(series):
            value = row[g]
            if value is None:
                continue
            h = plot_h * value / top
            x = x0 + s * bar_width
            out.append('<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>'
                       % (x, TOP + plot_h - h, bar_width - 2, h, COLOURS[s % len(COLOURS)], label(value)))
            out.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>'
                       % (x + (bar_width - 2) / 2, TOP + plot_h - h - 3, label(value)))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (LEFT + g * slot + slot / 2, TOP + plot_h + 16,
                                                                             escape(str(group))))
    return "\n".join(out + _legend([name for name, _row in series]) + ["</svg>"]) + "\n"


def line_chart(title, x_label, y_label, series):
    """Lines over a shared numeric x axis: series = [(name, [(x, y)])]; a log x axis when the x
    values span more than a factor 20 (the subscriber counts)."""
    xs = sorted({x for _name, points in series for x, _y in points})
    ys = [y for _name, points in series for _x, y in points]
    top = nice_top(max(ys) if ys else 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    log = bool(xs) and xs[0] > 0 and xs[-1] / xs[0] > 20

    def px(x):
        if len(xs) < 2:
            return LEFT + plot_w / 2
        if log:
            return LEFT + plot_w * (math.log10(x) - math.log10(xs[0])) / (math.log10(xs[-1]) - math.log10(xs[0]))
        return LEFT + plot_w * (x - xs[0]) / (xs[-1] - xs[0])

    out = _frame(title, y_label, top)
    for x in xs:
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (px(x), TOP + plot_h + 16, label(x)))
    out.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % (LEFT + plot_w / 2, TOP + plot_h + 32,
                                                                       escape(x_label + (" (log scale)" if log else ""))))
    for s, (_name, points) in enumerate(series):
        colour = COLOURS[s % len(COLOURS)]
        coords = [(px(x), TOP + plot_h - plot_h * y / top) for x, y in sorted(points)]
        out.append('<polyline class="line" fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (colour, " ".join("%.1f,%.1f" % c for c in coords)))
        for (cx, cy), (_x, y) in zip(coords, sorted(points)):
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>' % (cx, cy, colour, label(y)))
    return "\n".join(out + _legend([name for name, _points in series]) + ["</svg>"]) + "\n"


def charts(results):
    """{file name: SVG} for each benchmark the results hold, with the caption it goes under."""
    out = {}
    lean = results.get("lean")
    if lean:
        versions = sorted(lean)
        out["lean-memory.svg"] = ("Resident memory, stock and hardened", bar_chart(
            "Resident memory after start (MiB)", "MiB", ["Asterisk %s" % v for v in versions],
            [("stock", [lean[v]["stock"]["rss_kib"] / 1024 for v in versions]),
             ("hardened", [lean[v]["hardened"]["rss_kib"] / 1024 for v in versions])]))
        out["lean-modules.svg"] = ("Modules loaded, stock and hardened", bar_chart(
            "Modules loaded (module show)", "modules", ["Asterisk %s" % v for v in versions],
            [("stock", [lean[v]["stock"]["modules"] for v in versions]),
             ("hardened", [lean[v]["hardened"]["modules"] for v in versions])]))
    site = results.get("site")
    if site:
        versions = sorted(site)
        out["site.svg"] = ("Site playbook on one host: fresh converge and re-run", bar_chart(
            "Site playbook on one host (seconds)", "seconds", ["Asterisk %s" % v for v in versions],
            [("fresh converge", [site[v]["converge"]["seconds"] for v in versions]),
             ("re-run", [site[v]["rerun"]["seconds"] for v in versions]),
             ("re-run of the baseline %s" % next((site[v]["baseline"].get("rev", "") for v in versions
                                                  if site[v].get("baseline")), ""),
              [(site[v].get("baseline") or {}).get("seconds") for v in versions])]))
    scale = results.get("scale")
    if scale:
        out["scale.svg"] = ("Subscribers playbook by number of subscribers", line_chart(
            "Subscribers playbook by data size", "subscribers", "seconds",
            [("Asterisk %s" % v, [(r["subscribers"], r["seconds"]) for r in scale[v]["runs"]]) for v in sorted(scale)]))
    fleet = results.get("fleet")
    if fleet and fleet.get("runs"):
        runs = fleet["runs"]
        cpus = (results.get("machine") or {}).get("cpus") or fleet.get("cpus") or 1
        lowest = [(r["hosts"], r["pbx_cpu_seconds"] / (r.get("cpus") or cpus)) for r in runs
                  if r.get("pbx_cpu_seconds") is not None]
        series = [("measured", [(r["hosts"], r["seconds"]) for r in runs])]
        if lowest:
            series.append(("the containers' CPU alone (the floor)", lowest))
        out["fleet.svg"] = ("Fleet: hosts converged in one run, against the floor this machine allows", line_chart(
            "Fleet: site playbook on N fresh hosts", "hosts", "seconds", series))
    calls = results.get("calls")
    if calls:
        versions = sorted(calls)
        out["calls.svg"] = ("Call capacity, stock and hardened", bar_chart(
            "Calls per second (sipp, authenticated)", "calls/s", ["Asterisk %s" % v for v in versions],
            [("stock", [calls[v]["stock"]["cps"] for v in versions]),
             ("hardened", [calls[v]["hardened"]["cps"] for v in versions])]))
    return out


def markdown(results):
    """The Markdown that shows the charts (paths relative to docs/performance.md)."""
    drawn = charts(results)
    if not drawn:
        return ""
    lines = ["### Charts", ""]
    for name, (caption, _svg) in drawn.items():
        lines += ["![%s](images/performance/%s)" % (caption, name), ""]
    return "\n".join(lines)


def write(results, repo):
    """Write every chart under repo/docs/images/performance; returns the paths written."""
    directory = os.path.join(repo, DIRECTORY)
    os.makedirs(directory, exist_ok=True)
    written = []
    for name, (_caption, svg) in charts(results).items():
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(svg)
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/charts.py RESULTS.json")
    with open(sys.argv[1], encoding="utf-8") as source:
        for written_path in write(json.load(source), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))):
            print(written_path)

"""The benchmarks' figures on the Performance page.

- The ratios of `bench/results.json` (written by `make bench-peers`) as a table and an SVG chart. A
  ratio is broker-mocks / peer. For requests per second higher is better; for latency, cold start,
  reset time and memory lower is better. The chart turns each into "times better" (the ratio, or its
  inverse), so every bar to the right of 1 is a lead and every bar to the left a cost.
- A script's figures as it printed them (`bench/figures/NAME.txt`, written by `make bench-figures`):
  the date, the machine and the load average from the file's header, then its lines. A script not
  run yet is shown as "to be measured", never with made-up figures.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from .markdown import cell

# (key in results.json, column title, higher is better)
METRICS = (
    ("cold_start", "cold start", False),
    ("req_per_s_1", "req/s 1 client", True),
    ("req_per_s_8", "req/s 8 clients", True),
    ("p50_8", "p50 8 clients", False),
    ("p99_8", "p99 8 clients", False),
    ("reset", "reset", False),
    ("rss", "memory", False),
)


def load(path: Path) -> dict[str, Any]:
    """The results file, checked for the keys the page uses."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("date", "machine", "ratios", "requests_per_load", "memory_after_requests"):
        if key not in data:
            raise ValueError(f"{path}: no {key!r} (written by `make bench-peers`)")
    return data


FIGURE_KEYS = ("command", "date", "machine", "scale", "load average")  # each figures file has them
FIGURE_NOTE = "note"  # optional: what a reader should know of this run


def figures_markdown(path: Path) -> str:
    """A figures file as a caption (what ran, when, where, how busy the machine was) and a text block."""
    name = path.stem
    if not path.is_file():
        return (
            f'!!! note "To be measured"\n    `bench/{name}.py` has not been run for this page yet: '
            f"`make bench-figures BENCH={name}` runs it and writes its figures here.\n"
        )
    meta: dict[str, str] = {}
    lines = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# ") and not lines:
            key, sep, value = line[2:].partition(": ")
            if not sep or key not in (*FIGURE_KEYS, FIGURE_NOTE):
                raise ValueError(
                    f"{path}:{number}: a header line is `# key: value`, key one of {', '.join(FIGURE_KEYS)}, note"
                )
            meta[key] = value
        else:
            lines.append(line)
    missing = [key for key in FIGURE_KEYS if key not in meta]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)} in the header (written by `make bench-figures`)")
    if not lines:
        raise ValueError(f"{path}: no figures after the header")
    scale = "" if meta["scale"] == "BENCH_SCALE=1" else f", {meta['scale']}"
    caption = f"`{meta['command']}`{scale}, {meta['date']}, {meta['machine']}; load average {meta['load average']}"
    caption += f" ({meta[FIGURE_NOTE]}):" if FIGURE_NOTE in meta else ":"
    fence = "````" if any(line.startswith("```") for line in lines) else "```"
    return "\n".join([caption, "", fence + "text", *lines, fence]) + "\n"


def table_markdown(data: dict[str, Any]) -> str:
    """The ratios as printed by bench/peers.py: one row per emulator and peer, after the run's date,
    machine and load generator."""
    generator = data.get("load_generator") or "Python client threads (the run predates wrk)"
    out = [
        f"From the run of {data['date']} on {data['machine']}: {data['requests_per_load']:,} requests per load, "
        f"memory after {data['memory_after_requests']:,} requests; load generator: {generator}.",
        "",
    ]
    out.append("| emulator / peer | " + " | ".join(title for _, title, _ in METRICS) + " |")
    out.append("|---|" + "---:|" * len(METRICS))
    for name, ratios in data["ratios"].items():
        values = [("–" if ratios.get(key) is None else f"{ratios[key]:.2f}") for key, _, _ in METRICS]
        out.append(f"| {cell(name)} | " + " | ".join(values) + " |")
    return "\n".join(out) + "\n"


def chart_svg(data: dict[str, Any]) -> str:
    """Small multiples, one panel per measure: how many times better broker-mocks is than each peer
    (log scale; 1 = the same). Drawn with matplotlib into an SVG string."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, and the page's font
    plt.rcParams["svg.hashsalt"] = "broker-mocks"  # the same SVG for the same figures
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    names = list(data["ratios"])
    metrics = [m for m in METRICS if any(r.get(m[0]) is not None for r in data["ratios"].values())]
    columns = 4
    rows = -(-len(metrics) // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(10, rows * (0.26 * len(names) + 1.0) + 0.4), squeeze=False)
    axes = [ax for row in grid for ax in row]
    ticks = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100]
    decades = (0.01, 0.1, 1, 10, 100)
    for index, ax in enumerate(axes):
        if index >= len(metrics):
            ax.axis("off")
            continue
        key, title, higher_better = metrics[index]
        values = []
        for ratios in data["ratios"].values():
            ratio = ratios.get(key)
            values.append(None if ratio in (None, 0) else (ratio if higher_better else 1 / ratio))
        shown = [(y, v) for y, v in enumerate(values) if v is not None]
        colours = ["#2e7d32" if v >= 1 else "#c62828" for _, v in shown]
        ax.barh([y for y, _ in shown], [v for _, v in shown], color=colours, height=0.6)
        ax.set_xscale("log")
        low = min([v for _, v in shown] + [0.5]) / 1.5
        high = max([v for _, v in shown] + [2]) * 1.5
        ax.set_xlim(low, high)
        wide = high / low > 60  # decades only, or the labels run into each other
        ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if low <= t <= high and (not wide or t in decades)]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
        ax.axvline(1, color="#444", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="both", labelsize=8)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_yticks(range(len(names)), names if index % columns == 0 else [""] * len(names))
    fig.suptitle(
        f"broker-mocks next to each peer: times better (right of 1x) or worse (left), {data['date']}", fontsize=10
    )
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # inline: no XML declaration or doctype

"""Plots of a results file, drawn with matplotlib's Agg canvas (headless, no pyplot state).

The PNG bytes depend only on the results and matplotlib's version: no ``Software`` metadata,
a fixed size and dpi, fonts that ship with matplotlib. The chapter shows the same figures.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = ["latency_figure", "many_connections_figure", "png_bytes", "save_plots", "throughput_figure"]

REFERENCE = "bare"
DPI = 100
PALETTE_COLOURS = 128
COLORS = {
    "flask": "#1f77b4", "fastapi": "#009688", "django": "#0c4b33", "pyramid": "#d62728",
    "tornado": "#ff7f0e", "sanic": "#9467bd", "bottle": "#8c564b", "cherrypy": "#e377c2", REFERENCE: "#7f7f7f",
}
MARKERS = {"flask": "o", "fastapi": "s", "django": "D", "pyramid": "^", "tornado": "v", "sanic": "P",
           "bottle": "X", "cherrypy": "*", REFERENCE: "."}


def _title(results: dict[str, Any], key: str) -> str:
    return results["implementations"].get(key, {}).get("title", key)


def _server(results: dict[str, Any], key: str) -> str:
    return results["implementations"].get(key, {}).get("server", "?")


def sweep(results: dict[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    """The concurrency sweep: framework -> concurrency -> median row (pure-Python client, sweep path)."""
    path = results["profile"]["sweep_path"]
    levels = set(results["profile"]["concurrency"])
    table: dict[str, dict[int, dict[str, Any]]] = {}
    for row in results["summary"]:
        if row["path"] == path and row["concurrency"] in levels:
            table.setdefault(row["framework"], {})[row["concurrency"]] = row
    return table


def _order(results: dict[str, Any]) -> list[str]:
    return list(results["frameworks"]) + ([REFERENCE] if REFERENCE in results["implementations"] else [])


def _style(key: str) -> dict[str, Any]:
    reference = key == REFERENCE
    return {"color": COLORS.get(key, "black"), "marker": MARKERS.get(key, "o"),
            "linestyle": "--" if reference else "-", "linewidth": 1.2 if reference else 1.8}


def throughput_figure(results: dict[str, Any]) -> Figure:
    table = sweep(results)
    levels = list(results["profile"]["concurrency"])
    fig = Figure(figsize=(9, 4.8), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for key in _order(results):
        rows = [(i, table[key][c]) for i, c in enumerate(levels) if c in table.get(key, {})]
        if rows:
            xs = [i for i, _ in rows]
            ys = [row["rps"] for _, row in rows]
            spread = [[row["rps"] - row.get("rps_min", row["rps"]) for _, row in rows],
                      [row.get("rps_max", row["rps"]) - row["rps"] for _, row in rows]]
            label = _title(results, key) if key == REFERENCE else f"{_title(results, key)} ({_server(results, key)})"
            ax.errorbar(xs, ys, yerr=spread, capsize=3, label=label, **_style(key))
    ax.set_xticks(range(len(levels)), labels=[str(c) for c in levels])
    ax.set_xlabel("concurrent keep-alive connections (closed loop)")
    # a log scale: the reference runs several times faster than most frameworks, which a linear
    # axis would squash together at the bottom; equal ratios look equally far apart
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("requests per second (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    rounds = results["profile"].get("rounds", 1)
    ax.set_title(f"GET {results['profile']['sweep_path']}: throughput, one server process each "
                 f"(median of {rounds} rounds; bars: min to max)" if rounds > 1 else
                 f"GET {results['profile']['sweep_path']}: throughput, one server process each")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    return fig


def latency_figure(results: dict[str, Any]) -> Figure:
    table = sweep(results)
    levels = list(results["profile"]["concurrency"])
    fig = Figure(figsize=(10, 4.5), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, percentile in zip(axes, ("p50", "p99"), strict=True):
        for key in _order(results):
            points = [(i, table[key][c]["latency_ms"][percentile]) for i, c in enumerate(levels)
                      if c in table.get(key, {}) and table[key][c]["latency_ms"][percentile]]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, label=_title(results, key), **_style(key))
        ax.set_yscale("log")
        ax.set_xticks(range(len(levels)), labels=[str(c) for c in levels])
        ax.set_xlabel("concurrent connections")
        ax.set_title(f"{percentile} latency")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("milliseconds (log scale)")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.suptitle(f"GET {results['profile']['sweep_path']}: latency as seen by the closed-loop client")
    return fig


def many_connections_figure(results: dict[str, Any]) -> Figure | None:
    rows = [r for r in results.get("many_connections", []) if "error" not in r]
    if not rows:
        return None
    fig = Figure(figsize=(10, 4.2), dpi=DPI, layout="constrained")
    answered, memory = fig.subplots(1, 2)
    names = [_title(results, r["framework"]) for r in rows]
    colors = [COLORS.get(r["framework"], "black") for r in rows]
    positions = range(len(rows))
    answered.bar(positions, [r["ok"] for r in rows], color=colors)
    answered.axhline(rows[0]["connections"], color="black", linewidth=0.8, linestyle=":")
    answered.set_xticks(positions, labels=names, rotation=30, ha="right")
    answered.set_ylabel("answered with 200 in time")
    answered.set_title(f"{rows[0]['connections']} x GET /slow?ms={rows[0]['slow_ms']} at once, "
                       f"{rows[0]['timeout_s']:g} s to answer", fontsize=10)
    memory.bar(positions, [r["peak_rss_mb"] or 0 for r in rows], color=colors, alpha=0.85, label="peak")
    memory.bar(positions, [r["rss_before_mb"] or 0 for r in rows], color="white", alpha=0.6, label="before")
    memory.set_xticks(positions, labels=names, rotation=30, ha="right")
    memory.set_ylabel("server RSS, MiB")
    memory.set_title("server memory: before (pale) and peak", fontsize=10)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as a compact PNG, identical for identical input (no timestamp or software tag).

    Rendered by Agg, then reduced to a 128-colour palette without dithering (Pillow, which
    matplotlib depends on): a quarter of the size, so a notebook output stays small.
    """
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    image = PIL.Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    compact = io.BytesIO()
    image.quantize(colors=PALETTE_COLOURS, dither=PIL.Image.Dither.NONE).save(compact, format="PNG", optimize=True)
    return compact.getvalue()


def save_plots(results: dict[str, Any], directory: Path) -> list[Path]:
    """Write throughput.png, latency.png and (if measured) many_connections.png into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figures = {
        "throughput.png": throughput_figure(results),
        "latency.png": latency_figure(results),
        "many_connections.png": many_connections_figure(results),
    }
    written = []
    for name, fig in figures.items():
        if fig is not None:
            path = directory / name
            path.write_bytes(png_bytes(fig))
            written.append(path)
    return written

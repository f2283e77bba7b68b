"""Tables and verdicts for the benchmark chapter, computed from a results file.

Everything here is a pure function of the results (and of the contract apps' source), so the
chapter's output changes only when the committed results file does.
"""

from __future__ import annotations

import ast
import html
import inspect
import re
import statistics
from typing import Any

from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS

__all__ = [
    "Table",
    "claims",
    "client_ceiling",
    "handler_source",
    "in_flight",
    "machine_lines",
    "many_connections_table",
    "rank_at",
    "source_table",
    "sweep_table",
    "wrk_table",
]

REFERENCE = "bare"


class Table(str):
    """A Markdown pipe table that Jupyter (and the book) shows as an HTML table.

    myst-nb renders ``text/markdown`` outputs as CommonMark, which has no tables, so the HTML
    form is what a reader sees; the Markdown text is the plain-text form.
    """

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        def cells(line: str) -> list[str]:
            return [_inline_html(cell.strip()) for cell in line.strip().strip("|").split("|")]

        lines = self.splitlines()
        head = "".join(f"<th>{cell}</th>" for cell in cells(lines[0]))
        body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells(line)) + "</tr>" for line in lines[2:])
        return f'<table class="backendlab-bench"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _inline_html(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))
ASYNC = ("fastapi", "tornado", "sanic")
HANDLER_NAMES = {"hello_json", "HelloJSON", "json"}


# -- the eight modules --------------------------------------------------------------------------


def _counts(source: str) -> tuple[int, int]:
    lines = source.splitlines()
    return len(lines), sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def source_table() -> Table:
    """A Markdown table of the eight modules: server, style, size, and the documented differences."""
    rows = ["| framework | module | server | handlers | lines (non-blank) | invalid body | `/items/abc` |",
            "|---|---|---|---|---|---|---|"]
    for key in FRAMEWORKS:
        impl = IMPLEMENTATIONS[key]
        total, code = _counts(inspect.getsource(impl.module))
        rows.append(f"| {impl.title} | `{impl.module_name.rsplit('.', 1)[1]}.py` | {impl.server} | {impl.handlers} "
                    f"| {total} ({code}) | {impl.invalid_status} | {impl.non_integer_id_status} |")
    return Table("\n".join(rows))


def handler_source(key: str) -> str:
    """The source of the ``GET /json`` handler of framework ``key``, decorators included."""
    source = inspect.getsource(IMPLEMENTATIONS[key].module)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in HANDLER_NAMES:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines = source.splitlines()[first - 1:node.end_lineno]
            indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
            return "\n".join(line[indent:] for line in lines)
    raise LookupError(f"no /json handler found in {IMPLEMENTATIONS[key].module_name}")


# -- the run -------------------------------------------------------------------------------------


def machine_lines(results: dict[str, Any]) -> list[str]:
    machine, versions, profile = results["machine"], results["versions"], results["profile"]
    server_versions = ", ".join(f"{name} {versions.get(name)}" for name in
                                ("waitress", "uvicorn", "uvloop", "httptools", "tornado", "sanic", "cheroot"))
    framework_versions = ", ".join(f"{IMPLEMENTATIONS[k].title} {versions.get(k)}" for k in FRAMEWORKS)
    return [
        f"run: {profile['name']} profile on {machine['date_utc'][:10]}, {profile.get('rounds', 1)} interleaved "
        f"rounds of {profile['warmup']:g} s warm-up + {profile['duration']:g} s per measurement, medians reported",
        f"machine: {machine['cpu_model']}, {machine['usable_cpus']} usable CPUs, {machine['memory_gib']:g} GiB, "
        f"{machine['platform']}",
        f"load average at start: {' / '.join(f'{x:.2f}' for x in machine['load_average_start'])} (1 / 5 / 15 min)",
        f"python: {machine['python']}; client loop: {results['client']['loop']}; "
        f"wrk: {versions.get('wrk') or 'not installed'}",
        f"frameworks: {framework_versions}",
        f"servers: {server_versions}",
    ]


def sweep(results: dict[str, Any], path: str | None = None) -> dict[str, dict[int, dict]]:
    """framework -> concurrency -> the median row of the rounds, for ``path`` (default: the sweep path)."""
    path = path or results["profile"]["sweep_path"]
    table: dict[str, dict[int, dict]] = {}
    for row in results["summary"]:
        if row["path"] == path:
            table.setdefault(row["framework"], {})[row["concurrency"]] = row
    return table


def _title(results: dict[str, Any], key: str) -> str:
    return results["implementations"].get(key, {}).get("title", key)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def sweep_table(results: dict[str, Any], path: str | None = None) -> Table:
    """Markdown: requests/s and p50/p99 latency (ms) per framework and concurrency, errors if any."""
    table = sweep(results, path)
    levels = sorted({c for runs in table.values() for c in runs})
    header = "| framework | server | " + " | ".join(f"c={c}: req/s · p50 · p99 ms" for c in levels) + " |"
    rows = [header, "|---|---|" + "---|" * len(levels)]
    for key in [*results["frameworks"], REFERENCE]:
        if key not in table:
            continue
        cells = []
        for c in levels:
            run = table[key].get(c)
            if run is None:
                cells.append("–")
                continue
            cell = (f"{_fmt(run['rps'], 0)} · {_fmt(run['latency_ms']['p50'])} · "
                    f"{_fmt(run['latency_ms']['p99'])}")
            if run["error_count"]:
                cell += f" ({run['error_count'] / run.get('rounds', 1):,.0f} errors per round)"
            cells.append(cell)
        server = results["implementations"][key].get("server", "")
        rows.append(f"| {_title(results, key)} | {server} | " + " | ".join(cells) + " |")
    return Table("\n".join(rows))


def many_connections_table(results: dict[str, Any]) -> Table:
    rows = ["| framework | server | answered in time | errors | p50 · max latency, ms | server RSS before → peak, MiB "
            "| server connections at peak |", "|---|---|---|---|---|---|---|"]
    for run in results.get("many_connections", []):
        if "error" in run:
            rows.append(f"| {_title(results, run['framework'])} | | failed: {run['error'][:60]} | | | | |")
            continue
        errors = ", ".join(f"{kind} {count}" for kind, count in run["errors"].items()) or "0"
        rows.append(
            f"| {_title(results, run['framework'])} | {results['implementations'][run['framework']]['server']} "
            f"| {run['ok']} of {run['connections']} | {errors} "
            f"| {_fmt(run['latency_ms']['p50'], 0)} · {_fmt(run['latency_ms']['max'], 0)} "
            f"| {_fmt(run['rss_before_mb'])} → {_fmt(run['peak_rss_mb'])} | {run['peak_server_connections']} |"
        )
    return Table("\n".join(rows))


def wrk_table(results: dict[str, Any]) -> Table | None:
    """Markdown: the pure-Python client's rate as a fraction of wrk's, on the same server and concurrency."""
    wrk_runs = {r["framework"]: r for r in results["runs"] if r.get("tool") == "wrk" and "error" not in r}
    if not wrk_runs:
        return None
    rows = ["| server under test | concurrency | Python client req/s | wrk req/s, just after | Python / wrk |",
            "|---|---|---|---|---|"]
    for key in [REFERENCE, *results["frameworks"]]:
        if key not in wrk_runs:
            continue
        w = wrk_runs[key]
        python_rps = w.get("paired_python_rps")
        ratio = f"{python_rps / w['rps']:.2f}" if python_rps and w["rps"] else "–"
        rows.append(f"| {_title(results, key)} | {w['concurrency']} | {_fmt(python_rps, 0)} | {_fmt(w['rps'], 0)} "
                    f"| {ratio} |")
        for loop, loop_rps in _other_loop_runs(results, key, w["concurrency"]).items():
            rows.append(f"| {_title(results, key)}, client on {loop} | {w['concurrency']} | {_fmt(loop_rps, 0)} "
                        f"| {_fmt(w['rps'], 0)} | {loop_rps / w['rps']:.2f} |")
    return Table("\n".join(rows))


def _other_loop_runs(results: dict[str, Any], key: str, concurrency: int) -> dict[str, float]:
    """The client's rate on another event loop (tool ``python-LOOP``), if measured for ``key``."""
    found: dict[str, float] = {}
    for run in results["runs"]:
        tool = run.get("tool", "")
        if (tool.startswith("python-") and run["framework"] == key and run.get("concurrency") == concurrency
                and "error" not in run):
            found[tool.removeprefix("python-")] = run["rps"]
    return found


def in_flight(results: dict[str, Any], concurrency: int = 64) -> dict[str, float]:
    """Requests in flight by Little's law (throughput x mean latency), per round, median over the rounds."""
    path = results["profile"]["sweep_path"]
    products: dict[str, list[float]] = {}
    for run in results["runs"]:
        if (run.get("tool") == "python" and run.get("path") == path and run.get("concurrency") == concurrency
                and "error" not in run and run["latency_ms"]["mean"] is not None):
            products.setdefault(run["framework"], []).append(run["rps"] * run["latency_ms"]["mean"] / 1000)
    return {key: statistics.median(values) for key, values in products.items()}


def client_ceiling(results: dict[str, Any]) -> dict[str, float] | None:
    """Requests/s against the bare reference server, measured back to back: ``wrk``, the Python
    client on its default loop (under that loop's name) and on any other loop measured."""
    for run in results["runs"]:
        if run.get("tool") == "wrk" and run["framework"] == REFERENCE and run.get("paired_python_rps"):
            loop = results.get("client", {}).get("loop", "asyncio")
            return {"wrk": run["rps"], loop: run["paired_python_rps"],
                    **_other_loop_runs(results, REFERENCE, run["concurrency"])}
    return None


# -- claims ------------------------------------------------------------------------------------------


def rank_at(results: dict[str, Any], concurrency: int | None = None) -> list[tuple[str, float]]:
    """Frameworks by requests/s on the sweep path at ``concurrency`` (default 64 or the highest level)."""
    table = sweep(results)
    levels = results["profile"]["concurrency"]
    concurrency = concurrency or (64 if 64 in levels else max(levels))
    found = [(key, table[key][concurrency]["rps"])
             for key in results["frameworks"] if concurrency in table.get(key, {})]
    return sorted(found, key=lambda item: -item[1])


def _speed(results: dict[str, Any], key: str) -> tuple[str, str]:
    ranking = rank_at(results)
    keys = [k for k, _ in ranking]
    if key not in keys:
        return "not measured", "no data"
    place, n = keys.index(key) + 1, len(keys)
    rps = dict(ranking)[key]
    fastest_key, fastest = ranking[0]
    measured = f"{rps:,.0f} req/s on GET /json at 64 connections: {place} of {n}"
    if place > 1:
        measured += f" ({rps / fastest:.0%} of {_title(results, fastest_key)})"
    if place <= 2:
        verdict = "Supported, as a ranking among these Python frameworks"
    elif place <= n // 2:
        verdict = "Partly: upper half, not the front"
    else:
        verdict = "Not borne out here: lower half"
    return measured, verdict


def _hold(results: dict[str, Any], key: str) -> dict[str, Any] | None:
    for run in results.get("many_connections", []):
        if run["framework"] == key and "error" not in run:
            return run
    return None


def claims(results: dict[str, Any], attribution: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The article's speed and concurrency claims, what was measured, and a verdict for each.

    ``attribution``: the results of the attribution experiments (:mod:`backendlab.bench.attribution`),
    which decide the verdict on "powered by Starlette and Pydantic"; without them it says so."""
    rows = []

    def add(who: str, claim: str, measured: str, verdict: str) -> None:
        rows.append({"framework": who, "claim": claim, "measured": measured, "verdict": verdict})

    measured, verdict = _speed(results, "fastapi")
    add("FastAPI", "“High-performance framework for building APIs”", measured, verdict)

    table = sweep(results)
    concurrency = 64 if 64 in results["profile"]["concurrency"] else max(results["profile"]["concurrency"])
    fastapi = table.get("fastapi", {}).get(concurrency)
    bare = table.get(REFERENCE, {}).get(concurrency)
    if fastapi and bare:
        share = fastapi["rps"] / bare["rps"]
        add("FastAPI", "“High performance, powered by Starlette and Pydantic”",
            f"{share:.0%} of the rate of a bare asyncio server on uvloop, same client; FastAPI runs on uvicorn "
            "with uvloop and httptools (C extensions)",
            _starlette_verdict(results, share, attribution))

    measured, verdict = _speed(results, "tornado")
    add("Tornado", "“High-performance framework”", measured, verdict)

    hold = _hold(results, "tornado")
    if hold:
        ok = hold["ok"] == hold["connections"] and hold["error_count"] == 0
        add("Tornado", "“designed to handle thousands of simultaneous connections”",
            f"{hold['ok']} of {hold['connections']} simultaneous 1-second requests answered in time, one process, "
            f"peak RSS {hold['peak_rss_mb']:.0f} MiB",
            ("Supported at this scale: one thread, no connection limit; more needs memory and file descriptors, "
             "not threads") if ok else "Not shown in this run")

    measured, verdict = _speed(results, "sanic")
    add("Sanic", "“Asynchronous framework optimized for speed”", measured, verdict)

    idle = {k: v.get("rss_idle_mb") for k, v in results["implementations"].items() if k in results["frameworks"]}
    ranked_memory = sorted((v, k) for k, v in idle.items() if v is not None)
    speed_order = [k for k, _ in rank_at(results)]
    if idle.get("sanic") is not None and "sanic" in speed_order:
        memory_place = [k for _, k in ranked_memory].index("sanic") + 1
        place = speed_order.index("sanic") + 1
        fast = place <= 2
        light = memory_place <= len(ranked_memory) // 2
        add("Sanic", "“lightweight and fast”",
            f"speed {place} of {len(ranked_memory)}; idle memory {idle['sanic']:.0f} MiB, "
            f"{memory_place} of {len(ranked_memory)} from the smallest",
            "Supported" if fast and light else ("Fast, not the lightest" if fast else
                                                 ("Light, not the fastest" if light else "Not borne out here")))

    ranking = dict(rank_at(results))
    sync = {k: v for k, v in ranking.items() if k not in ASYNC}
    if sync and "fastapi" in ranking and "tornado" in ranking:
        best_sync = max(sync, key=sync.get)
        holds = {k: _hold(results, k) for k in results["frameworks"]}
        async_all = all(holds[k] and holds[k]["ok"] == holds[k]["connections"] for k in ("fastapi", "tornado"))
        sync_most = max((h["ok"] for k, h in holds.items() if k not in ASYNC and h), default=None)
        measured = (f"short requests: FastAPI {ranking['fastapi'] / sync[best_sync]:.1f}x and Tornado "
                    f"{ranking['tornado'] / sync[best_sync]:.1f}x the fastest sync framework "
                    f"({_title(results, best_sync)})")
        if sync_most is not None:
            measured += (f"; 1,000 slow requests: FastAPI and Tornado answered "
                         f"{'all' if async_all else 'not all'}, the best thread-pool server {sync_most}")
        tornado_faster = ranking["tornado"] > sync[best_sync]
        verdict = ("Right for many waiting connections; for short requests the HTTP parser and the framework's own "
                   "layer both weigh (see the attribution experiments)"
                   + ("" if tornado_faster else ", and Tornado was not faster than the best sync framework"))
        add("(article)", "“For performance-critical applications, leverage asynchronous frameworks like FastAPI "
            "or Tornado”", measured, verdict)
    return rows


def _starlette_verdict(results: dict[str, Any], share: float, attribution: dict[str, Any] | None) -> str:
    """What the attribution experiments show, then FastAPI's share of the bare rate with its reference."""
    reference = (f"FastAPI's rate was {share:.0%} of the bare server's as the Python client measured it (the "
                 "reference for any framework cost quoted here")
    ceiling = client_ceiling(results)
    loop = results.get("client", {}).get("loop", "asyncio")
    if ceiling and ceiling.get(loop):
        reference += f"; on that server the client reached {ceiling[loop] / ceiling['wrk']:.0%} of wrk's rate"
    reference += ")"
    if attribution is None:
        return f"Not attributed: no attribution experiments given. {reference}"
    from backendlab.bench.attribution import fastapi_verdict

    return f"{fastapi_verdict(attribution)}. {reference}"


def claims_table(results: dict[str, Any], attribution: dict[str, Any] | None = None) -> Table:
    """The claims as a Markdown table (``attribution``: see :func:`claims`)."""
    rows = ["| who | claim (Shahzad) | measured | verdict |", "|---|---|---|---|"]
    rows += [f"| {c['framework']} | {c['claim']} | {c['measured']} | {c['verdict']} |"
             for c in claims(results, attribution)]
    return Table("\n".join(rows))


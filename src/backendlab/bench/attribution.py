"""Attribution experiments: which part of a stack a speed difference comes from.

``python -m backendlab.bench attribution`` (``make bench-attribution``) serves ``GET /json`` on
each stack of :data:`backendlab.bench.variants.VARIANTS` (FastAPI on uvicorn with and without
uvloop and httptools, bare Starlette, Tornado on asyncio's loop and on uvloop, Sanic with and
without uvloop, the bare reference), all started side by side and pinned like the main benchmark,
and measures each at 64 connections with the same Python client, in interleaved rounds (the order
rotates from round to round). It writes ``notebooks/benchmark_results/attribution.json``; the
main results file is left alone. :func:`comparisons` turns the rounds into ratios with bootstrap
intervals (:mod:`backendlab.bench.intervals`).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from backendlab.bench.intervals import Comparison, compare
from backendlab.bench.process import ServerProcess, ServerStartFailed, cpu_placement
from backendlab.bench.report import Table
from backendlab.bench.runner import Profile, Progress, Step, _load_run, machine_info, versions
from backendlab.bench.variants import VARIANTS
from backendlab.contract_apps._common import HELLO

__all__ = ["ATTRIBUTION", "DEFAULT_OUT", "RATIOS", "attribution_table", "comparisons", "expected_seconds",
           "fastapi_verdict", "plan", "run_attribution"]

SCHEMA = 1
DEFAULT_OUT = Path("notebooks/benchmark_results/attribution.json")
ATTRIBUTION = Profile("attribution", warmup=0.5, duration=1.5, concurrency=(64,), wrk=False, reference=True,
                      rounds=16, uvloop_ceiling=False)

# The ratios the chapter states: every variant against its baseline, then FastAPI against the
# bare reference and against Sanic, and bare Starlette (on the same uvicorn) against Sanic.
RATIOS: list[tuple[str, str]] = [
    *((key, variant.baseline) for key, variant in VARIANTS.items() if variant.baseline),
    ("fastapi", "bare"),
    ("fastapi", "sanic"),
    ("starlette", "sanic"),
]


def plan(profile: Profile = ATTRIBUTION, keys: list[str] | None = None) -> list[Step]:
    """Every measurement, round by round, each round in a rotated order."""
    keys = list(VARIANTS if keys is None else keys)
    run_seconds = profile.warmup + profile.duration + 0.3  # + starting the client process
    steps = []
    for number in range(profile.rounds):
        shift = number % len(keys)
        for key in keys[shift:] + keys[:shift]:
            steps.append(Step(key, "load", f"round {number + 1}/{profile.rounds} /json c=64", run_seconds,
                              {"path": "/json", "concurrency": 64, "round": number + 1}))
    return steps


def expected_seconds(profile: Profile = ATTRIBUTION, keys: list[str] | None = None) -> float:
    """What the plan takes on an idle machine, servers' startup included."""
    return 5 + sum(step.seconds for step in plan(profile, keys))


def _answers_json(url: str) -> str | None:
    """What is wrong with the server's ``GET /json`` answer, or ``None``."""
    try:
        with urllib.request.urlopen(url + "/json", timeout=5) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    if status == 200 and json.loads(body or b"null") == {"message": HELLO}:
        return None
    return f"GET /json: {status} {body[:80]!r}"


def _start(keys: list[str], profile: Profile, found: dict[str, Any], cpus: set[int] | None) -> dict[str, ServerProcess]:
    launched = {key: ServerProcess(key, startup_timeout=profile.startup_timeout, probe_path="/json", cpus=cpus,
                                   command=[sys.executable, "-m", "backendlab.bench.variants", key]).launch()
                for key in keys}
    running = {}
    try:
        for key, server in launched.items():
            entry = found[key] = {"title": VARIANTS[key].title, "baseline": VARIANTS[key].baseline,
                                  "change": VARIANTS[key].change, "options": VARIANTS[key].options}
            try:
                server.wait_ready()
            except ServerStartFailed as exc:
                entry.update(started=False, error=str(exc))
                continue
            wrong = _answers_json(server.url)
            entry.update(started=True, correct=wrong is None, check_failure=wrong)
            if wrong is None:
                running[key] = server
            else:
                server.stop()
    except BaseException:
        for server in launched.values():
            server.stop()
        raise
    return running


def run_attribution(profile: Profile = ATTRIBUTION, keys: list[str] | None = None, *,
                    progress: bool = True) -> dict[str, Any]:
    """Start every variant, measure them round by round, return the results."""
    keys = list(VARIANTS if keys is None else keys)
    steps = plan(profile, keys)
    server_cpus, client_cpus = (cpu_placement() if profile.pin_cpus else None) or (None, None)
    results: dict[str, Any] = {
        "schema": SCHEMA, "profile": asdict(profile), "machine": machine_info(), "versions": versions(),
        "client": {"kind": "the benchmark's pure-Python client", "loop": profile.client_loop},
        "cpus": {"servers": sorted(server_cpus) if server_cpus else None,
                 "load_generators": sorted(client_cpus) if client_cpus else None},
        "variants": {}, "runs": [], "expected_seconds": round(expected_seconds(profile, keys)),
    }
    results["versions"]["h11"] = metadata.version("h11")  # uvicorn's pure-Python HTTP parser
    started = time.monotonic()
    bar = Progress(steps, enabled=progress)
    servers = _start(keys, profile, results["variants"], server_cpus)
    try:
        for step in steps:
            server = servers.get(step.target)
            if server is not None:
                bar.show(step)
                try:
                    result = _load_run(server, profile, step, client_cpus)
                except Exception as exc:  # one failed measurement is recorded, the run goes on
                    result = {"error": f"{type(exc).__name__}: {exc}"[:1500]}
                results["runs"].append({"variant": step.target, "round": step.params["round"], **result})
            bar.advance()
        for key, server in servers.items():
            results["variants"][key]["alive_at_end"] = server.running()
    finally:
        for server in servers.values():
            server.stop()
    bar.finish()
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    return results


def rates(results: dict[str, Any]) -> dict[str, dict[int, float]]:
    """variant -> round -> requests/s, for every run that did not fail."""
    found: dict[str, dict[int, float]] = {}
    for run in results["runs"]:
        if "error" not in run:
            found.setdefault(run["variant"], {})[run["round"]] = run["rps"]
    return found


def comparisons(results: dict[str, Any]) -> dict[tuple[str, str], Comparison]:
    """Each ratio of :data:`RATIOS` whose two sides were measured in at least two common rounds."""
    by_round = rates(results)
    found = {}
    for subject, against in RATIOS:
        if len(set(by_round.get(subject, {})) & set(by_round.get(against, {}))) >= 2:
            found[subject, against] = compare(by_round[subject], by_round[against])
    return found


def _title(results: dict[str, Any], key: str) -> str:
    return results["variants"].get(key, {}).get("title", key)


def attribution_table(results: dict[str, Any]) -> Table:
    """Markdown: each ratio with its interval, the two rates with theirs, and the rule's verdict."""
    rows = ["| variant | against | what differs | req/s [95% interval] | against, req/s | ratio [95% interval] "
            "| verdict |", "|---|---|---|---|---|---|---|"]
    for (subject, against), c in comparisons(results).items():
        change = VARIANTS[subject].change if VARIANTS[subject].baseline == against else "the whole stack"
        rows.append(
            f"| {_title(results, subject)} | {_title(results, against)} | {change} "
            f"| {c.subject.estimate:,.0f} [{c.subject.low:,.0f}–{c.subject.high:,.0f}] "
            f"| {c.against.estimate:,.0f} [{c.against.low:,.0f}–{c.against.high:,.0f}] "
            f"| {c.ratio.estimate:.2f} [{c.ratio.low:.2f}–{c.ratio.high:.2f}] | {c.verdict} |")
    return Table("\n".join(rows))


# FastAPI on uvicorn without one of its C extensions, and what is missing, in words.
WITHOUT = {"fastapi-asyncio": "uvloop", "fastapi-h11": "httptools", "fastapi-asyncio-h11": "both"}


def _ratio(c: Comparison, of: str) -> str:
    return f"{c.ratio.estimate:.2f}x {of} [{c.ratio.low:.2f}–{c.ratio.high:.2f}], {c.verdict}"


def fastapi_verdict(results: dict[str, Any]) -> str:
    """What the experiments say about FastAPI's speed: server stack, FastAPI's layer over Starlette.

    "Counts" only where the interval rule separates the rates (:func:`intervals.call_difference`)."""
    found = comparisons(results)
    without = {what: found[key, "fastapi"] for key, what in WITHOUT.items() if (key, "fastapi") in found}
    starlette = found.get(("starlette", "fastapi"))
    if not without or starlette is None:
        return "Not attributed: the attribution run lacks FastAPI's variants"
    stack = [what for what, c in without.items() if c.verdict == "slower" and what != "both"]
    if not stack and without.get("both") and without["both"].verdict == "slower":
        stack = ["uvloop and httptools together"]
    layer = starlette.verdict == "faster"
    carry = f"{' and '.join(stack)} {'carries' if stack == ['httptools'] or stack == ['uvloop'] else 'carry'}"
    if stack and layer:
        lead = f"Partly: {carry} part of the speed, and FastAPI's layer over Starlette costs some"
    elif stack:
        lead = f"Partly: {carry} part of the speed; bare Starlette was {starlette.verdict}"
    elif layer:
        lead = ("Not borne out for the C extensions: without them FastAPI was not separated from its default; "
                "bare Starlette was faster")
    else:
        lead = "Indistinguishable here: no variant's interval separated from FastAPI's default"
    details = "; ".join(f"without {what} {_ratio(c, 'its default')}" for what, c in without.items())
    of_fastapi = "FastAPI's rate"
    return f"{lead} (FastAPI {details}; bare Starlette {_ratio(starlette, of_fastapi)})"


def write(results: dict[str, Any], out: Path = DEFAULT_OUT) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    return out


def load(path: Path = DEFAULT_OUT) -> dict[str, Any]:
    return json.loads(Path(path).read_text())

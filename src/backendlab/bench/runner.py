"""The benchmark plan, its run, and the results file.

All server processes (a bare reference server and the eight frameworks) are started first and
checked for correct answers; they sit idle while not measured. The measurements then run in
*rounds*: each round goes through the concurrency sweep and the extra endpoints, every target
in turn (in a rotated order from one round to the next), so that changes in background load on
a shared machine spread over all targets instead of penalising whichever ran at a bad moment.
Each figure reported is the median over the rounds. wrk (if on PATH) runs in the last round right
after the Python client's run at the same concurrency, and the many-connections test runs last,
one server at a time. Every step has a deadline; a server that fails to start is recorded with
its error and left out, and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import psutil

from backendlab.bench import wrk as wrk_tool
from backendlab.bench.client import HoldSpec, LoadSpec, spec_json
from backendlab.bench.process import ResourceSampler, ServerProcess, ServerStartFailed, cpu_placement, run_client
from backendlab.bench.serve import SERVER_OPTIONS
from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS
from backendlab.contract_apps._common import HELLO

__all__ = ["PROFILES", "Profile", "check_answers", "machine_info", "plan", "run_benchmark", "write_results"]

SCHEMA = 1
REFERENCE = "bare"
DEFAULT_OUT = Path("notebooks/benchmark_results/results.json")

VERSIONED = [
    "flask", "werkzeug", "fastapi", "starlette", "pydantic", "django", "pyramid", "tornado", "sanic",
    "bottle", "cherrypy", "cheroot", "waitress", "uvicorn", "uvloop", "httptools", "psutil", "matplotlib",
]


@dataclass(frozen=True)
class Profile:
    """How long and how wide a run is. Every figure here bounds the run's time."""

    name: str
    warmup: float  # seconds per load run, not counted
    duration: float  # seconds per load run, measured
    concurrency: tuple[int, ...]  # the sweep, on sweep_path
    sweep_path: str = "/json"
    extra_paths: tuple[str, ...] = ()  # each at extra_concurrency
    extra_concurrency: int = 64
    hold_connections: int = 0  # the many-connections test; 0 skips it
    hold_slow_ms: int = 1000
    hold_timeout: float = 10.0
    wrk: bool = True  # compare with wrk at wrk_concurrency if wrk is on PATH
    wrk_concurrency: int = 64
    reference: bool = True  # also measure the bare asyncio server
    rounds: int = 1  # each figure is the median of this many interleaved measurements
    request_timeout: float = 5.0
    startup_timeout: float = 20.0
    client_loop: str = "asyncio"  # the load generator's event loop: "asyncio" (pure Python) or "uvloop"
    pin_cpus: bool = True  # servers on one CPU, load generators on another (when there are two)
    uvloop_ceiling: bool = True  # also measure the client on uvloop against the reference (if installed)


PROFILES: dict[str, Profile] = {
    # What the chapter runs when executed: seconds in total, a sanity check, not a measurement.
    "quick": Profile("quick", warmup=0.2, duration=0.5, concurrency=(8,), wrk=False, reference=False,
                     pin_cpus=False),
    # The default of `python -m backendlab.bench run`: about four minutes.
    "standard": Profile(
        "standard", warmup=0.25, duration=1.0, concurrency=(1, 16, 64, 256), extra_paths=("/plaintext",),
        hold_connections=1000, hold_timeout=8.0, rounds=2,
    ),
    # `make bench`: under ten minutes.
    "full": Profile(
        "full", warmup=0.5, duration=2.0, concurrency=(1, 16, 64, 256), extra_paths=("/plaintext",),
        hold_connections=1000, hold_timeout=10.0, rounds=3,
    ),
}


@dataclass(frozen=True)
class Step:
    """One item of the plan: what runs, against which server, and about how long it takes."""

    target: str
    kind: str  # start, load, wrk, hold
    label: str
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)


def targets_of(profile: Profile, frameworks: Iterable[str]) -> list[str]:
    return ([REFERENCE] if profile.reference else []) + list(frameworks)


def _wrk_seconds(profile: Profile) -> int:
    return max(1, round(profile.duration))  # wrk takes whole seconds


def _other_loop(profile: Profile) -> str | None:
    """The loop of the extra ceiling measurement against the reference, if there is one to run."""
    if not (profile.reference and profile.uvloop_ceiling) or profile.client_loop == "uvloop":
        return None
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else None


def plan(profile: Profile, frameworks: Iterable[str], *, wrk: bool) -> list[Step]:
    """Every measurement of a run, in order, with its expected duration (for progress and budgets)."""
    targets = targets_of(profile, frameworks)
    other_loop = _other_loop(profile)
    run_seconds = profile.warmup + profile.duration + 0.3  # + starting the client process
    measurements = [(profile.sweep_path, c) for c in profile.concurrency]
    measurements += [(path, profile.extra_concurrency) for path in profile.extra_paths]
    steps: list[Step] = []
    for round_number in range(profile.rounds):
        last_round = round_number == profile.rounds - 1
        shift = round_number % len(targets)
        order = targets[shift:] + targets[:shift]  # rotate, so no target is always first or last
        for path, concurrency in measurements:
            for target in order:
                if target == REFERENCE and path != profile.sweep_path:
                    continue
                label = f"round {round_number + 1}/{profile.rounds} {path} c={concurrency}"
                steps.append(Step(target, "load", label, run_seconds,
                                  {"path": path, "concurrency": concurrency, "round": round_number + 1}))
                if not (last_round and path == profile.sweep_path and concurrency == profile.wrk_concurrency):
                    continue
                if wrk:
                    steps.append(Step(target, "wrk", f"wrk {path} c={concurrency}", _wrk_seconds(profile) + 0.5,
                                      {"path": path, "concurrency": concurrency}))
                if target == REFERENCE and other_loop:  # the client's own ceiling on the faster loop
                    steps.append(Step(target, "load", f"{path} c={concurrency}, client on {other_loop}", run_seconds,
                                      {"path": path, "concurrency": concurrency, "round": round_number + 1,
                                       "loop": other_loop}))
    if profile.hold_connections:
        for target in targets:
            if target != REFERENCE:
                steps.append(Step(target, "hold", f"{profile.hold_connections} x /slow", profile.hold_timeout,
                                  {"connections": profile.hold_connections}))
    return steps


def worst_case_seconds(profile: Profile, frameworks: Iterable[str], *, wrk: bool) -> float:
    """An upper bound of the run's time from the plan's deadlines (startup and hold at their limits)."""
    total = profile.startup_timeout + 5
    for step in plan(profile, frameworks, wrk=wrk):
        if step.kind == "hold":
            total += profile.hold_timeout + 3
        elif step.kind == "wrk":
            total += _wrk_seconds(profile) + 1
        else:
            total += profile.warmup + profile.duration + 1
    return total


def expected_seconds(profile: Profile, frameworks: Iterable[str], *, wrk: bool) -> float:
    """What the plan is expected to take on an idle machine (startup included)."""
    return 5 + sum(step.seconds for step in plan(profile, frameworks, wrk=wrk))


class Progress:
    """A one-line progress report on stderr: steps done, elapsed, estimated time left."""

    def __init__(self, steps: list[Step], stream: TextIO | None = None, enabled: bool = True) -> None:
        self.steps = steps
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = time.monotonic()
        self.done = 0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def show(self, step: Step) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        left = sum(s.seconds for s in self.steps[self.done:])
        width = 24
        filled = int(width * self.done / max(1, len(self.steps)))
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {self.done + 1:>3}/{len(self.steps)} "
                f"{elapsed:5.0f} s elapsed, ~{left:4.0f} s left  {step.target}: {step.label}")
        self.stream.write(("\r" + line.ljust(100)) if self.tty else line + "\n")
        self.stream.flush()

    def advance(self, count: int = 1) -> None:
        self.done += count

    def finish(self) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.started
            line = f"done: {len(self.steps)} steps in {elapsed:.0f} s"
            self.stream.write(("\r" + line.ljust(100) if self.tty else line) + "\n")
            self.stream.flush()


def machine_info() -> dict[str, Any]:
    """Where and when the run happened: what a reader needs to weigh the numbers."""
    cpu_model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "date_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "platform": platform.platform(),
        "cpu_model": cpu_model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["wrk"] = wrk_tool.wrk_version()
    return found


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check_answers(url: str, target: str) -> list[str]:
    """What a freshly started server answers wrongly (an empty list when all is right)."""
    failures = []
    status, body = _get(url + "/json")
    if status != 200 or json.loads(body or b"null") != {"message": HELLO}:
        failures.append(f"GET /json: {status} {body[:80]!r}")
    if target == REFERENCE:
        return failures
    checks = {"/plaintext": (200, HELLO.encode()), "/items/1": (200, None), "/items/999999": (404, None)}
    for path, (expected_status, expected_body) in checks.items():
        status, body = _get(url + path)
        if status != expected_status or (expected_body is not None and body != expected_body):
            failures.append(f"GET {path}: {status} {body[:80]!r}")
    return failures


def _mb(value: int | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


def _load_run(server: ServerProcess, profile: Profile, step: Step, cpus: set[int] | None) -> dict[str, Any]:
    spec = LoadSpec(port=server.port, path=step.params["path"], concurrency=step.params["concurrency"],
                    warmup=profile.warmup, duration=profile.duration, request_timeout=profile.request_timeout)
    deadline = profile.warmup + profile.duration + 2 * spec.connect_timeout + profile.request_timeout + 20
    return run_client(spec_json(spec, step.params.get("loop", profile.client_loop)), timeout=deadline, cpus=cpus)


def _hold_run(server: ServerProcess, profile: Profile, cpus: set[int] | None) -> dict[str, Any]:
    spec = HoldSpec(port=server.port, path=f"/slow?ms={profile.hold_slow_ms}",
                    connections=profile.hold_connections, timeout=profile.hold_timeout)
    rss_before = server.rss()
    with ResourceSampler(server.pid) as sampler:
        result = run_client(spec_json(spec, profile.client_loop), timeout=profile.hold_timeout + 20, cpus=cpus)
    result.update(slow_ms=profile.hold_slow_ms, rss_before_mb=_mb(rss_before), peak_rss_mb=_mb(sampler.peak_rss),
                  peak_server_connections=sampler.peak_connections)
    return result


def _server_description(target: str) -> dict[str, Any]:
    if target == REFERENCE:
        return {"title": "bare asyncio (reference)", "server": "asyncio Protocol", "handlers": "none",
                "interface": "raw HTTP bytes", "server_options": SERVER_OPTIONS["bare"],
                "command": "python -m backendlab.bench.serve bare"}
    impl = IMPLEMENTATIONS[target]
    return {"title": impl.title, "server": impl.server, "handlers": impl.handlers, "interface": impl.interface,
            "server_options": SERVER_OPTIONS[impl.server], "command": impl.command}


def _start_servers(targets: list[str], profile: Profile, results: dict[str, Any],
                   cpus: set[int] | None = None) -> dict[str, ServerProcess]:
    """Launch every server side by side, then wait for each; record failures and wrong answers."""
    launched = {target: ServerProcess(target, startup_timeout=profile.startup_timeout, cpus=cpus).launch()
                for target in targets}
    running: dict[str, ServerProcess] = {}
    try:
        for target, server in launched.items():
            entry = results["implementations"][target] = _server_description(target)
            try:
                server.wait_ready()
            except ServerStartFailed as exc:
                entry.update(started=False, error=str(exc), correct=False)
                continue
            running[target] = server
            failures = check_answers(server.url, target)
            entry.update(started=True, startup_s=round(server.startup_s or 0, 2), correct=not failures,
                         check_failures=failures, rss_idle_mb=_mb(server.rss()))
    except BaseException:
        for server in launched.values():
            server.stop()
        raise
    return running


def median_summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per framework, path and concurrency: medians over the rounds, errors added up."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for run in runs:
        if run.get("tool") == "python" and "error" not in run:
            groups.setdefault((run["framework"], run["path"], run["concurrency"]), []).append(run)
    summary = []
    for (framework, path, concurrency), group in groups.items():
        rates = [r["rps"] for r in group]
        latency = {key: statistics.median(r["latency_ms"][key] for r in group if r["latency_ms"][key] is not None)
                   if any(r["latency_ms"][key] is not None for r in group) else None
                   for key in ("p50", "p90", "p99", "mean")}
        maxima = [r["latency_ms"]["max"] for r in group if r["latency_ms"]["max"] is not None]
        latency["max"] = max(maxima) if maxima else None
        errors: dict[str, int] = {}
        for r in group:
            for kind, count in r["errors"].items():
                errors[kind] = errors.get(kind, 0) + count
        summary.append({
            "framework": framework, "tool": "python", "path": path, "concurrency": concurrency,
            "rounds": len(group), "rps": round(statistics.median(rates), 1),
            "rps_min": min(rates), "rps_max": max(rates), "latency_ms": latency,
            "requests": sum(r["requests"] for r in group), "errors": dict(sorted(errors.items())),
            "error_count": sum(errors.values()),
        })
    return summary


def run_benchmark(
    profile: Profile | str = "standard",
    frameworks: Iterable[str] | None = None,
    *,
    use_wrk: bool | None = None,
    progress: bool = True,
    on_step: Callable[[Step], None] | None = None,
) -> dict[str, Any]:
    """Run the plan of ``profile`` and return the results (see :func:`write_results`)."""
    if isinstance(profile, str):
        profile = PROFILES[profile]
    frameworks = list(FRAMEWORKS if frameworks is None else frameworks)
    unknown = set(frameworks) - set(FRAMEWORKS)
    if unknown:
        raise ValueError(f"unknown frameworks {sorted(unknown)}; choose from {FRAMEWORKS}")
    wanted = profile.wrk if use_wrk is None else use_wrk
    wrk_on = bool(wanted) and wrk_tool.wrk_path() is not None
    steps = plan(profile, frameworks, wrk=wrk_on)
    placement = cpu_placement() if profile.pin_cpus else None
    server_cpus, client_cpus = placement or (None, None)
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "profile": asdict(profile),
        "machine": machine_info(),
        "versions": versions(),
        "client": {"kind": "pure-Python asyncio protocol callbacks, keep-alive, no pipelining, one process",
                   "loop": profile.client_loop, "ceiling_also_on": _other_loop(profile)},
        "cpus": {"servers": sorted(server_cpus) if server_cpus else None,
                 "load_generators": sorted(client_cpus) if client_cpus else None},
        "frameworks": frameworks,
        "implementations": {},
        "runs": [],
        "summary": [],
        "many_connections": [],
        "wrk_used": wrk_on,
        "expected_seconds": round(expected_seconds(profile, frameworks, wrk=wrk_on)),
        "worst_case_seconds": round(worst_case_seconds(profile, frameworks, wrk=wrk_on)),
    }
    bar = Progress(steps, enabled=progress)
    started = time.monotonic()
    if progress:
        bar.stream.write(f"starting {len(targets_of(profile, frameworks))} servers\n")
    servers = _start_servers(targets_of(profile, frameworks), profile, results, server_cpus)
    try:
        for step in steps:
            server = servers.get(step.target)
            if server is None:  # did not start: recorded already
                bar.advance()
                continue
            bar.show(step)
            if on_step:
                on_step(step)
            try:
                _run_step(server, profile, step, results, client_cpus)
            except Exception as exc:  # one failed measurement is reported, the run goes on
                results["runs" if step.kind != "hold" else "many_connections"].append(
                    {"framework": step.target, "tool": "wrk" if step.kind == "wrk" else "python", **step.params,
                     "error": f"{type(exc).__name__}: {exc}"[:1500]})
            bar.advance()
        for target, server in servers.items():
            results["implementations"][target].update(rss_end_mb=_mb(server.rss()), alive_at_end=server.running())
    finally:
        for server in servers.values():
            server.stop()
    bar.finish()
    results["summary"] = median_summary(results["runs"])
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    return results


def _run_step(server: ServerProcess, profile: Profile, step: Step, results: dict[str, Any],
              cpus: set[int] | None = None) -> None:
    if step.kind == "load":
        result = _load_run(server, profile, step, cpus)
        loop = step.params.get("loop", profile.client_loop)
        tool = "python" if loop == profile.client_loop else f"python-{loop}"  # the summary counts "python" only
        results["runs"].append({"framework": step.target, "tool": tool, "round": step.params["round"], **result})
    elif step.kind == "wrk":
        paired = next((r for r in reversed(results["runs"]) if r["framework"] == step.target
                       and r.get("tool") == "python" and r.get("path") == step.params["path"]
                       and r.get("concurrency") == step.params["concurrency"] and "error" not in r), None)
        result = wrk_tool.run_wrk(server.url + step.params["path"], concurrency=step.params["concurrency"],
                                  duration=_wrk_seconds(profile), timeout=profile.request_timeout, cpus=cpus)
        results["runs"].append({"framework": step.target, "tool": "wrk", "path": step.params["path"], **result,
                                "paired_python_rps": paired["rps"] if paired else None})
    elif step.kind == "hold":
        results["many_connections"].append({"framework": step.target, **_hold_run(server, profile, cpus)})
    else:
        raise ValueError(f"unknown step kind {step.kind!r}")


def write_results(results: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    return out


def load_results(path: Path = DEFAULT_OUT) -> dict[str, Any]:
    return json.loads(Path(path).read_text())

"""The benchmark harness: statistics, the load client, bounded runs, child processes, plots.

Nothing here measures speed: the servers are tiny test servers or one framework at a time for
a fraction of a second, and every assertion is about correctness, bounds and clean-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from orphans import assert_child_dies_with_its_parent

from backendlab.bench import plots
from backendlab.bench.client import (
    HoldSpec,
    LoadSpec,
    ProtocolError,
    build_request,
    frame_response,
    read_response,
    run_hold,
    run_load,
)
from backendlab.bench.intervals import INDISTINGUISHABLE
from backendlab.bench.process import ChildTimeout, ServerProcess, ServerStartFailed, cpu_placement, run_child
from backendlab.bench.runner import PROFILES, Profile, expected_seconds, median_summary, plan, run_benchmark
from backendlab.bench.serve import READY_PREFIX
from backendlab.bench.stats import latency_summary, percentile
from backendlab.bench.wrk import parse_wrk_output
from backendlab.contract_apps import FRAMEWORKS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "notebooks" / "benchmark_results" / "results.json"


# -- statistics ---------------------------------------------------------------------------------


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 99.5) == 100
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert percentile([7.0], 50) == 7.0 and percentile([7.0], 99) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2  # an observed value, never interpolated
    # Ceiling of q% of n, not rounding: 10 % of 14 values is 1.4, so the 2nd value (rounding: the 1st);
    # 30 % of 5 is 1.5, so the 2nd (Python's round(1.5) is 2 as well, hence the first case).
    assert percentile(list(range(1, 15)), 10) == 2
    assert percentile([10, 20, 30, 40, 50], 30) == 20
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_latency_summary_in_milliseconds() -> None:
    summary = latency_summary([0.003, 0.001, 0.002, 0.010])
    assert summary == {"p50": 2.0, "p90": 10.0, "p99": 10.0, "max": 10.0, "mean": 4.0}
    assert latency_summary([]) == {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}


# -- response framing ---------------------------------------------------------------------------


def read(data: bytes) -> tuple[int, bool]:
    async def go() -> tuple[int, bool]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await read_response(reader)

    return asyncio.run(go())


def test_read_response_frames_bodies() -> None:
    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello") == (200, True)
    assert read(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n") == (404, True)
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert read(chunked) == (200, True)
    assert read(b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok") == (201, False)
    assert read(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") == (200, False)
    assert read(b"HTTP/1.1 204 No Content\r\n\r\n") == (204, True)
    with pytest.raises(ProtocolError):
        read(b"SSH-2.0-OpenSSH\r\n\r\n")
    with pytest.raises(ProtocolError):
        read(b"HTTP/1.1 200 OK\r\n\r\nbody until close")
    with pytest.raises(asyncio.IncompleteReadError):
        read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")


def test_frame_response_waits_for_a_whole_response_and_measures_it() -> None:
    whole = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    for cut in range(len(whole)):  # every prefix is incomplete, not an error
        assert frame_response(whole[:cut]) is None, cut
    assert frame_response(whole) == (len(whole), 200, True)
    assert frame_response(whole + b"HTTP/1.1 404") == (len(whole), 200, True)  # the next one is not read
    chunked = (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
               b"2;x=y\r\nok\r\n10\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n")
    for cut in range(len(chunked)):
        assert frame_response(chunked[:cut]) is None, cut
    assert frame_response(chunked) == (len(chunked), 200, True)
    not_modified = b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"
    assert frame_response(not_modified) == (len(not_modified), 304, True)
    assert frame_response(b"HTTP/1.1 200 OK\r\nCONNECTION: Close\r\nCONTENT-LENGTH: 0\r\n\r\n")[1:] == (200, False)


@pytest.mark.parametrize("garbage", [
    b"SSH-2.0-OpenSSH_9.2\r\n",  # not HTTP, and no blank line will ever come
    b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * (70 * 1024),  # a header that never ends
])
def test_frame_response_rejects_what_it_cannot_frame(garbage: bytes) -> None:
    with pytest.raises(ProtocolError):
        frame_response(garbage)


def test_build_request() -> None:
    assert build_request("127.0.0.1", 80, "/json") == (
        b"GET /json HTTP/1.1\r\nHost: 127.0.0.1:80\r\nUser-Agent: backendlab-bench\r\n\r\n"
    )
    post = build_request("127.0.0.1", 80, "/items", "POST", b'{"a":1}')
    assert post.endswith(b"Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
    assert b"Connection: close\r\n" in build_request("h", 1, "/", keep_alive=False)


# -- a tiny test server in a thread ---------------------------------------------------------------


class TinyServer:
    """Answers ``/ok`` (Content-Length), ``/chunked``, ``/close`` (Connection: close), ``/missing`` (404);
    ``/never`` is read and never answered. Counts the requests it answered."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.answered = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.connections: list[socket.socket] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        buffer = b""
        with connection:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    try:
                        data = connection.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1]
                if path == b"/never":
                    self.stopping.wait()
                    return
                if path == b"/chunked":
                    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                elif path == b"/close":
                    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                elif path == b"/missing":
                    response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                else:
                    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                try:
                    connection.sendall(response)
                except OSError:
                    return
                with self.lock:
                    self.answered += 1
                if path == b"/close":
                    return

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.acceptor.join(5)
        for thread in self.threads:
            thread.join(5)


@pytest.fixture
def tiny() -> Iterator[TinyServer]:
    server = TinyServer()
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/ok", "/chunked", "/close"])
def test_load_client_counts_what_the_server_answered(tiny: TinyServer, path: str) -> None:
    spec = LoadSpec(port=tiny.port, path=path, concurrency=4, warmup=0.0, duration=0.4, expect_status=200)
    result = asyncio.run(run_load(spec))
    assert result["errors"] == {} and result["warmup_errors"] == {}
    assert result["requests"] > 0 and result["statuses"] == {"200": result["requests"]}
    # the server thread counts an answer just after sending it, so the client may have read the last one
    # before it is counted: stop (and join) the server's threads before comparing the two counts
    tiny.stop()
    # every answer counted was sent by the server; only those cut off by the end can be missing
    assert result["requests"] <= result["answered_total"] <= tiny.answered <= result["answered_total"] + 4
    assert result["rps"] == pytest.approx(result["requests"] / result["duration_s"], rel=0.01)
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]


def test_load_client_counts_unexpected_statuses_as_errors(tiny: TinyServer) -> None:
    result = asyncio.run(run_load(LoadSpec(port=tiny.port, path="/missing", concurrency=2, warmup=0, duration=0.2)))
    assert result["requests"] > 0
    assert result["statuses"] == {"404": result["requests"]}
    assert result["errors"]["status-404"] >= result["requests"] - 2  # 2 may straddle the window's start


def test_load_run_stops_at_its_duration(tiny: TinyServer) -> None:
    started = time.monotonic()
    result = asyncio.run(run_load(LoadSpec(port=tiny.port, path="/ok", concurrency=8, warmup=0.2, duration=0.5)))
    elapsed = time.monotonic() - started
    assert 0.7 <= elapsed < 10  # it ends (the window itself is checked by duration_s below)
    assert result["stopped_by"] == "duration" and result["duration_s"] == pytest.approx(0.5, abs=0.05)


def test_load_run_stops_at_its_request_limit(tiny: TinyServer) -> None:
    started = time.monotonic()
    spec = LoadSpec(port=tiny.port, path="/ok", concurrency=4, warmup=0, duration=60, max_requests=50)
    result = asyncio.run(run_load(spec))
    assert time.monotonic() - started < 10
    assert result["stopped_by"] == "max_requests"
    assert result["requests"] <= 50 and tiny.answered <= 50


def test_a_server_that_never_answers_is_reported_not_waited_for(tiny: TinyServer) -> None:
    started = time.monotonic()
    spec = LoadSpec(port=tiny.port, path="/never", concurrency=3, warmup=0.1, duration=0.3, request_timeout=30,
                    connect_timeout=0.5)
    result = asyncio.run(run_load(spec))
    # A client that waited for the answer would take request_timeout (30 s); 0.4 s is expected.
    assert time.monotonic() - started < 20
    assert result["requests"] == 0
    assert result["errors"] == {"no-answer-in-window": 3}


def test_a_request_that_waits_too_long_is_a_timeout_and_the_slot_reconnects(tiny: TinyServer) -> None:
    spec = LoadSpec(port=tiny.port, path="/never", concurrency=2, warmup=0, duration=0.7, request_timeout=0.2,
                    connect_timeout=0.1)
    result = asyncio.run(run_load(spec))
    assert result["requests"] == 0
    # each slot times out about every 0.2 s and sends again on a new connection
    assert 2 <= result["errors"].get("timeout", 0) + result["warmup_errors"].get("timeout", 0) <= 2 * 5
    assert set(result["errors"]) <= {"timeout", "no-answer-in-window"}


def test_connection_refused_is_an_error_not_a_hang() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        result = asyncio.run(run_load(LoadSpec(port=port, concurrency=2, warmup=0, duration=0.3)))
    assert result["requests"] == 0
    assert result["errors"].get("connect-refused", 0) >= 2


def test_hold_opens_every_connection_and_is_bounded(tiny: TinyServer) -> None:
    result = asyncio.run(run_hold(HoldSpec(port=tiny.port, path="/ok", connections=50, timeout=5)))
    assert result["ok"] == 50 and result["error_count"] == 0
    started = time.monotonic()
    result = asyncio.run(run_hold(HoldSpec(port=tiny.port, path="/never", connections=20, timeout=0.5)))
    # /never never answers: an unbounded hold would not return at all; 0.5 s is expected.
    assert time.monotonic() - started < 20
    assert result["ok"] == 0 and result["errors"] == {"timeout": 20}


# -- child processes --------------------------------------------------------------------------------


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def no_children_left() -> None:
    deadline = time.monotonic() + 5
    while psutil.Process().children(recursive=True) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert psutil.Process().children(recursive=True) == []


@pytest.mark.skipif(cpu_placement() is None, reason="needs two usable CPUs")
def test_servers_and_load_generators_are_pinned_to_different_cpus() -> None:
    server_cpus, client_cpus = cpu_placement()
    assert server_cpus.isdisjoint(client_cpus)
    server = ServerProcess("bare", cpus=server_cpus).start()
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{server.pid}/task")]
        assert all(os.sched_getaffinity(t) == server_cpus for t in threads)
        report = "import os; print(sorted(os.sched_getaffinity(0)))"
        assert run_child(python(report), timeout=10, cpus=client_cpus).strip() == str(sorted(client_cpus))
    finally:
        server.stop()
    no_children_left()


def test_server_process_starts_answers_and_stops_cleanly() -> None:
    server = ServerProcess("bare").start()
    try:
        assert server.port and server.running() and (server.rss() or 0) > 0
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert connection.recv(1024).startswith(b"HTTP/1.1 200 OK")
    finally:
        server.stop()
    pid, port = server.pid, server.port
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    server.stop()  # twice is fine
    no_children_left()


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The server leaves a process that is in its process group but no longer its descendant
    # (its parent exited: a daemon's double fork). Only killing the group reaches it.
    pid_file = tmp_path / "detached.pid"
    code = (
        "import socket, subprocess, sys, time\n"
        "shell = subprocess.run(['sh', '-c', 'sleep 60 >/dev/null 2>&1 & echo $!'], capture_output=True, text=True)\n"
        f"open({str(pid_file)!r}, 'w').write(shell.stdout.strip())\n"
        "s = socket.create_server(('127.0.0.1', 0))\n"
        f"print('{READY_PREFIX} port=%d' % s.getsockname()[1], flush=True)\n"
        "while True:\n"
        "    c, _ = s.accept(); c.recv(65536)\n"
        "    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n'); c.close()\n"
    )
    try:
        server = ServerProcess("spawner", command=python(code), startup_timeout=10).start()
        detached = psutil.Process(int(pid_file.read_text()))
        assert detached not in psutil.Process(server.pid).children(recursive=True)
        assert os.getpgid(detached.pid) == os.getpgid(server.pid)
        server.stop()
        _, alive = psutil.wait_procs([detached], timeout=5)
        assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == [], "stop() missed the process group"
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)  # never left behind, even when the test fails
    no_children_left()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import sys; print('starting', flush=True); sys.exit(3)", "exited with code 3 before serving"),
        ("import time; time.sleep(60)", "reported no port within 1 s"),
        (
            "import socket, time\ns = socket.create_server(('127.0.0.1', 0))\n"
            f"print('{READY_PREFIX} port=%d' % s.getsockname()[1], flush=True)\ntime.sleep(60)",
            "did not answer GET /plaintext within 1 s",
        ),
    ],
    ids=["exits", "silent", "never-answers"],
)
def test_a_server_that_fails_to_start_is_reported_not_hung_on(code: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(ServerStartFailed, match=message):
        ServerProcess("broken", command=python(code), startup_timeout=1).start()
    assert time.monotonic() - started < 8
    no_children_left()


def test_benchmark_records_a_server_that_fails_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import backendlab.bench.runner as runner

    class Broken(ServerProcess):
        def __init__(self, key: str, **kwargs: object) -> None:
            super().__init__(key, command=python("raise SystemExit('cannot start')"), startup_timeout=2)

    monkeypatch.setattr(runner, "ServerProcess", Broken)
    started = time.monotonic()
    results = run_benchmark(Profile("tiny", warmup=0, duration=0.1, concurrency=(1,), reference=False),
                            ["flask", "sanic"], progress=False)
    assert time.monotonic() - started < 10
    for key in ("flask", "sanic"):
        entry = results["implementations"][key]
        assert entry["started"] is False and entry["correct"] is False
        assert "cannot start" in entry["error"]
    assert results["runs"] == []
    no_children_left()


def test_run_child_kills_a_child_that_overruns() -> None:
    started = time.monotonic()
    with pytest.raises(ChildTimeout):
        run_child(python("import time; time.sleep(60)"), timeout=0.5)
    assert time.monotonic() - started < 5
    no_children_left()


HARNESS_CHILDREN = {
    "server": "s = ServerProcess('bare').start()\nout.write_text(str(s.pid))\n",
    "run_child": (
        "run_child([sys.executable, '-c', 'import os, time, pathlib; "
        "pathlib.Path(os.environ[\"OUT\"]).write_text(str(os.getpid())); time.sleep(60)'], timeout=120)\n"
    ),
}


@pytest.mark.parametrize("kind", HARNESS_CHILDREN)
def test_a_child_does_not_outlive_a_harness_killed_outright(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kill -9`` on a benchmark (or a test run) must not leave its servers or clients running."""
    out = tmp_path / "child.pid"
    monkeypatch.setenv("OUT", str(out))
    harness = (
        "import os, pathlib, sys, time\n"
        "from backendlab.bench.process import ServerProcess, run_child\n"
        "out = pathlib.Path(os.environ['OUT'])\n" + HARNESS_CHILDREN[kind] + "time.sleep(60)\n"
    )
    assert_child_dies_with_its_parent(harness, out)


def test_quick_run_of_one_framework_end_to_end() -> None:
    results = run_benchmark("quick", ["bottle"], progress=False)
    entry = results["implementations"]["bottle"]
    assert entry["started"] and entry["correct"], entry
    [run] = results["runs"]
    assert run["framework"] == "bottle" and run["tool"] == "python" and run["concurrency"] == 8
    assert run["requests"] > 0 and run["error_count"] == 0
    [row] = results["summary"]
    assert row["rps"] == run["rps"] and row["rounds"] == 1
    assert set(results["machine"]) >= {"date_utc", "cpu_model", "load_average_start", "python"}
    assert results["versions"]["bottle"] and results["versions"]["waitress"]
    no_children_left()


# -- plan, wrk, plots, committed results ----------------------------------------------------------------


def test_full_plan_fits_in_ten_minutes() -> None:
    assert expected_seconds(PROFILES["full"], FRAMEWORKS, wrk=True) < 600
    steps = plan(PROFILES["full"], FRAMEWORKS, wrk=True)
    assert {step.target for step in steps} == {"bare", *FRAMEWORKS}
    rounds = PROFILES["full"].rounds
    sweep = [s for s in steps if s.kind == "load" and s.params["concurrency"] == 64 and s.params["path"] == "/json"
             and "loop" not in s.params]
    assert len(sweep) == rounds * (len(FRAMEWORKS) + 1)
    # the client's own ceiling on uvloop: once, against the reference, right after wrk ran there
    [ceiling] = [i for i, s in enumerate(steps) if "loop" in s.params]
    assert steps[ceiling].target == "bare" and steps[ceiling].params["loop"] == "uvloop"
    assert steps[ceiling - 1].kind == "wrk" and steps[ceiling - 1].target == "bare"
    firsts = {sweep[r * (len(FRAMEWORKS) + 1)].target for r in range(rounds)}
    assert len(firsts) == rounds  # the order rotates from round to round
    wrk = [i for i, s in enumerate(steps) if s.kind == "wrk"]
    assert all(steps[i - 1].kind == "load" and steps[i - 1].target == steps[i].target for i in wrk)


def test_median_summary_over_rounds() -> None:
    runs = [
        {"framework": "flask", "tool": "python", "path": "/json", "concurrency": 8, "rps": rps, "requests": 10,
         "latency_ms": {"p50": p50, "p90": 2.0, "p99": 3.0, "max": mx, "mean": 1.0}, "errors": errors}
        # skewed so that the mean (233.3 req/s, p50 3.0 ms) differs from the median (200, 2.0)
        for rps, p50, mx, errors in [(100.0, 1.0, 5.0, {}), (400.0, 6.0, 9.0, {"timeout": 2}), (200.0, 2.0, 7.0, {})]
    ]
    runs.append({"framework": "flask", "tool": "wrk", "path": "/json", "concurrency": 8, "rps": 999.0})
    [row] = median_summary(runs)
    assert row["rps"] == 200.0 and (row["rps_min"], row["rps_max"]) == (100.0, 400.0)
    assert row["latency_ms"]["p50"] == 2.0 and row["latency_ms"]["max"] == 9.0
    assert row["errors"] == {"timeout": 2} and row["error_count"] == 2 and row["rounds"] == 3


WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:5000/json
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.21ms  512.00us  1.20s    90.00%
    Req/Sec    20.00k     1.00k   22.00k    80.00%
  Latency Distribution
     50%    3.10ms
     75%    3.40ms
     90%  800.00us
     99%    1.01s
  40000 requests in 2.00s, 5.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 10
Requests/sec:  20000.50
Transfer/sec:      2.50MB
"""


def test_parse_wrk_output() -> None:
    parsed = parse_wrk_output(WRK_OUTPUT)
    assert parsed["requests"] == 40000 and parsed["rps"] == 20000.5
    assert parsed["latency_ms"] == {"p50": 3.1, "p90": 0.8, "p99": 1010.0, "max": 1200.0}
    assert parsed["errors"] == {"read": 2, "timeout": 5, "non-2xx": 10} and parsed["error_count"] == 17
    with pytest.raises(ValueError):
        parse_wrk_output("wrk: command failed")


def synthetic_results() -> dict:
    summary = [
        {"framework": key, "tool": "python", "path": "/json", "concurrency": c, "rps": 1000.0 * (i + 1) + c,
         "rps_min": 900.0 * (i + 1), "rps_max": 1100.0 * (i + 1) + c,
         "latency_ms": {"p50": 1.0 + c / 10, "p99": 5.0 + c / 5}}
        for i, key in enumerate(["flask", "bare"]) for c in (1, 16)
    ]
    return {
        "profile": {"name": "test", "sweep_path": "/json", "concurrency": [1, 16], "rounds": 2},
        "frameworks": ["flask"],
        "implementations": {"flask": {"title": "Flask", "server": "waitress"}, "bare": {"title": "bare"}},
        "runs": [],
        "summary": summary,
        "many_connections": [{"framework": "flask", "connections": 10, "slow_ms": 100, "timeout_s": 1.0, "ok": 7,
                              "peak_rss_mb": 40.0, "rss_before_mb": 30.0}],
    }


def test_wrk_table_shows_the_client_ceiling_on_both_loops() -> None:
    from backendlab.bench import report

    results = synthetic_results()
    results["client"] = {"loop": "asyncio"}
    results["runs"] = [
        {"framework": "bare", "tool": "python", "path": "/json", "concurrency": 64, "rps": 60000.0},
        {"framework": "bare", "tool": "wrk", "path": "/json", "concurrency": 64, "rps": 100000.0,
         "paired_python_rps": 60000.0},
        {"framework": "bare", "tool": "python-uvloop", "path": "/json", "concurrency": 64, "rps": 95000.0},
        {"framework": "flask", "tool": "wrk", "path": "/json", "concurrency": 64, "rps": 2000.0,
         "paired_python_rps": 2100.0},
    ]
    assert report.client_ceiling(results) == {"wrk": 100000.0, "asyncio": 60000.0, "uvloop": 95000.0}
    table = str(report.wrk_table(results))
    assert "| 0.60 |" in table and "client on uvloop | 64 | 95,000 | 100,000 | 0.95 |" in table
    assert "| Flask | 64 | 2,100 | 2,000 | 1.05 |" in table
    latency = {"p50": 1.0, "p90": 1.0, "p99": 1.0, "max": 1.0, "mean": 1.0}
    runs = [{**run, "latency_ms": latency, "errors": {}, "requests": 1} for run in results["runs"]]
    assert [row["rps"] for row in median_summary(runs)] == [60000.0]  # the uvloop run is no framework figure


def test_plots_are_deterministic_png(tmp_path: Path) -> None:
    results = synthetic_results()
    first = plots.png_bytes(plots.throughput_figure(results))
    assert first.startswith(b"\x89PNG") and first == plots.png_bytes(plots.throughput_figure(results))
    assert b"Software" not in first
    written = plots.save_plots(results, tmp_path)
    assert sorted(p.name for p in written) == ["latency.png", "many_connections.png", "throughput.png"]


def test_committed_results_file_covers_the_eight_frameworks() -> None:
    if not RESULTS.exists():
        pytest.skip("no committed results yet: run `make bench`")
    results = json.loads(RESULTS.read_text())
    assert results["frameworks"] == FRAMEWORKS
    assert {"date_utc", "cpu_model", "load_average_start", "python"} <= set(results["machine"])
    swept = plots.sweep(results)
    for key in FRAMEWORKS:
        assert results["implementations"][key]["correct"], key
        assert set(swept[key]) == set(results["profile"]["concurrency"]), key
    for name in ("throughput.png", "latency.png"):
        assert (RESULTS.parent / name).exists()


def test_report_tables_and_claims_from_the_committed_results() -> None:
    from backendlab.bench import report

    if not RESULTS.exists():
        pytest.skip("no committed results yet: run `make bench`")
    results = json.loads(RESULTS.read_text())
    assert len(report.claims(results)) == 7
    for table in (report.sweep_table(results), report.many_connections_table(results), report.claims_table(results)):
        assert table.count("\n") >= 3
    assert "hello_json" in report.handler_source("flask") and "HelloJSON" in report.handler_source("tornado")
    assert report.source_table().count("\n") == len(FRAMEWORKS) + 1


def test_percentile_outside_0_to_100_names_the_value() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100, not -1"):
        percentile([1.0], -1)


def test_latency_summary_rounds_to_microseconds() -> None:
    assert latency_summary([0.0012345678])["max"] == 1.235  # 3 decimals of a millisecond


# -- the chapter's tables and verdicts, from synthetic results -------------------------------------


def ranked_results(order: list[str], *, idle: dict[str, float] | None = None, ok: dict[str, int] | None = None,
                   bare_rps: float | None = 16000.0) -> dict:
    """Results whose GET /json rate at 64 connections puts ``order`` fastest first (8000, 7000, ... req/s).

    ``idle``: idle memory (MiB) per framework, 50 by default; ``ok``: requests answered in time out
    of 1000 slow ones, per framework (no many-connections run for the others).
    """
    from backendlab.contract_apps import IMPLEMENTATIONS

    rates = {key: 1000.0 * (len(order) - place) for place, key in enumerate(order)}
    if bare_rps is not None:
        rates["bare"] = bare_rps
    implementations = {key: {"title": IMPLEMENTATIONS[key].title, "server": IMPLEMENTATIONS[key].server,
                             "rss_idle_mb": (idle or {}).get(key, 50.0)} for key in FRAMEWORKS}
    implementations["bare"] = {"title": "bare asyncio", "server": "uvloop"}
    return {
        "profile": {"sweep_path": "/json", "concurrency": [1, 64]},
        "frameworks": list(FRAMEWORKS),
        "implementations": implementations,
        "summary": [{"framework": key, "path": "/json", "concurrency": 64, "rps": rps, "error_count": 0,
                     "latency_ms": {"p50": 2.0, "p99": 9.0}} for key, rps in rates.items()],
        "many_connections": [{"framework": key, "connections": 1000, "ok": n, "error_count": 1000 - n,
                              "peak_rss_mb": 61.4} for key, n in (ok or {}).items()],
        "runs": [],
    }


def with_at(key: str, place: int, others: tuple[str, ...] = ("flask", "django", "pyramid", "bottle", "cherrypy",
                                                              "tornado", "sanic", "fastapi")) -> list[str]:
    order = [k for k in others if k != key]
    return order[:place - 1] + [key] + order[place - 1:]


def claim(results: dict, who: str, words: str) -> dict[str, str]:
    from backendlab.bench import report

    found = [c for c in report.claims(results) if c["framework"] == who and words in c["claim"]]
    assert len(found) == 1, report.claims(results)
    return found[0]


@pytest.mark.parametrize(("place", "verdict"), [
    (1, "Supported, as a ranking among these Python frameworks"),
    (2, "Supported, as a ranking among these Python frameworks"),
    (3, "Partly: upper half, not the front"),
    (4, "Partly: upper half, not the front"),
    (5, "Not borne out here: lower half"),
    (8, "Not borne out here: lower half"),
])
def test_speed_claims_are_judged_by_the_place_among_the_eight(place: int, verdict: str) -> None:
    results = ranked_results(with_at("fastapi", place))
    row = claim(results, "FastAPI", "High-performance framework")
    assert row["verdict"] == verdict
    rps = 1000 * (9 - place)
    share = "" if place == 1 else f" ({rps / 8000:.0%} of Flask)"
    assert row["measured"] == f"{rps:,} req/s on GET /json at 64 connections: {place} of 8{share}"
    assert claim(ranked_results(with_at("tornado", place)), "Tornado", "High-performance")["verdict"] == verdict
    assert claim(ranked_results(with_at("sanic", place)), "Sanic", "optimized for speed")["verdict"] == verdict


def test_a_framework_not_measured_gets_no_verdict() -> None:
    from backendlab.bench import report

    results = ranked_results(["flask", "django", "pyramid", "tornado", "sanic"])
    row = claim(results, "FastAPI", "High-performance framework")
    assert (row["measured"], row["verdict"]) == ("not measured", "no data")
    assert not [c for c in report.claims(results) if "Starlette" in c["claim"] or c["framework"] == "(article)"]


def test_fastapis_share_of_the_bare_server_is_stated() -> None:
    row = claim(ranked_results(with_at("fastapi", 1), bare_rps=16000.0), "FastAPI", "Starlette")
    assert row["measured"].startswith("50% of the rate of a bare asyncio server on uvloop, same client; ")
    assert row["verdict"] == ("Not attributed: no attribution experiments given. FastAPI's rate was 50% of the "
                              "bare server's as the Python client measured it (the reference for any framework "
                              "cost quoted here)")
    results = ranked_results(with_at("fastapi", 1), bare_rps=None)
    from backendlab.bench import report

    assert not [c for c in report.claims(results) if "Starlette" in c["claim"]]


@pytest.mark.parametrize(("ok", "errors", "verdict"), [
    (1000, 0, "Supported at this scale: one thread, no connection limit; more needs memory and file descriptors, "
              "not threads"),
    (999, 1, "Not shown in this run"),
    (1000, 2, "Not shown in this run"),
])
def test_tornados_thousands_of_connections(ok: int, errors: int, verdict: str) -> None:
    results = ranked_results(with_at("tornado", 3), ok={"tornado": ok})
    results["many_connections"][0]["error_count"] = errors
    row = claim(results, "Tornado", "thousands")
    assert row["verdict"] == verdict
    assert row["measured"] == (f"{ok} of 1000 simultaneous 1-second requests answered in time, one process, "
                               "peak RSS 61 MiB")
    results["many_connections"][0]["error"] = "did not start"
    from backendlab.bench import report

    assert not [c for c in report.claims(results) if "thousands" in c["claim"]]


@pytest.mark.parametrize(("speed", "memory", "verdict"), [
    (1, 1, "Supported"), (2, 4, "Supported"), (2, 5, "Fast, not the lightest"), (3, 4, "Light, not the fastest"),
    (3, 5, "Not borne out here"), (8, 8, "Not borne out here"),
])
def test_sanics_lightweight_and_fast(speed: int, memory: int, verdict: str) -> None:
    order = with_at("sanic", speed)
    by_memory = with_at("sanic", memory)
    results = ranked_results(order, idle={key: 40.0 + 2 * i for i, key in enumerate(by_memory)})
    row = claim(results, "Sanic", "lightweight")
    assert row["verdict"] == verdict
    assert row["measured"] == (f"speed {speed} of 8; idle memory {40 + 2 * (memory - 1)} MiB, "
                               f"{memory} of 8 from the smallest")


def test_sanics_memory_claim_needs_its_idle_memory() -> None:
    from backendlab.bench import report

    results = ranked_results(with_at("sanic", 1))
    results["implementations"]["sanic"]["rss_idle_mb"] = None
    assert not [c for c in report.claims(results) if "lightweight" in c["claim"]]


def test_the_articles_advice_on_async_frameworks() -> None:
    order = ["fastapi", "sanic", "flask", "tornado", "bottle", "pyramid", "cherrypy", "django"]
    ok = {"fastapi": 1000, "tornado": 1000, "sanic": 1000, "flask": 40, "django": 120, "bottle": 80}
    row = claim(ranked_results(order, ok=ok), "(article)", "asynchronous frameworks")
    assert row["measured"] == ("short requests: FastAPI 1.3x and Tornado 0.8x the fastest sync framework (Flask); "
                               "1,000 slow requests: FastAPI and Tornado answered all, the best thread-pool server "
                               "120")
    assert row["verdict"] == ("Right for many waiting connections; for short requests the HTTP parser and the "
                              "framework's own layer both weigh (see the attribution experiments), and Tornado was "
                              "not faster than the best sync framework")
    ok["tornado"] = 999
    order = ["tornado", "fastapi", "sanic", "flask", "bottle", "pyramid", "cherrypy", "django"]
    row = claim(ranked_results(order, ok=ok), "(article)", "asynchronous frameworks")
    assert row["measured"].endswith("FastAPI and Tornado answered not all, the best thread-pool server 120")
    assert row["verdict"] == ("Right for many waiting connections; for short requests the HTTP parser and the "
                              "framework's own layer both weigh (see the attribution experiments)")
    row = claim(ranked_results(order), "(article)", "asynchronous frameworks")
    assert row["measured"] == ("short requests: FastAPI 1.4x and Tornado 1.6x the fastest sync framework (Flask)")


def test_claims_table_lists_every_claim_in_order() -> None:
    from backendlab.bench import report

    results = ranked_results(with_at("fastapi", 1), ok={"tornado": 1000})
    table = report.claims_table(results)
    lines = table.splitlines()
    assert lines[:2] == ["| who | claim (Shahzad) | measured | verdict |", "|---|---|---|---|"]
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| FastAPI", "| FastAPI", "| Tornado", "| Tornado", "| Sanic", "| Sanic", "| (article)"]
    first = report.claims(results)[0]
    assert lines[2] == f"| FastAPI | {first['claim']} | {first['measured']} | {first['verdict']} |"


def test_rank_at_uses_64_connections_or_the_highest_level() -> None:
    from backendlab.bench import report

    results = ranked_results(["tornado", "flask"])
    assert report.rank_at(results) == [("tornado", 2000.0), ("flask", 1000.0)]
    results["profile"]["concurrency"] = [1, 16]
    for row in results["summary"]:
        row["concurrency"] = 16 if row["framework"] != "flask" else 1
    assert report.rank_at(results) == [("tornado", 2000.0)]
    assert report.rank_at(results, 1) == [("flask", 1000.0)]


def test_sweep_and_many_connections_tables_show_the_medians() -> None:
    from backendlab.bench import report

    results = synthetic_results()
    results["summary"][1] |= {"error_count": 6, "rounds": 2}
    results["summary"] += [{"framework": "flask", "path": "/plaintext", "concurrency": 1, "rps": 1.0}]
    for row in results["summary"]:
        row.setdefault("error_count", 0)
    assert report.sweep_table(results).splitlines() == [
        "| framework | server | c=1: req/s · p50 · p99 ms | c=16: req/s · p50 · p99 ms |",
        "|---|---|---|---|",
        "| Flask | waitress | 1,001 · 1.1 · 5.2 | 1,016 · 2.6 · 8.2 (3 errors per round) |",
        "| bare |  | 2,001 · 1.1 · 5.2 | 2,016 · 2.6 · 8.2 |",
    ]
    del results["summary"][3]  # bare at c=16
    assert report.sweep_table(results).splitlines()[-1] == "| bare |  | 2,001 · 1.1 · 5.2 | – |"
    results["many_connections"] = [
        {"framework": "flask", "connections": 10, "ok": 7, "errors": {"timeout": 2, "reset": 1},
         "latency_ms": {"p50": 101.4, "max": 1000.6}, "rss_before_mb": 30.0, "peak_rss_mb": 40.25,
         "peak_server_connections": 9},
        {"framework": "bare", "error": "x" * 70},
    ]
    assert report.many_connections_table(results).splitlines()[2:] == [
        "| Flask | waitress | 7 of 10 | timeout 2, reset 1 | 101 · 1,001 | 30.0 → 40.2 | 9 |",
        f"| bare | | failed: {'x' * 60} | | | | |",
    ]


def test_tables_render_as_html_with_code_spans() -> None:
    from backendlab.bench.report import Table

    table = Table("| a | b |\n|---|---|\n| `x<y` | 2 |")
    assert repr(table) == str(table)
    assert table._repr_html_() == ('<table class="backendlab-bench"><thead><tr><th>a</th><th>b</th></tr></thead>'
                                   "<tbody><tr><td><code>x&lt;y</code></td><td>2</td></tr></tbody></table>")


def test_machine_lines_and_requests_in_flight() -> None:
    from backendlab.bench import report

    results = {
        "machine": {"date_utc": "2026-01-02T03:04:05", "cpu_model": "CPU X", "usable_cpus": 2, "memory_gib": 24.0,
                    "platform": "Linux", "load_average_start": [0.5, 0.25, 1.0], "python": "3.11.2"},
        "versions": {"waitress": "3.0", "wrk": None, "flask": "3.1"},
        "profile": {"name": "quick", "warmup": 0.5, "duration": 2.0, "sweep_path": "/json"},
        "client": {"loop": "asyncio"},
    }
    lines = report.machine_lines(results)
    assert lines[:4] == [
        "run: quick profile on 2026-01-02, 1 interleaved rounds of 0.5 s warm-up + 2 s per measurement, "
        "medians reported",
        "machine: CPU X, 2 usable CPUs, 24 GiB, Linux",
        "load average at start: 0.50 / 0.25 / 1.00 (1 / 5 / 15 min)",
        "python: 3.11.2; client loop: asyncio; wrk: not installed",
    ]
    assert lines[4].startswith("frameworks: Flask 3.1, FastAPI None")
    assert lines[5].startswith("servers: waitress 3.0, uvicorn None")
    run = {"tool": "python", "path": "/json", "concurrency": 64, "framework": "flask"}
    results["runs"] = [run | {"rps": 1000.0, "latency_ms": {"mean": 64.0}},
                       run | {"rps": 2000.0, "latency_ms": {"mean": 40.0}},
                       run | {"rps": 4000.0, "latency_ms": {"mean": 2.0}},
                       run | {"rps": 9.0, "latency_ms": {"mean": None}},
                       run | {"rps": 9.0, "latency_ms": {"mean": 9.0}, "error": "failed"},
                       run | {"rps": 9.0, "latency_ms": {"mean": 9.0}, "concurrency": 16},
                       run | {"rps": 9.0, "latency_ms": {"mean": 9.0}, "path": "/plaintext"},
                       run | {"rps": 9.0, "latency_ms": {"mean": 9.0}, "tool": "wrk"}]
    assert report.in_flight(results) == {"flask": 64.0}
    assert report.in_flight(results, 16) == {"flask": 9 * 9 / 1000}


# -- the attribution experiments ----------------------------------------------------------------------------


def attribution_results(factors: dict[str, float], rounds: int = 8) -> dict:
    """Attribution results whose variants run at ``factors`` x FastAPI's rate, +-2 % from round to round."""
    from backendlab.bench.variants import VARIANTS

    wobble = [1.0, 1.02, 0.98, 1.01, 0.99, 1.02, 0.98, 1.0]
    rates = {key: 10000.0 * factors.get(key, 1.0) for key in VARIANTS}
    return {"variants": {key: {"title": key} for key in VARIANTS},
            "runs": [{"variant": key, "round": r + 1, "rps": rps * wobble[(r + i) % 8], "error_count": 0}
                     for r in range(rounds) for i, (key, rps) in enumerate(rates.items())]}


def test_attribution_plan_measures_every_variant_each_round_in_a_rotating_order() -> None:
    from backendlab.bench import attribution
    from backendlab.bench.variants import VARIANTS

    steps = attribution.plan()
    rounds = attribution.ATTRIBUTION.rounds
    assert rounds >= 10 and len(steps) == rounds * len(VARIANTS)
    assert all(s.params == {"path": "/json", "concurrency": 64, "round": s.params["round"]} for s in steps)
    firsts = [steps[r * len(VARIANTS)].target for r in range(rounds)]
    assert len(set(firsts)) == min(rounds, len(VARIANTS))
    assert attribution.expected_seconds() < 8 * 60


def test_attribution_table_states_each_ratio_with_the_rules_verdict() -> None:
    from backendlab.bench import attribution

    results = attribution_results({"fastapi-asyncio": 0.8, "fastapi-h11": 0.995, "fastapi-asyncio-h11": 0.7,
                                   "starlette": 1.5, "bare": 6.0, "sanic": 2.0})
    lines = attribution.attribution_table(results).splitlines()
    assert len(lines) == 2 + len(attribution.RATIOS)
    verdicts = {tuple(line.split(" | ")[:2]): line.rsplit(" | ", 1)[1].rstrip(" |") for line in lines[2:]}
    assert verdicts == {("| fastapi-asyncio", "fastapi"): "slower", ("| fastapi-h11", "fastapi"): INDISTINGUISHABLE,
                        ("| fastapi-asyncio-h11", "fastapi"): "slower", ("| starlette", "fastapi"): "faster",
                        ("| tornado-uvloop", "tornado"): INDISTINGUISHABLE,
                        ("| sanic-asyncio", "sanic"): "slower", ("| fastapi", "bare"): "slower",
                        ("| fastapi", "sanic"): "slower", ("| starlette", "sanic"): "slower"}
    assert "| 0.80 [" in lines[2] and "| 0.17 [" in lines[-3] and "| 0.75 [" in lines[-1]
    results["runs"] = [run for run in results["runs"] if run["variant"] != "starlette"]
    assert "starlette" not in attribution.attribution_table(results)


@pytest.mark.parametrize(("factors", "lead"), [
    ({"fastapi-asyncio": 0.8, "fastapi-h11": 0.6, "starlette": 1.5},
     "Partly: uvloop and httptools carry part of the speed, and FastAPI's layer over Starlette costs some ("),
    ({"fastapi-h11": 0.6}, "Partly: httptools carries part of the speed; bare Starlette was indistinguishable here ("),
    ({"fastapi-asyncio-h11": 0.6}, "Partly: uvloop and httptools together carry part of the speed; bare Starlette"),
    ({"starlette": 1.5}, "Not borne out for the C extensions: without them FastAPI was not separated from its "
                         "default; bare Starlette was faster ("),
    ({}, "Indistinguishable here: no variant's interval separated from FastAPI's default ("),
])
def test_fastapis_verdict_comes_from_the_attribution_experiments(factors: dict[str, float], lead: str) -> None:
    from backendlab.bench import report

    attribution = attribution_results(factors)
    results = ranked_results(with_at("fastapi", 1), bare_rps=16000.0)
    row = [c for c in report.claims(results, attribution) if "Starlette" in c["claim"]][0]
    assert row["verdict"].startswith(lead)
    assert f"without uvloop {factors.get('fastapi-asyncio', 1.0):.2f}x its default [" in row["verdict"]
    assert f"bare Starlette {factors.get('starlette', 1.0):.2f}x FastAPI's rate [" in row["verdict"]
    assert row["verdict"].endswith("FastAPI's rate was 50% of the bare server's as the Python client measured it "
                                   "(the reference for any framework cost quoted here)")
    results["runs"] = [{"tool": "wrk", "framework": "bare", "rps": 20000.0, "paired_python_rps": 12000.0,
                        "concurrency": 64}]
    assert report.claims_table(results, attribution).count("on that server the client reached 60% of wrk's rate") == 1


def test_variant_servers_answer_json() -> None:
    from backendlab.bench import attribution

    for key in ("starlette", "tornado-uvloop", "sanic-asyncio"):
        command = [sys.executable, "-m", "backendlab.bench.variants", key]
        server = ServerProcess(key, probe_path="/json", command=command).start()
        try:
            assert attribution._answers_json(server.url) is None, key
        finally:
            server.stop()
    no_children_left()


def test_harness_sockets_get_tcp_nodelay_on_asyncios_loop() -> None:
    """The bound socket hands the server TCP connections with Nagle's algorithm off, as uvloop does."""
    from backendlab.bench.serve import _bound_socket

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=_bound_socket("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 5)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accepted_nodelay()) == 1


LOOP_PROBE = '''
import asyncio, sys
from backendlab.bench import serve, variants
from backendlab.contract_apps import IMPLEMENTATIONS

variant = variants.VARIANTS[sys.argv[1]]
app = IMPLEMENTATIONS[variant.app].make_app()
if variant.app == "sanic":
    from sanic.response import text

    app.get("/loop")(lambda request: text(type(asyncio.get_running_loop()).__module__))
elif variant.app == "tornado":
    import tornado.web

    class Loop(tornado.web.RequestHandler):
        def get(self):
            self.write(type(asyncio.get_running_loop()).__module__)

    app.add_handlers(r".*", [(r"/loop", Loop)])
else:
    from fastapi.responses import PlainTextResponse

    async def loop():
        return type(asyncio.get_running_loop()).__module__

    app.get("/loop", response_class=PlainTextResponse)(loop)
serve.RUNNERS[variant.server](app, "127.0.0.1", 0, **variant.options)
'''


@pytest.mark.parametrize(("key", "loop"), [
    ("fastapi", "uvloop"), ("fastapi-asyncio", "asyncio.unix_events"), ("tornado", "asyncio.unix_events"),
    ("tornado-uvloop", "uvloop"), ("sanic", "uvloop"), ("sanic-asyncio", "asyncio.unix_events"),
])
def test_each_variant_runs_on_the_loop_it_names(key: str, loop: str, tmp_path: Path) -> None:
    import urllib.request

    probe = tmp_path / "loop_probe.py"
    probe.write_text(LOOP_PROBE)
    server = ServerProcess(key, probe_path="/json", command=[sys.executable, str(probe), key]).start()
    try:
        with urllib.request.urlopen(server.url + "/loop", timeout=5) as response:
            assert response.read().decode() == loop
    finally:
        server.stop()
    no_children_left()


def test_source_table_counts_each_modules_lines() -> None:
    from backendlab.bench import report
    from backendlab.contract_apps import IMPLEMENTATIONS

    lines = report.source_table().split("\n")
    assert lines[:2] == ["| framework | module | server | handlers | lines (non-blank) | invalid body | `/items/abc` |",
                         "|---|---|---|---|---|---|---|"]
    for line, key in zip(lines[2:], FRAMEWORKS, strict=True):
        impl = IMPLEMENTATIONS[key]
        text = (ROOT / "src" / "backendlab" / "contract_apps" / f"{key}_app.py").read_text().splitlines()
        code = [t for t in text if t.strip() and not t.lstrip().startswith("#")]
        assert line == (f"| {impl.title} | `{key}_app.py` | {impl.server} | {impl.handlers} "
                        f"| {len(text)} ({len(code)}) | {impl.invalid_status} | {impl.non_integer_id_status} |")


@pytest.mark.parametrize("key", FRAMEWORKS)
def test_handler_source_is_the_whole_json_handler_dedented(key: str) -> None:
    from backendlab.bench import report
    from backendlab.contract_apps import IMPLEMENTATIONS

    source = report.handler_source(key)
    module = (ROOT / "src" / "backendlab" / "contract_apps" / f"{key}_app.py").read_text()
    lines = source.split("\n")
    assert not lines[0][0].isspace() and lines[0].startswith(("@", "def ", "async def ", "class "))
    indent = module.split(lines[0])[0].split("\n")[-1]
    assert "\n".join(indent + line if line else line for line in lines) in module
    before = module.split(lines[0])[0].rstrip("\n").split("\n")[-1]
    assert not before.strip().startswith("@"), f"{key}: a decorator was left out"
    assert len(lines) <= 12, IMPLEMENTATIONS[key].module_name


def test_handler_source_names_the_module_without_a_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    from backendlab.bench import report

    monkeypatch.setattr(report, "HANDLER_NAMES", {"no_such_handler"})
    with pytest.raises(LookupError, match=r"no /json handler found in backendlab\.contract_apps\.flask_app"):
        report.handler_source("flask")


def test_machine_lines_name_every_server_version_and_the_rounds() -> None:
    from backendlab.bench import report

    servers = ("waitress", "uvicorn", "uvloop", "httptools", "tornado", "sanic", "cheroot")
    results = {
        "machine": {"date_utc": "2026-01-02T03:04:05", "cpu_model": "CPU X", "usable_cpus": 2, "memory_gib": 24.0,
                    "platform": "Linux", "load_average_start": [0.5, 0.25, 1.0], "python": "3.11.2"},
        "versions": {name: f"{i}.0" for i, name in enumerate(servers)} | {"wrk": "4.2.0"},
        "profile": {"name": "full", "warmup": 0.5, "duration": 2.0, "rounds": 3},
        "client": {"loop": "uvloop"},
    }
    lines = report.machine_lines(results)
    assert lines[0].startswith("run: full profile on 2026-01-02, 3 interleaved rounds of")
    assert lines[3] == "python: 3.11.2; client loop: uvloop; wrk: 4.2.0"
    assert lines[5] == ("servers: waitress 0.0, uvicorn 1.0, uvloop 2.0, httptools 3.0, tornado 4.0, sanic 5.0, "
                        "cheroot 6.0")


def test_sweep_table_for_another_path_with_gaps_and_errors() -> None:
    from backendlab.bench import report

    results = synthetic_results()
    results["frameworks"] = ["django", "flask"]  # django not measured: no row
    results["summary"] = [
        {"framework": "flask", "path": "/plaintext", "concurrency": 16, "rps": 1500.0, "error_count": 6,
         "latency_ms": {"p50": 2.0, "p99": None}},
        {"framework": "bare", "path": "/plaintext", "concurrency": 16, "rps": 3000.0, "error_count": 0,
         "latency_ms": {"p50": 1.0, "p99": 3.0}},
        {"framework": "flask", "path": "/plaintext", "concurrency": 1, "rps": 900.0, "error_count": 0,
         "latency_ms": {"p50": 1.0, "p99": 3.0}},
        {"framework": "flask", "path": "/json", "concurrency": 64, "rps": 1.0, "error_count": 0,
         "latency_ms": {"p50": 1.0, "p99": 3.0}},
    ]
    assert report.sweep_table(results, "/plaintext").split("\n") == [
        "| framework | server | c=1: req/s · p50 · p99 ms | c=16: req/s · p50 · p99 ms |",
        "|---|---|---|---|",
        "| Flask | waitress | 900 · 1.0 · 3.0 | 1,500 · 2.0 · – (6 errors per round) |",
        "| bare |  | – | 3,000 · 1.0 · 3.0 |",
    ]


def test_many_connections_table_header_failures_and_no_errors() -> None:
    from backendlab.bench import report

    results = synthetic_results()
    del results["many_connections"]
    header = ["| framework | server | answered in time | errors | p50 · max latency, ms | server RSS before → peak, "
              "MiB | server connections at peak |", "|---|---|---|---|---|---|---|"]
    assert report.many_connections_table(results).split("\n") == header
    results["many_connections"] = [
        {"framework": "bare", "error": "did not start"},
        {"framework": "flask", "connections": 10, "ok": 10, "errors": {}, "latency_ms": {"p50": 100.0, "max": 200.0},
         "rss_before_mb": 30.0, "peak_rss_mb": 31.0, "peak_server_connections": 10},
    ]
    assert report.many_connections_table(results).split("\n")[2:] == [
        "| bare | | failed: did not start | | | | |",
        "| Flask | waitress | 10 of 10 | 0 | 100 · 200 | 30.0 → 31.0 | 10 |",
    ]


def test_wrk_table_rows_and_the_client_ceiling_with_gaps() -> None:
    from backendlab.bench import report

    results = synthetic_results()
    results["frameworks"] = ["flask", "django"]
    results["implementations"]["bare"] = {"title": "bare asyncio"}
    results["runs"] = [
        {"framework": "flask", "tool": "python", "concurrency": 64, "rps": 1.0, "paired_python_rps": 5.0},
        {"framework": "flask", "tool": "wrk", "concurrency": 64, "rps": 2000.0, "paired_python_rps": 2100.0},
        {"framework": "django", "tool": "wrk", "concurrency": 64, "rps": 1000.0},
        {"framework": "django", "tool": "wrk", "concurrency": 64, "rps": 0.0, "error": "crashed"},
        {"framework": "flask", "concurrency": 64, "rps": 1.0},
        {"framework": "flask", "tool": "python-uvloop", "concurrency": 64, "rps": 3000.0},
        {"framework": "flask", "tool": "python-uvloop", "concurrency": 64, "rps": 1.0, "error": "crashed"},
    ]
    assert report.client_ceiling(results) is None, "only the bare server's wrk run gives the ceiling"
    assert report.wrk_table(results).split("\n") == [
        "| server under test | concurrency | Python client req/s | wrk req/s, just after | Python / wrk |",
        "|---|---|---|---|---|",
        "| Flask | 64 | 2,100 | 2,000 | 1.05 |",
        "| Flask, client on uvloop | 64 | 3,000 | 2,000 | 1.50 |",
        "| django | 64 | – | 1,000 | – |",
    ]
    results["runs"].append({"framework": "bare", "tool": "wrk", "concurrency": 64, "rps": 9000.0,
                            "paired_python_rps": 6000.0})
    assert report.client_ceiling(results) == {"wrk": 9000.0, "asyncio": 6000.0}
    results["client"] = {"loop": "uvloop"}
    assert report.client_ceiling(results) == {"wrk": 9000.0, "uvloop": 6000.0}
    assert report.wrk_table(results).split("\n")[2] == "| bare asyncio | 64 | 6,000 | 9,000 | 0.67 |"
    results["runs"] = [run for run in results["runs"] if run["framework"] != "flask"]
    results["runs"].append({"framework": "bare", "tool": "python-uvloop", "concurrency": 64, "rps": 8000.0})
    assert report.wrk_table(results).split("\n")[3] == "| bare asyncio, client on uvloop | 64 | 8,000 | 9,000 | 0.89 |"
    assert report.wrk_table({"runs": [], "frameworks": []}) is None


def test_claims_are_read_at_64_connections_or_the_highest_level() -> None:
    from backendlab.bench import report

    results = ranked_results(["fastapi", "flask"], bare_rps=4000.0)
    results["profile"]["concurrency"] = [64, 256]
    at_256 = {"fastapi": 100.0, "flask": 200.0, "bare": 5000.0}
    results["summary"] += [row | {"concurrency": 256, "rps": at_256[row["framework"]]} for row in results["summary"]]
    assert report.rank_at(results) == [("fastapi", 2000.0), ("flask", 1000.0)]
    assert claim(results, "FastAPI", "Starlette")["measured"].startswith("50% of the rate")
    results["profile"]["concurrency"] = [1, 256]
    assert report.rank_at(results) == [("flask", 200.0), ("fastapi", 100.0)]
    assert claim(results, "FastAPI", "Starlette")["measured"].startswith("2% of the rate")


def test_every_claim_is_quoted_and_titles_fall_back_to_the_key() -> None:
    from backendlab.bench import report

    order = ["fastapi", "sanic", "flask", "tornado", "bottle", "pyramid", "django", "cherrypy"]
    results = ranked_results(order, ok={"tornado": 1000, "fastapi": 1000, "flask": 30})
    assert [(c["framework"], c["claim"]) for c in report.claims(results)] == [
        ("FastAPI", "“High-performance framework for building APIs”"),
        ("FastAPI", "“High performance, powered by Starlette and Pydantic”"),
        ("Tornado", "“High-performance framework”"),
        ("Tornado", "“designed to handle thousands of simultaneous connections”"),
        ("Sanic", "“Asynchronous framework optimized for speed”"),
        ("Sanic", "“lightweight and fast”"),
        ("(article)", "“For performance-critical applications, leverage asynchronous frameworks like FastAPI or "
                      "Tornado”"),
    ]
    assert claim(results, "FastAPI", "Starlette")["measured"] == (
        "50% of the rate of a bare asyncio server on uvloop, same client; FastAPI runs on uvicorn with uvloop and "
        "httptools (C extensions)")
    assert claim(results, "Tornado", "High-performance")["measured"] == (
        "5,000 req/s on GET /json at 64 connections: 4 of 8 (62% of FastAPI)")
    assert claim(results, "Sanic", "optimized")["measured"] == (
        "7,000 req/s on GET /json at 64 connections: 2 of 8 (88% of FastAPI)")
    del results["implementations"]["cherrypy"]["title"], results["implementations"]["fastapi"]
    assert claim(results, "Sanic", "optimized")["measured"].endswith("(88% of fastapi)")  # no title: the key
    del results["many_connections"]
    assert len(report.claims(results)) == 6, "without many-connections runs: no Tornado hold claim"


def test_tornado_only_as_fast_as_the_best_sync_framework_is_not_faster() -> None:
    results = ranked_results(["fastapi", "sanic", "tornado", "flask", "bottle", "pyramid", "django", "cherrypy"])
    for row in results["summary"]:
        row["rps"] = 6000.0 if row["framework"] in ("tornado", "flask") else row["rps"]
    verdict = claim(results, "(article)", "asynchronous")["verdict"]
    assert verdict.endswith(", and Tornado was not faster than the best sync framework")


def test_html_tables_escape_text_but_keep_quotes_and_every_row() -> None:
    from backendlab.bench.report import Table

    html = Table("| a | b |\n|---|---|\n| it's | \"q\" |\n| 3 | `4` |")._repr_html_()
    assert html.endswith("<tbody><tr><td>it's</td><td>\"q\"</td></tr><tr><td>3</td><td><code>4</code></td></tr>"
                         "</tbody></table>")


def test_committed_attribution_file_covers_every_variant_and_ratio() -> None:
    from backendlab.bench import attribution
    from backendlab.bench.variants import VARIANTS

    path = ROOT / attribution.DEFAULT_OUT
    if not path.exists():
        pytest.skip("no committed attribution results yet: run `make bench-attribution`")
    results = attribution.load(path)
    assert set(results["variants"]) == set(VARIANTS)
    assert all(entry["correct"] for entry in results["variants"].values())
    rounds = results["profile"]["rounds"]
    assert sorted(attribution.rates(results)) == sorted(VARIANTS)
    assert all(len(by_round) == rounds for by_round in attribution.rates(results).values())
    assert list(attribution.comparisons(results)) == attribution.RATIOS


def test_starlette_verdict_names_the_clients_ceiling_on_its_own_loop() -> None:
    from backendlab.bench import report

    results = ranked_results(with_at("fastapi", 1), bare_rps=16000.0)
    results["client"] = {"loop": "uvloop"}
    results["runs"] = [{"tool": "wrk", "framework": "bare", "rps": 20000.0, "paired_python_rps": 12000.0,
                        "concurrency": 64}]
    assert claim(results, "FastAPI", "Starlette")["verdict"] == (
        "Not attributed: no attribution experiments given. FastAPI's rate was 50% of the bare server's as the "
        "Python client measured it (the reference for any framework cost quoted here; on that server the client "
        "reached 60% of wrk's rate)")
    table = report.claims_table(results, attribution_results({}))
    assert "Indistinguishable here: no variant's interval separated" in table and "Not attributed" not in table

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
    assert report.ordering_sentence(results).startswith("Order at 64 connections")
    assert "hello_json" in report.handler_source("flask") and "HelloJSON" in report.handler_source("tornado")
    assert report.source_table().count("\n") == len(FRAMEWORKS) + 1


def test_percentile_outside_0_to_100_names_the_value() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100, not -1"):
        percentile([1.0], -1)


def test_latency_summary_rounds_to_microseconds() -> None:
    assert latency_summary([0.0012345678])["max"] == 1.235  # 3 decimals of a millisecond

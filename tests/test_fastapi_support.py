"""backendlab.fastapi_support: reading Uvicorn's log (reloads, repeated lines), timing bursts of requests."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
import requests
from conftest import FakeCommand  # a stand-in for run_command's handle, shared by the helper tests
from fastapi import FastAPI

from backendlab import serve
from backendlab.fastapi_support import Burst, burst, log_lines, threads_used, wait_for_line, wait_for_reload

BANNER = ("INFO:     Started server process [10]", "INFO:     Application startup complete.")
RELOAD = (
    "WARNING:  WatchFiles detected changes in 'main.py'. Reloading...",
    "INFO:     Shutting down",
    "INFO:     Started server process [11]",
    "INFO:     Waiting for application startup.",
    "INFO:     Application startup complete.",
)


def test_wait_for_reload_returns_the_lines_from_the_reload_to_the_new_startup() -> None:
    command = FakeCommand(*BANNER, *RELOAD, 'INFO:     127.0.0.1:5 - "GET / HTTP/1.1" 200 OK')
    assert wait_for_reload(command) == list(RELOAD)


def test_wait_for_reload_waits_until_the_restarted_server_is_up() -> None:
    command = FakeCommand(*BANNER)

    def reload_later() -> None:
        for line in RELOAD:
            time.sleep(0.05)
            command.lines.append(line)

    writer = threading.Thread(target=reload_later)
    writer.start()
    try:
        assert wait_for_reload(command, timeout=5) == list(RELOAD)
    finally:
        writer.join()


def test_wait_for_reload_ignores_a_startup_before_the_reload() -> None:
    command = FakeCommand(*BANNER, *RELOAD[:2])  # reloading, not started again yet
    with pytest.raises(TimeoutError, match="no completed reload within 0.2 s"):
        wait_for_reload(command, timeout=0.2)


def test_wait_for_reload_times_out_with_the_end_of_the_log() -> None:
    with pytest.raises(TimeoutError, match="Application startup complete"):
        wait_for_reload(FakeCommand(*BANNER), timeout=0.1)


WORKERS = (
    "INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)",
    "INFO:     Started parent process [20]",
    "INFO:     Started server process [21]",
    "INFO:     Waiting for application startup.",
    "INFO:     Started server process [22]",
    "INFO:     Application startup complete.",
    "INFO:     Waiting for application startup.",
    "INFO:     Application startup complete.",
)


def test_wait_for_line_returns_the_first_count_lines_that_contain_the_text() -> None:
    command = FakeCommand(*WORKERS, "INFO:     Application startup complete. (a third)")
    assert wait_for_line(command, "startup complete", 2) == [WORKERS[5], WORKERS[7]]
    assert wait_for_line(command, "Started parent process") == [WORKERS[1]]


def test_wait_for_line_waits_for_lines_still_to_come() -> None:
    command = FakeCommand(*WORKERS[:6])  # one worker started so far

    def second_worker_later() -> None:
        for line in WORKERS[6:]:
            time.sleep(0.05)
            command.lines.append(line)

    writer = threading.Thread(target=second_worker_later)
    writer.start()
    try:
        assert wait_for_line(command, "Application startup complete.", 2, timeout=5) == [WORKERS[5], WORKERS[7]]
    finally:
        writer.join()


def test_wait_for_line_times_out_saying_how_many_it_found() -> None:
    with pytest.raises(TimeoutError, match=r"1 of 2 lines with 'Application startup complete.' within 0.1 s"):
        wait_for_line(FakeCommand(*WORKERS[:6]), "Application startup complete.", 2, timeout=0.1)
    with pytest.raises(ValueError, match="at least 1"):
        wait_for_line(FakeCommand(), "x", 0)


def test_log_lines_keeps_uvicorns_info_lines_without_their_numbers() -> None:
    banner = "\n".join(["", " ⚡️ Starting FastAPI in production mode", *WORKERS[:3], "WARNING:  something else"])
    assert log_lines(banner) == [
        "INFO:     Uvicorn running on http://N.N.N.N:N (Press CTRL+C to quit)",
        "INFO:     Started parent process [N]",
        "INFO:     Started server process [N]",
    ]
    assert log_lines(banner) == log_lines(banner.replace("[21]", "[4821]").replace("8000", "51319"))


def answered(body: dict[str, object]) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


def test_threads_used_counts_thread_ids_and_lists_their_names() -> None:
    bodies = [("AnyIO worker thread", 1), ("AnyIO worker thread", 2), ("AnyIO worker thread", 1), ("loop", 3)]
    result = Burst(seconds=0.5, responses=[answered({"thread": n, "thread_id": i}) for n, i in bodies])
    assert threads_used(result) == "3 thread(s) named ['AnyIO worker thread', 'loop']"


def test_burst_times_concurrent_requests_until_the_last_answer() -> None:
    app = FastAPI()

    @app.get("/wait")
    async def wait() -> dict[str, bool]:
        await asyncio.sleep(0.3)
        return {"ok": True}

    with serve(app) as server:
        result = burst(server.url + "/wait", 5)
    assert [r.status_code for r in result.responses] == [200] * 5
    assert 0.3 <= result.seconds < 3.0  # one delay when the waits overlap; 10x slack for a loaded machine


def test_burst_needs_at_least_one_request() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        burst("http://127.0.0.1:9/", 0)

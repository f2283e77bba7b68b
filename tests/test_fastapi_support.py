"""backendlab.fastapi_support: waiting for a development server's reload, timing bursts of requests."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi import FastAPI

from backendlab import serve
from backendlab.fastapi_support import burst, wait_for_reload


class FakeCommand:
    """Stands in for a run_command() handle: only its growing ``output`` is read."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


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

"""backendlab.tornado_support: the Tornado chapter's measuring, WebSocket and parsing plumbing."""

from __future__ import annotations

import asyncio
import resource
import time

import pytest
import tornado.web
import tornado.websocket

from backendlab import serve
from backendlab.tornado_support import (
    burst,
    connections_until_emfile,
    hold_connections,
    ping_during,
    read_sse_events,
    ws_connect,
    ws_exchange,
    ws_receive,
)

DELAY = 0.3  # seconds a slow handler waits


class Sleepy(tornado.web.RequestHandler):
    async def get(self) -> None:
        await asyncio.sleep(DELAY)
        self.write("done")


class Blocking(tornado.web.RequestHandler):
    def get(self) -> None:
        time.sleep(DELAY)
        self.write("done")


class Ping(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("pong")


class Gate(tornado.web.RequestHandler):
    """/wait, /gate and /release of a long-poll server, in one handler class (by path)."""

    def initialize(self, state: dict) -> None:
        self.state = state

    async def get(self, path: str) -> None:
        if path == "gate":
            self.write({"waiting": self.state["waiting"], "answered": self.state["answered"]})
            return
        self.state["waiting"] += 1
        ticket = self.state["waiting"]
        await self.state["event"].wait()
        self.state["answered"] += 1
        self.write(str(ticket))

    def post(self, path: str) -> None:
        self.state["event"].set()
        self.write("released")


def gate_app() -> tornado.web.Application:
    state = {"waiting": 0, "answered": 0, "event": asyncio.Event()}
    return tornado.web.Application([(r"/(wait|gate|release)", Gate, {"state": state})])


def timing_app() -> tornado.web.Application:
    return tornado.web.Application([("/sleep", Sleepy), ("/block", Blocking), ("/ping", Ping)])


def test_burst_times_requests_sent_together() -> None:
    with serve(timing_app()) as server:
        overlapped = asyncio.run(burst(server.url + "/sleep", 10))
        queued = asyncio.run(burst(server.url + "/block", 3))
    assert overlapped.statuses == [200] * 10 and [r.text for r in overlapped.responses] == ["done"] * 10
    # 10 overlapping waits: about one DELAY; queued they would take 10. Five is far from both.
    assert DELAY <= overlapped.seconds < 5 * DELAY
    assert queued.seconds >= 0.9 * 3 * DELAY  # one after another: never faster than the sum


def test_ping_during_times_a_request_sent_while_another_is_in_its_handler() -> None:
    with serve(timing_app()) as server:
        free = asyncio.run(ping_during(server.url + "/sleep", server.url + "/ping", head_start=0.05))
        held = asyncio.run(ping_during(server.url + "/block", server.url + "/ping", head_start=0.05))
    assert free < DELAY / 2  # milliseconds on a free loop; half a delay leaves room for a busy machine
    assert held >= DELAY / 2  # it waited for the rest of the blocking call


def test_ping_during_says_which_request_failed() -> None:
    with serve(timing_app()) as server, pytest.raises(AssertionError, match="/missing answered 404"):
        asyncio.run(ping_during(server.url + "/sleep", server.url + "/missing", head_start=0.01))


def test_hold_connections_holds_all_at_once_then_collects_every_answer() -> None:
    limit_before = resource.getrlimit(resource.RLIMIT_NOFILE)
    with serve(gate_app()) as server:
        held = asyncio.run(hold_connections(server.url, 50, batch=20, timeout=30))
    assert held.opened == held.waiting == 50
    assert held.final == {"waiting": 50, "answered": 50}
    assert held.statuses == {200} and sorted(map(int, held.bodies)) == list(range(1, 51))
    assert 1.5 < held.fds_per_connection < 2.5  # both ends in this process; a stray socket may come or go
    assert held.python_bytes is None and held.python_kb_per_connection is None
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == limit_before


def test_hold_connections_can_trace_python_memory() -> None:
    with serve(gate_app()) as server:
        held = asyncio.run(hold_connections(server.url, 20, trace_python_memory=True, timeout=30))
    assert held.python_bytes is not None and held.python_bytes > 0
    assert held.python_kb_per_connection == pytest.approx(held.python_bytes / 20 / 1024)


def test_hold_connections_gives_up_when_the_server_never_holds_them_all() -> None:
    class NeverWaiting(tornado.web.RequestHandler):
        def get(self, path: str) -> None:
            self.write({"waiting": 0} if path == "gate" else "at once")

    limit_before = resource.getrlimit(resource.RLIMIT_NOFILE)
    app = tornado.web.Application([(r"/(wait|gate)", NeverWaiting)])
    with serve(app) as server, pytest.raises(TimeoutError, match="held 0 of 5 requests"):
        asyncio.run(hold_connections(server.url, 5, timeout=0.5))
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == limit_before


def test_a_low_limit_on_open_files_ends_in_emfile() -> None:
    made, error, message = connections_until_emfile(soft_limit=40)
    assert error == "EMFILE" and message == "Too many open files"
    assert 10 < made < 20  # two descriptors per connection, a few open already


class Echo(tornado.websocket.WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        if message == "json":
            self.write_message({"kind": "json"})
        elif message == "bye":
            self.close()
        elif message != "silence":
            self.write_message(f"echo: {message}")


def test_ws_connect_and_receive_decode_json_and_see_the_close() -> None:
    async def talk(url: str) -> list[object]:
        connection = await ws_connect(url)  # an http:// URL is turned into ws://
        seen = []
        for text in ("hello", "json", "bye"):
            await connection.write_message(text)
            seen.append(await ws_receive(connection))
        connection.close()
        return seen

    with serve(tornado.web.Application([("/echo", Echo)])) as server:
        assert asyncio.run(talk(server.url + "/echo")) == ["echo: hello", {"kind": "json"}, None]


def test_ws_exchange_reports_answers_and_whether_the_server_closed() -> None:
    with serve(tornado.web.Application([("/echo", Echo)])) as server:
        url = server.url + "/echo"
        still_open = asyncio.run(ws_exchange(url, ["a", "b"], close_wait=0.2))
        closed = asyncio.run(ws_exchange(url, ["a", "bye", "never sent"]))
        silent = asyncio.run(ws_exchange(url, ["a", "silence", "never sent"], answer_timeout=0.2))
    assert still_open.answers == ["echo: a", "echo: b"] and not still_open.closed_by_server
    assert closed.answers == ["echo: a", None] and closed.closed_by_server
    assert silent.answers == ["echo: a", "(no answer within 0.2 s)"] and not silent.closed_by_server


def test_read_sse_events_splits_a_stream_into_events() -> None:
    lines = [
        ": a comment, skipped",
        "id: 1",
        "event: metrics",
        'data: {"orders": 103}',
        "",
        "",
        "id: 2",
        "data:no space after the colon",
        "",
        "id: 3",
        "",
    ]
    assert read_sse_events(iter(lines), 2) == [
        {"id": "1", "event": "metrics", "data": '{"orders": 103}'},
        {"id": "2", "data": "no space after the colon"},
    ]
    assert len(read_sse_events(iter(lines), 10)) == 3  # a stream that ends early gives what it had

"""backendlab.rosetta: what the Rosetta chapter computes from the contract apps and the contract suite."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import psutil
import pytest
import requests
from conftest import wait_until

from backendlab import run_command, serve
from backendlab.contract_apps import IMPLEMENTATIONS
from backendlab.rosetta import (
    concurrent_gets,
    default_threads,
    error_fields,
    junit_outcomes,
    listen_overflows,
    media_type,
    paused,
    production_command,
    served_command,
    show_source,
    source_excerpt,
    source_facts,
    source_path,
    table,
    timed_slow_requests,
    timed_within,
    turned_away,
)

SOURCE = '''"""A module docstring
on two lines."""

import asyncio


# a comment
def make_app():
    """A function docstring."""
    x = 1  # code with a comment

    async def handler():
        await asyncio.sleep(0)

    return x
'''


def test_source_facts_count_code_lines_and_function_kinds() -> None:
    facts = source_facts(SOURCE)
    assert facts.lines == 15
    # import, def make_app, x = 1, async def, await, return
    assert facts.code_lines == 6
    assert (facts.async_functions, facts.sync_functions) == (1, 1)


def test_source_facts_of_every_contract_app_file() -> None:
    for key in IMPLEMENTATIONS:
        path = source_path(key)
        assert path.name == f"{key}_app.py" and path.exists()
        facts = source_facts(path.read_text())
        assert 0 < facts.code_lines < facts.lines
    assert source_facts(source_path("sanic").read_text()).async_functions >= 5


def test_production_commands_are_typed_on_port_8000_and_served_on_a_free_port() -> None:
    for impl in IMPLEMENTATIONS.values():
        typed, served = production_command(impl), served_command(impl)
        assert "--port 8000" in typed and "#" not in typed, typed
        assert "--port {port}" in served and "8000" not in served, served
    assert production_command(IMPLEMENTATIONS["tornado"]) == "python -m backendlab.bench.serve tornado --port 8000"


def test_default_threads_are_the_installed_servers_defaults() -> None:
    from cheroot.wsgi import Server
    from waitress.adjustments import Adjustments

    threads = default_threads()
    assert threads == {"waitress": Adjustments().threads, "cheroot": Server(("127.0.0.1", 0), None).requests.min}


def test_show_source_is_the_file_the_tab_includes() -> None:
    assert str(show_source("bottle").data).strip() == source_path("bottle").read_text().strip()


def test_show_source_with_start_and_end_is_what_literalinclude_shows() -> None:
    shown = str(show_source("flask", start='@app.post("/items")', end="return item, 201").data)
    lines = shown.splitlines()
    assert lines[0] == '@app.post("/items")' and lines[-1].strip().startswith("return item, 201"), lines
    assert "def create_item" in shown and "def slow" not in shown
    source = "a\n    if x:\n        start here\n        y = 1\n        end here\n    tail\n"
    assert source_excerpt(source, "start", "end") == "start here\ny = 1\nend here"
    assert source_excerpt(source, "y = 1") == "    y = 1\n    end here\ntail"  # dedented by the least indent


def test_error_fields_names_the_keys_of_an_errors_object_and_never_raises() -> None:
    def answer(body: bytes) -> requests.Response:
        response = requests.Response()
        response._content = body
        return response

    assert error_fields(answer(b'{"errors": {"price": "x", "name": "y"}}')) == ["name", "price"]
    assert error_fields(answer(b'{"errors": ["name"]}')) is None
    assert error_fields(answer(b'[1, 2]')) is None
    assert error_fields(answer(b"<h1>Bad Request</h1>")) is None


def test_listen_overflows_is_a_count_or_none() -> None:
    count = listen_overflows()
    assert count is None or count >= 0


def test_timed_within_retries_out_of_bounds_attempts_and_prints_them(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(IMPLEMENTATIONS["fastapi"].make_app()) as server:
        url = server.url + "/slow?ms=100"
        seconds = timed_within(url, 3, 0.1, 5.0)
        assert 0.1 <= seconds < 5.0 and capsys.readouterr().out == ""
        seconds = timed_within(url, 3, 0.0, 0.05, attempts=2)  # impossible: 100 ms each
        assert seconds >= 0.1
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and printed[0].startswith("  attempt 1: ") and "measuring again" in printed[0], printed


def test_timed_slow_requests_measures_rounds_and_never_raises(capsys: pytest.CaptureFixture[str]) -> None:
    flask = served_command(IMPLEMENTATIONS["flask"])
    one_round = timed_slow_requests(flask.replace("--call", "--threads 6 --call"), 6, 200)
    two_rounds = timed_slow_requests(flask, 6, 200)  # 4 threads: two rounds of 200 ms
    assert one_round is not None and two_rounds is not None
    assert 0.2 <= one_round < 0.4 <= two_rounds, (one_round, two_rounds)
    assert capsys.readouterr().out == ""
    assert timed_slow_requests("waitress-serve --no-such-option --port {port}", 2, 10) is None
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and printed[0].startswith("Not yet: the command did not serve"), printed


def test_outcomes_are_read_per_test_from_junit_xml() -> None:
    xml = """<testsuites><testsuite>
      <testcase classname="tests.test_contract" name="test_contract[flask-get-json]" />
      <testcase classname="tests.test_contract" name="test_contract[fastapi-post-items-invalid]">
        <failure message="assert 400 == 422" /></testcase>
      <testcase classname="tests.test_contract" name="test_contract[django-get-slow]"><error message="x" /></testcase>
      <testcase classname="tests.test_contract" name="test_contract[sanic-get-item]"><skipped /></testcase>
      <testcase classname="tests.test_contract" name="test_registry_covers_the_eight_frameworks" />
    </testsuite></testsuites>"""
    assert junit_outcomes(xml) == {
        "test_contract[flask-get-json]": "passed",
        "test_contract[fastapi-post-items-invalid]": "failed",
        "test_contract[django-get-slow]": "failed",
        "test_contract[sanic-get-item]": "skipped",
        "test_registry_covers_the_eight_frameworks": "passed",
    }


def test_media_type_names_what_the_answer_says_it_is() -> None:
    def answer(content_type: str | None) -> requests.Response:
        response = requests.Response()
        if content_type is not None:
            response.headers["Content-Type"] = content_type
        return response

    assert media_type(answer("application/json")) == "JSON"
    assert media_type(answer("text/html; charset=UTF-8")) == "HTML"
    assert media_type(answer("Text/Plain;charset=utf-8")) == "text"
    assert media_type(answer("application/xml")) == "application/xml"
    assert media_type(answer(None)) == "none"


def test_table_aligns_columns_under_a_rule() -> None:
    assert table(["a", "long header"], [[1, "x"], ["wide cell", 22]]).splitlines() == [
        "a          long header",
        "---------  -----------",
        "1          x",
        "wide cell  22",
    ]


def test_concurrent_gets_times_the_handlers_even_when_a_burst_overflows_cheroots_listen_queue() -> None:
    # cheroot asks for a listen queue of 5; while it stands still, a burst of twelve connections
    # overflows it and the ones turned away wait for TCP to try again, 1 s later on Linux.
    # The server stays frozen until a connection has been turned away (however slowly the threads start).
    with run_command(served_command(IMPLEMENTATIONS["cherrypy"]), name="test-listen-queue") as server:
        url = server.url + "/slow?ms=200"
        overflows = listen_overflows()
        with paused(server.pid, 10, until=lambda: turned_away(server.port) > 0):
            burst = concurrent_gets(url, 12, connect_first=False)
        overflowed = listen_overflows()
        with paused(server.pid, 10, until=lambda: turned_away(server.port) > 0):
            connected_first = concurrent_gets(url, 12)
    assert burst >= 1.1, burst  # TCP's retry about 1 s later, then a 200 ms handler (no retry: about 0.4 s)
    assert overflows is None or overflowed is None or overflowed > overflows, (overflows, overflowed)
    # ten threads: two rounds of 200 ms (0.4 s); the bound leaves 600 ms, and a retry alone would cost 1 s
    assert 0.4 <= connected_first < 1.0, connected_first


def test_concurrent_gets_overlap_on_an_async_app_and_check_every_status() -> None:
    with serve(IMPLEMENTATIONS["fastapi"].make_app()) as server:
        seconds = concurrent_gets(server.url + "/slow?ms=200", 5)
        assert 0.2 <= seconds < 1.0  # five waits of 200 ms, not one after another
        with pytest.raises(AssertionError, match="404"):
            concurrent_gets(server.url + "/items/999", 2)
        with pytest.raises(ValueError, match="plain http"):
            concurrent_gets(server.url.replace("http://", "https://") + "/slow?ms=1", 2)


def test_paused_freezes_a_process_until_its_condition_holds_and_never_leaves_it_frozen() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        process, go_on = psutil.Process(sleeper.pid), threading.Event()
        with paused(sleeper.pid, 30, until=go_on.is_set):
            assert wait_until(lambda: process.status() == psutil.STATUS_STOPPED, 10)
            time.sleep(0.1)
            assert process.status() == psutil.STATUS_STOPPED  # the 30 s have not passed, go_on not set
            go_on.set()
            assert wait_until(lambda: process.status() != psutil.STATUS_STOPPED, 10)  # before the body ends
        with pytest.raises(RuntimeError, match="the body's own error"), paused(sleeper.pid, 30):
            raise RuntimeError("the body's own error")
        assert process.status() != psutil.STATUS_STOPPED
        with paused(sleeper.pid, 0.05):
            assert wait_until(lambda: process.status() != psutil.STATUS_STOPPED, 10)  # after its seconds
    finally:
        sleeper.kill()
        sleeper.wait()


def test_turned_away_counts_connections_a_full_listen_queue_dropped() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:  # Linux queues backlog + 1
        port = listener.getsockname()[1]
        clients = [socket.socket() for _ in range(4)]
        try:
            assert turned_away(port) == 0
            for client in clients:
                client.setblocking(False)
                client.connect_ex(("127.0.0.1", port))
            # Linux queues backlog + 1 connections (sk_acceptq_is_full tests ">"): one here, three dropped
            assert wait_until(lambda: turned_away(port) == 3, 10), turned_away(port)
        finally:
            for client in clients:
                client.close()

"""The serving helper's lifecycle and app detection, seen from outside: states, errors, logs, connections.

test_serving.py checks the contract on all eight frameworks; these tests pin what a learner reads
when something goes wrong (the repr, each error's message), what happens to a connection still open
at stop time, and which server an app gets when its framework was never imported.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from framework_apps import FRAMEWORKS, MAKERS

from backendlab import serving
from backendlab.serving import ServerCrashed, ServerStartError, ServingError, serve, server_class_for, stop_all

TIMEOUT = 10


def hello_wsgi(environ: dict, start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])  # type: ignore[operator]
    return [b"hello"]


@pytest.fixture(autouse=True)
def nothing_left_running() -> Iterator[None]:
    yield
    stop_all()


def test_repr_names_kind_software_url_and_state() -> None:
    server = serving.WSGIServer(hello_wsgi, name="shown")
    assert repr(server) == "<WSGIServer 'shown' werkzeug http://127.0.0.1:0 not running>"
    server.start()
    assert repr(server) == f"<WSGIServer 'shown' werkzeug {server.url} running>"
    server.stop()
    assert repr(server) == f"<WSGIServer 'shown' werkzeug {server.url} stopped>"
    server.stop()  # a second stop keeps it stopped
    assert repr(server) == f"<WSGIServer 'shown' werkzeug {server.url} stopped>"


def test_a_server_built_directly_takes_a_free_port_and_logs_no_requests() -> None:
    with serving.WSGIServer(hello_wsgi, name="direct").start() as server:
        assert server.port not in (0, 1)  # the default port 0 lets the OS choose
        assert requests.get(server.url + "/anything", timeout=TIMEOUT).text == "hello"
    assert "/anything" not in server.log_text


def test_starting_twice_is_a_clear_error() -> None:
    with serving.WSGIServer(hello_wsgi, name="twice").start() as server:
        with pytest.raises(ServingError, match="server 'twice' was already started; call serve"):
            server.start()


def test_the_server_thread_is_named_after_the_server_and_does_not_keep_python_alive() -> None:
    with serve(hello_wsgi, name="threaded") as server:
        (thread,) = [t for t in threading.enumerate() if t.name == "backendlab:threaded"]
        assert thread.daemon  # a kernel or script that exits without stop() is not held open
        assert server.running


def test_a_port_that_cannot_be_bound_names_the_address_and_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, address: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refuse)
    with pytest.raises(ServerStartError, match=r"cannot bind 127\.0\.0\.1:0: \[Errno 13\] Permission denied"):
        serve(hello_wsgi)


def test_a_port_in_use_says_how_to_get_a_free_one() -> None:
    with serve(hello_wsgi, name="first") as first:
        advice = r"pass port=0 \(the default\) to let the operating system choose a free port$"
        with pytest.raises(ServerStartError, match=advice):
            serve(MAKERS["bottle"](), name="second", port=first.port)


def test_a_failed_start_names_the_exception_and_is_reported_once() -> None:
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        raise RuntimeError("database unreachable")
        yield

    server = serving.ASGIServer(FastAPI(lifespan=lifespan), name="failing")
    with pytest.raises(ServerStartError, match="uvicorn failed to start 'failing': SystemExit: 3"):
        server.start()
    server.stop()  # the error was raised by start(); stopping afterwards is quiet
    server.check()
    assert "database unreachable" in server.log_text  # uvicorn's own report, with the cause


def test_a_server_that_stops_serving_on_its_own_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def serve_once(self: serving.WSGIServer) -> None:
        self._ready.set()  # ready, then the serving loop returns without being asked to stop

    monkeypatch.setattr(serving.WSGIServer, "_serve_in_thread", serve_once)
    server = serving.WSGIServer(hello_wsgi, name="quitter")
    expected = "werkzeug failed to start 'quitter': ServingError: werkzeug stopped serving on its own"
    with pytest.raises(ServerStartError, match=expected):
        server.start()


def test_a_crash_is_named_with_its_exception_type() -> None:
    server = serve(MAKERS["tornado"](), name="crashing")

    def fatal() -> None:
        raise SystemExit("fatal error in the server thread")

    server._loop.call_soon_threadsafe(fatal)
    server._thread.join(TIMEOUT)
    with pytest.raises(ServerCrashed, match="tornado serving 'crashing' died: SystemExit: fatal error"):
        server.check()


def test_a_server_that_does_not_stop_in_time_is_an_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stubborn(self: serving.WSGIServer) -> None:
        self._ready.set()
        release.wait(60)

    monkeypatch.setattr(serving.WSGIServer, "_serve_in_thread", stubborn)
    monkeypatch.setattr(serving.WSGIServer, "_request_stop", lambda self: None)  # ignores the request
    server = serve(hello_wsgi, name="stubborn", stop_timeout=0.2)
    try:
        with pytest.raises(ServingError, match="werkzeug serving 'stubborn' did not stop within 0.2 s"):
            server.stop()
    finally:
        release.set()
        server._thread.join(TIMEOUT)


def test_stop_all_stops_every_server_even_after_a_crashed_one() -> None:
    crashed = serve(MAKERS["tornado"](), name="crashed")
    crashed._loop.call_soon_threadsafe(lambda: (_ for _ in ()).throw(SystemExit("gone")))
    crashed._thread.join(TIMEOUT)
    healthy = serve(hello_wsgi, name="healthy")
    stop_all()  # the crashed server's ServerCrashed does not stop the loop over servers
    assert serving.running_servers() == []
    assert not healthy.running
    with pytest.raises(requests.ConnectionError):
        requests.get(healthy.url, timeout=TIMEOUT)


def read_until_closed(client: socket.socket) -> bytes:
    """Everything the server still sends; a socket timeout here means the connection stayed open."""
    data = b""
    while chunk := client.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stop_closes_a_connection_left_open_after_an_answer(framework: str) -> None:
    """HTTP/1.1 keeps connections open unless the server says otherwise (werkzeug closes each one)."""
    server = serve(MAKERS[framework](), name=f"keep-alive-{framework}")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as client:
        client.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 200")
        server.stop()
        assert b"HTTP/1.1" not in read_until_closed(client)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stop_closes_a_connection_whose_request_never_finished(framework: str) -> None:
    """A client that connected and sent half a request (a browser's spare connection, a slow client)
    holds a server thread reading; stop() must wake it, not wait for the client."""
    server = serve(MAKERS[framework](), name=f"half-request-{framework}")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as client:
        client.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: headers unfinished
        assert requests.get(server.url + "/hello", timeout=TIMEOUT).status_code == 200  # the server got that far
        server.stop()
        assert b" 200 " not in read_until_closed(client)


@pytest.mark.parametrize("framework", ["flask", "tornado"])
def test_access_log_is_kept_even_when_the_logger_was_quietened(
    framework: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger(serving.server_class_for(MAKERS[framework]()).access_loggers[0])
    monkeypatch.setattr(logger, "level", logging.WARNING)
    monkeypatch.setattr(logger, "handlers", [])
    with serve(MAKERS[framework](), access_log=True) as server:
        requests.get(server.url + "/hello?x=1", timeout=TIMEOUT)
        requests.get(server.url + "/missing", timeout=TIMEOUT)
    lines = server.log_text.splitlines()
    assert any("GET /hello?x=1" in line and "200" in line for line in lines), lines
    assert any("GET /missing" in line and "404" in line for line in lines), lines
    logger.warning("a record logged outside any server")  # Python's last-resort handler stays quiet
    assert "outside any server" not in capfd.readouterr().err


def test_werkzeugs_access_line_names_client_request_status_and_size() -> None:
    with serve(MAKERS["flask"](), access_log=True) as server:
        requests.get(server.url + "/hello", timeout=TIMEOUT)
    (line,) = [line for line in server.log_text.splitlines() if "/hello" in line]
    assert line.startswith("INFO werkzeug: 127.0.0.1 - - [")
    assert line.endswith('"GET /hello HTTP/1.1" 200 -')


def test_serving_a_tornado_app_again_logs_to_the_new_server() -> None:
    app = MAKERS["tornado"]()
    with serve(app, name="first", access_log=True):
        pass
    with serve(app, name="second", access_log=True) as second:
        requests.get(second.url + "/hello", timeout=TIMEOUT)
    assert "GET /hello" in second.log_text


def test_serving_again_under_the_name_of_a_crashed_server_starts_the_new_one() -> None:
    crashed = serve(MAKERS["tornado"](), name="phoenix")
    crashed._loop.call_soon_threadsafe(lambda: (_ for _ in ()).throw(SystemExit("gone")))
    crashed._thread.join(TIMEOUT)
    with serve(hello_wsgi, name="phoenix") as again:
        assert requests.get(again.url, timeout=TIMEOUT).text == "hello"


def test_an_unnamed_server_is_named_after_its_app_type() -> None:
    with serve(MAKERS["flask"]()) as server:
        kind, _, number = server.name.partition("-")
        assert kind == "Flask" and int(number, 16) > 0


def test_a_cherrypy_tree_is_served_by_cheroot() -> None:
    import cherrypy
    from cherrypy._cptree import Tree

    for access_log in (False, True):
        tree = Tree()
        tree.apps[""] = MAKERS["cherrypy"]()
        with serve(tree, access_log=access_log) as server:
            assert server.server_software == "cheroot"
            assert requests.get(server.url + "/hello", timeout=TIMEOUT).json() == {"framework": "cherrypy"}
        assert ("GET /hello" in server.log_text) is access_log  # the tree's apps log access only when asked
    assert isinstance(cherrypy.tree, Tree)


def test_a_stopped_sanic_app_is_no_longer_registered_with_sanic() -> None:
    from sanic import Sanic
    from sanic.exceptions import SanicException

    app = MAKERS["sanic"]()
    with serve(app):
        assert Sanic.get_app(app.name) is app
    with pytest.raises(SanicException):
        Sanic.get_app(app.name, force_create=False)


def test_an_unsupported_object_is_described_by_module_type_and_value() -> None:
    class Gadget:
        def __repr__(self) -> str:
            return "<a gadget>"

    with pytest.raises(serving.UnsupportedApp, match=r"cannot serve test_serving_lifecycle\.test_an_unsupported_object_"
                       r"is_described_by_module_type_and_value\.<locals>\.Gadget object <a gadget>;"):
        serve(Gadget())
    with pytest.raises(serving.UnsupportedApp, match=r"cannot serve builtins\.int object 42;"):
        serve(42)


def test_the_log_keeps_the_last_lines_only() -> None:
    server = serving.WSGIServer(hello_wsgi, name="chatty")
    server._capture_text("".join(f"line {i}\n" for i in range(serving.LOG_LINES_KEPT + 10)))
    assert len(server.log) == serving.LOG_LINES_KEPT
    assert server.log[0] == "line 10" and server.log[-1] == f"line {serving.LOG_LINES_KEPT + 9}"


def test_an_error_while_closing_does_not_stop_the_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    close = serving.WSGIServer._close_resources

    def close_then_fail(self: serving.WSGIServer) -> None:
        close(self)
        raise OSError("closing failed after closing")

    monkeypatch.setattr(serving.WSGIServer, "_close_resources", close_then_fail)
    server = serve(hello_wsgi, name="clumsy")
    server.stop()  # does not raise
    assert not server.running
    assert serving.running_servers() == []
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url, timeout=TIMEOUT)


def test_tornados_access_line_shows_status_method_path_and_milliseconds() -> None:
    with serve(MAKERS["tornado"](), access_log=True) as server:
        requests.get(server.url + "/hello", timeout=TIMEOUT)
    (line,) = [line for line in server.log_text.splitlines() if "/hello" in line]
    status, method, path, milliseconds, unit = line.split()
    assert (status, method, path, unit) == ("200", "GET", "/hello", "ms")
    assert 0 <= float(milliseconds) < 60_000  # one request, measured in milliseconds, not seconds


def test_an_apps_own_tornado_log_function_is_kept() -> None:
    import tornado.web

    seen: list[int] = []
    app = MAKERS["tornado"]()
    app.settings["log_function"] = lambda handler: seen.append(handler.get_status())
    with serve(app, access_log=True) as server:
        requests.get(server.url + "/hello", timeout=TIMEOUT)
    assert seen == [200]
    assert "/hello" not in server.log_text
    assert isinstance(app, tornado.web.Application)


def test_printed_lines_are_split_and_carriage_returns_dropped() -> None:
    server = serving.WSGIServer(hello_wsgi, name="printing")
    server._capture_text("first  \r\nsec")
    server._capture_text("ond\nthird")
    assert list(server.log) == ["first  ", "second"]  # spaces are the program's: kept
    assert server.log_text == "first  \nsecond\nthird"


def test_log_records_keep_level_name_message_and_traceback() -> None:
    server = serving.WSGIServer(hello_wsgi, name="records")
    try:
        raise ValueError("bad value")
    except ValueError:
        exc_info = sys.exc_info()
    server._capture_record(logging.LogRecord("app", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info))
    server._capture_record(logging.LogRecord("app", logging.INFO, __file__, 2, "%s and %s", ("one",), None))
    access = logging.LogRecord("sanic.access", logging.INFO, __file__, 3, "", (), None)
    access.__dict__.update({"host": "127.0.0.1:5", "request": "GET /x"})
    server._capture_record(access)
    lines = list(server.log)
    assert lines[0] == "ERROR app: failed here"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-3] == "ValueError: bad value"
    assert lines[-2] == "INFO app: %s and %s"  # a malformed call keeps its format string
    assert lines[-1] == "INFO sanic.access: 127.0.0.1:5 GET /x"  # extras, when the message is empty


def test_detection_works_when_no_framework_was_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ["sanic", "tornado.web", "cherrypy", "cherrypy._cptree"]:
        monkeypatch.delitem(sys.modules, module, raising=False)

    async def asgi(scope: dict, receive: object, send: object) -> None:
        return None

    assert server_class_for(hello_wsgi) is serving.WSGIServer
    assert server_class_for(asgi) is serving.ASGIServer
    assert "sanic" not in sys.modules and "cherrypy" not in sys.modules


def test_a_module_without_the_class_is_not_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    monkeypatch.setitem(sys.modules, "sanic", types.ModuleType("sanic"))  # a stand-in without Sanic
    assert server_class_for(hello_wsgi) is serving.WSGIServer


def test_bound_methods_are_detected_as_asgi_or_wsgi() -> None:
    class Apps:
        async def asgi(self, scope: dict, receive: object, send: object) -> None:
            return None

        def wsgi(self, environ: dict, start_response: object) -> list[bytes]:
            return []

    apps = Apps()
    assert server_class_for(apps.asgi) is serving.ASGIServer
    assert server_class_for(apps.wsgi) is serving.WSGIServer


def test_uvicorns_first_answers_carry_its_date_and_server_headers() -> None:
    with serve(MAKERS["fastapi"]()) as server:
        response = requests.get(server.url + "/hello", timeout=TIMEOUT)
    assert response.headers["server"] == "uvicorn" and response.headers["date"].endswith(" GMT")


@pytest.mark.parametrize("framework", ["tornado", "sanic", "fastapi"])
def test_tasks_an_app_leaves_running_are_cancelled_at_stop(framework: str) -> None:
    """A task a handler started and never awaited gets cancelled at stop: its cleanup (finally) runs."""
    cleaned_up = threading.Event()
    leftovers: list[asyncio.Task] = []

    async def linger() -> None:
        try:
            await asyncio.Event().wait()  # forever
        finally:
            cleaned_up.set()

    def start_lingering_task() -> None:
        leftovers.append(asyncio.get_running_loop().create_task(linger()))

    with serve(LINGERING_APPS[framework](start_lingering_task), name=f"lingering-{framework}") as server:
        assert requests.get(server.url + "/linger", timeout=TIMEOUT).text == "started"
    assert cleaned_up.is_set(), "the app's task was not cancelled (its finally block never ran)"
    assert leftovers[0].cancelled()


def tornado_lingering(start: Any) -> Any:
    import tornado.web

    class Linger(tornado.web.RequestHandler):
        async def get(self) -> None:
            start()
            self.write("started")

    return tornado.web.Application([(r"/linger", Linger)])


def sanic_lingering(start: Any) -> Any:
    from sanic import Sanic
    from sanic.response import text

    app = Sanic("lingering")

    @app.get("/linger")
    async def linger(request: Any) -> Any:
        start()
        return text("started")

    return app


def fastapi_lingering(start: Any) -> Any:
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    app = FastAPI()

    @app.get("/linger", response_class=PlainTextResponse)
    async def linger() -> str:
        start()
        return "started"

    return app


LINGERING_APPS = {"tornado": tornado_lingering, "sanic": sanic_lingering, "fastapi": fastapi_lingering}


def test_stopping_a_server_that_never_started_is_quiet() -> None:
    server = serving.WSGIServer(hello_wsgi, name="never started")
    server.stop()
    assert repr(server).endswith(" stopped>")


def test_plain_requests_leave_no_traceback_in_the_log() -> None:
    with serve(hello_wsgi, name="clean") as server:
        for _ in range(3):
            assert requests.get(server.url, timeout=TIMEOUT).text == "hello"
    assert "Traceback" not in server.log_text, server.log_text


def test_a_printed_line_keeps_its_last_character() -> None:
    server = serving.WSGIServer(hello_wsgi, name="printing")
    server._capture_text("TOTAL: 5 X\r\nMAX\n")
    assert list(server.log) == ["TOTAL: 5 X", "MAX"]


def test_an_asgi_apps_shutdown_code_runs_at_stop() -> None:
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    shut_down = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        yield
        shut_down.set()  # what an app does here: close its database pool, flush its queue

    with serve(FastAPI(lifespan=lifespan), name="with-lifespan"):
        assert not shut_down.is_set()
    assert shut_down.is_set()

"""The capability matrix's tests: one per cell of backendlab.capabilities.CAPABILITIES that a test can prove.

``test_capability[<capability>-<framework>]`` serves a real app on a real server and checks what a
client sees: the capability where the cell says it is there, its absence where the cell says
"not available" and ``shown_by_test``. The committed matrix (``capability-matrix.md``) is checked
against the outcomes of these same tests, run again in a process of their own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import wait_until

from backendlab import capability_apps, serving
from backendlab.capabilities import CAPABILITIES, MATRIX_FILE, NotAvailable, Proven, cell_test_ids, matrix_markdown
from backendlab.commands import CommandServer
from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS
from backendlab.contract_apps._common import HELLO

TIMEOUT = 10


def get(server: serving.BackgroundServer, path: str) -> requests.Response:
    return requests.get(server.url + path, timeout=TIMEOUT)


def answers_hello(server: serving.BackgroundServer) -> None:
    response = get(server, "/json")
    assert response.status_code == 200 and response.json() == {"message": HELLO}


# -- WSGI and ASGI: the contract app itself, on a server that is not the framework's ----------------


def wsgi(framework: str) -> None:
    with serving.WSGIServer(IMPLEMENTATIONS[framework].make_app(), name=f"capability-wsgi-{framework}").start() as s:
        assert s.server_software == "werkzeug"
        answers_hello(s)


def django_asgi_app() -> Any:
    """The Django contract app's views and URLs behind Django's ASGI handler."""
    from django.core.handlers.asgi import ASGIHandler

    urlconf = IMPLEMENTATIONS["django"].make_app().urlconf  # configures Django if nothing has

    class Handler(ASGIHandler):
        async def get_response_async(self, request: Any) -> Any:
            request.urlconf = urlconf
            return await super().get_response_async(request)

    return Handler()


def asgi(framework: str) -> None:
    app = django_asgi_app() if framework == "django" else IMPLEMENTATIONS[framework].make_app()
    with serving.ASGIServer(app, name=f"capability-asgi-{framework}").start() as server:
        assert server.server_software == "uvicorn"
        answers_hello(server)


# -- routing with typed parameters: /double/<n> answers the type the handler received ------------------


def double_app(framework: str) -> Any:
    """An app whose ``GET /double/<n>`` answers ``{"type": type(n).__name__, "double": n * 2}``."""
    def answer(n: Any) -> dict:
        return {"type": type(n).__name__, "double": n * 2}

    if framework == "flask":
        import flask

        app = flask.Flask(__name__)
        app.add_url_rule("/double/<int:n>", view_func=answer)
        return app
    if framework == "fastapi":
        import fastapi

        app = fastapi.FastAPI()

        @app.get("/double/{n}")
        async def double(n: int) -> dict:
            return answer(n)

        return app
    if framework == "django":
        from django.http import JsonResponse
        from django.urls import path

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        return ContractHandler(URLConf([path("double/<int:n>", lambda request, n: JsonResponse(answer(n)))]))
    if framework == "pyramid":
        from pyramid.config import Configurator

        with Configurator() as config:
            config.add_route("double", r"/double/{n:\d+}")
            config.add_view(lambda request: answer(request.matchdict["n"]), route_name="double", renderer="json")
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        class Double(tornado.web.RequestHandler):
            def get(self, n: Any) -> None:
                self.write(answer(n))

        return tornado.web.Application([(r"/double/(\d+)", Double)])
    if framework == "sanic":
        import sanic

        app = capability_apps.sanic_app("typed")

        @app.get("/double/<n:int>")
        async def double(request: Any, n: int) -> Any:
            return sanic.json(answer(n))

        return app
    if framework == "bottle":
        import bottle

        app = bottle.Bottle()
        app.route("/double/<n:int>", callback=answer)
        return app
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            @cherrypy.tools.json_out()
            def double(self, n: Any) -> dict:
                return answer(n)

        return capability_apps.cherrypy_app(Root())
    raise ValueError(framework)


def typed_path(framework: str) -> None:
    with serving.serve(double_app(framework), name=f"capability-typed-{framework}") as server:
        response = get(server, "/double/21")
        assert response.status_code == 200
        if isinstance(CAPABILITIES["typed-path"].cells[framework], Proven):
            assert response.json() == {"type": "int", "double": 42}
            assert get(server, "/double/abc").status_code in (404, 422)
        else:  # not available: the handler gets the text, and doubling text repeats it
            assert response.json() == {"type": "str", "double": "2121"}


# -- a malformed JSON body: what the client gets --------------------------------------------------------

MALFORMED_JSON = b'{"name": '


def content_kind(response: requests.Response) -> str:
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    return {"application/json": "JSON", "text/html": "HTML", "text/plain": "text"}.get(media_type, media_type)


def json_errors(framework: str) -> None:
    with serving.serve(capability_apps.json_echo_app(framework), name=f"capability-json-{framework}") as server:
        valid = requests.post(server.url + "/echo", json={"name": "x"}, timeout=TIMEOUT)
        assert valid.status_code == 200 and valid.json() == {"received": {"name": "x"}}
        malformed = requests.post(server.url + "/echo", data=MALFORMED_JSON,
                                  headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    cell = CAPABILITIES["json-errors"].cells[framework]
    if isinstance(cell, Proven):
        assert f"{malformed.status_code} {content_kind(malformed)}" == cell.answer
        assert 400 <= malformed.status_code < 500
    else:  # not available: the handler's own json.loads fails, and the client gets a server error
        assert malformed.status_code == 500


# -- templates: a value with markup reaches the page escaped ---------------------------------------------

MARKUP = "<script>x</script>"


def templates(framework: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        capability_apps.write_template(framework, Path(directory))
        app = capability_apps.template_app(framework, Path(directory))
        with serving.serve(app, name=f"capability-templates-{framework}") as server:
            response = requests.get(server.url + "/hello", params={"name": MARKUP}, timeout=TIMEOUT)
    assert response.status_code == 200 and content_kind(response) == "HTML"
    assert "Hello, &lt;script&gt;x&lt;/script&gt;!" in response.text and "<script>" not in response.text


# -- static files: a directory's files, and nothing beside it -------------------------------------------


def raw_get(server: serving.BackgroundServer, target: str) -> tuple[int, bytes]:
    """GET exactly ``target`` (requests would normalise dot segments), on a connection of its own."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def static_files(framework: str) -> None:
    with tempfile.TemporaryDirectory() as top:
        public = Path(top) / "public"
        public.mkdir()
        (public / "hello.txt").write_text("Hello, static!\n")
        (Path(top) / "secret.txt").write_text("not for clients")
        with serving.serve(capability_apps.static_app(framework, public), name=f"capability-static-{framework}") as s:
            served = get(s, "/static/hello.txt")
            missing = get(s, "/static/missing.txt")
            escape_status, escape_body = raw_get(s, "/static/..%2fsecret.txt")
    assert served.status_code == 200 and content_kind(served) == "text" and served.text == "Hello, static!\n"
    assert missing.status_code == 404
    assert escape_status >= 400 and b"not for clients" not in escape_body


# -- sessions: state kept per client between requests ----------------------------------------------------


def sessions(framework: str) -> None:
    with serving.serve(capability_apps.session_app(framework), name=f"capability-sessions-{framework}") as server:
        client = requests.Session()
        counts = [client.get(server.url + "/visits", timeout=TIMEOUT).text for _ in range(3)]
        cookie_names = list(client.cookies.keys())
        stranger = get(server, "/visits").text
        forged = requests.get(server.url + "/visits", cookies={name: "forged" for name in cookie_names},
                              timeout=TIMEOUT).text
    assert counts == ["1", "2", "3"] and len(cookie_names) == 1
    assert stranger == "1" and forged == "1"


# -- middleware and hooks: around every route, able to answer instead of the handler -----------------


def hooks(framework: str) -> None:
    with serving.serve(capability_apps.hook_app(framework), name=f"capability-hooks-{framework}") as server:
        routes = {path: get(server, path) for path in ("/hello", "/bye")}
        blocked = requests.get(server.url + "/hello", headers={capability_apps.BLOCK_HEADER: "yes"}, timeout=TIMEOUT)
    for path, response in routes.items():
        assert response.status_code == 200 and response.text == path.strip("/")
        assert response.headers.get(capability_apps.HOOK_HEADER) == "ran"
    assert blocked.status_code == 403 and blocked.text == "blocked"


# -- OpenAPI: a document generated from the routes --------------------------------------------------------


def openapi(framework: str) -> None:
    with serving.serve(double_app(framework), name=f"capability-openapi-{framework}") as server:
        document = get(server, "/openapi.json").json()
        docs = get(server, "/docs")
    (parameter,) = document["paths"]["/double/{n}"]["get"]["parameters"]
    assert parameter["in"] == "path" and parameter["name"] == "n" and parameter["schema"]["type"] == "integer"
    assert docs.status_code == 200 and content_kind(docs) == "HTML"


# -- streaming and server-sent events: the client reads the first piece before the last exists ------------


def read_until(body: Iterator[bytes], end: bytes) -> bytes:
    """Read ``body`` until what arrived holds ``first`` and ends with ``end`` (or the body ends)."""
    seen = b""
    for byte in body:
        seen += byte
        if b"first" in seen and seen.endswith(end):
            break
    return seen


def stream_in_two(framework: str, media_type: str, end: bytes) -> tuple[requests.Response, bytes, bytes]:
    """GET /stream: what arrived before the client let the handler go on, and what arrived after."""
    proceed = threading.Event()
    app = capability_apps.stream_app(framework, proceed, media_type)
    with serving.serve(app, name=f"capability-stream-{framework}") as server:
        with requests.get(server.url + "/stream", stream=True, timeout=TIMEOUT) as response:
            body = response.iter_content(chunk_size=1)
            before = read_until(body, end)
            proceed.set()  # only now can the handler make its last piece
            after = b"".join(body)
    return response, before, after


def streaming(framework: str) -> None:
    response, before, after = stream_in_two(framework, "text/plain", b"\n")
    assert response.status_code == 200 and content_kind(response) == "text"
    assert (before, after) == (b"first\n", b"last\n")


def event_data(stream: bytes) -> list[str]:
    """The ``data`` of each event of a ``text/event-stream`` body (comments and other fields skipped)."""
    events = stream.decode().replace("\r\n", "\n").split("\n\n")
    return [line.removeprefix("data:").strip() for event in events for line in event.splitlines()
            if line.startswith("data:")]


def server_sent_events(framework: str) -> None:
    response, before, after = stream_in_two(framework, "text/event-stream", b"\n\n")
    assert response.status_code == 200 and content_kind(response) == "text/event-stream"
    assert event_data(before) == ["first"] and event_data(before + after) == ["first", "last"]


# -- background tasks: the client has the response while the work it started has not finished --------------


def background_tasks(framework: str) -> None:
    work = capability_apps.BackgroundWork()
    app = capability_apps.background_app(framework, work)
    # Sanic's app.add_task needs app.loop, which refuses under create_server (SanicServer): serve it as ASGI
    server = serving.ASGIServer if framework == "sanic" else serving.server_class_for(app)
    with server(app, name=f"capability-work-{framework}").start() as s:
        response = get(s, "/work")
        finished_before_response = work.finished.is_set()
        work.proceed.set()  # only now can the work finish
        finished = work.finished.wait(TIMEOUT)
    assert response.status_code == 200 and response.text == "scheduled"
    assert not finished_before_response and finished and work.outcome == "ran"


# -- CSRF: a POST without this client's token is refused by the framework -----------------------------------


def csrf(framework: str) -> None:
    field = capability_apps.CSRF_FIELD[framework]
    with serving.serve(capability_apps.csrf_app(framework), name=f"capability-csrf-{framework}") as server:
        client = requests.Session()
        token = client.get(server.url + "/form", timeout=TIMEOUT).text
        with_token = client.post(server.url + "/submit", data={field: token, "name": "x"}, timeout=TIMEOUT)
        without_token = client.post(server.url + "/submit", data={"name": "x"}, timeout=TIMEOUT)
        borrowed = requests.post(server.url + "/submit", data={field: token, "name": "x"}, timeout=TIMEOUT)
    assert token and with_token.status_code == 200 and with_token.text == "accepted"
    for refused in (without_token, borrowed):  # the second: another client's token, without its cookie
        assert refused.status_code in (400, 403) and "accepted" not in refused.text


# -- WebSockets: a real WebSocket client gets its messages back -------------------------------------------


def websockets_echo(framework: str) -> None:
    from websockets.sync.client import connect

    with serving.serve(capability_apps.websocket_app(framework), name=f"capability-ws-{framework}") as server:
        with connect(f"ws://127.0.0.1:{server.port}/echo", open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
            answers = []
            for message in ("hello", "again"):
                ws.send(message)
                answers.append(ws.recv(timeout=TIMEOUT))
    assert answers == ["hello", "again"]


# -- streamed uploads: the handler reads the body's first piece before the client has sent the rest ---------

REST = b"l" * 16384


def streamed_upload(framework: str) -> None:
    import http.client

    upload = capability_apps.Upload()
    with serving.serve(capability_apps.upload_app(framework, upload), name=f"capability-upload-{framework}") as s:
        connection = http.client.HTTPConnection("127.0.0.1", s.port, timeout=TIMEOUT)
        try:
            connection.putrequest("POST", "/upload")
            connection.putheader("Content-Type", "application/octet-stream")
            connection.putheader("Content-Length", str(len(capability_apps.FIRST_PIECE + REST)))
            connection.endheaders(capability_apps.FIRST_PIECE)
            # a framework that reads the whole body before the handler cannot get past this wait
            read_before_rest = upload.first_read.wait(capability_apps.WAIT)
            connection.send(REST)
            response = connection.getresponse()
            status, echoed = response.status, response.read()
        finally:
            connection.close()
    assert read_before_rest and status == 200 and echoed == capability_apps.FIRST_PIECE + REST


# -- graceful shutdown: SIGTERM to the production command while a request is in flight ---------------------

# Bounds far above what was measured here (idle, 2 cores), so that a loaded machine cannot fail them:
STARTED_WITHIN = 30.0  # request sent -> its handler has started (measured: at most 15 ms); also the ready line
# SIGTERM -> a new connection is refused (measured: at most 0.1 s; Uvicorn looks at its exit flag every 0.1 s).
# It must stay below Sanic's 15 s grace period, after which Sanic aborts the request the test still holds.
REFUSED_WITHIN = 10.0
EXITED_WITHIN = 30.0  # go-ahead -> the process is gone (measured: at most 0.25 s)


def refuses_connections(port: int) -> bool:
    """Whether a new connection to ``port`` is refused (one the listener reset while closing is not)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    except OSError:  # accepted into the listen queue, then reset: try again
        return False
    return False


def held_get(url: str) -> tuple[int, str] | str:
    """GET ``url``: the status and body, or the name of the error if the connection was cut."""
    try:
        response = requests.get(url, timeout=capability_apps.HOLD)
    except requests.ConnectionError as error:
        return type(error).__name__
    return response.status_code, response.text


def graceful_shutdown(framework: str) -> None:
    command = capability_apps.in_flight_command(framework)
    with tempfile.TemporaryDirectory() as directory, ThreadPoolExecutor(max_workers=1) as client:
        folder = Path(directory)
        env = {capability_apps.IN_FLIGHT_FOLDER: directory}
        with CommandServer(command, name=f"capability-shutdown-{framework}", cwd=directory, env=env).start() as server:
            try:
                if ready_line := capability_apps.READY_LINE.get(framework):  # a SIGTERM before it is not a stop
                    ready = wait_until(lambda: ready_line in server.output, STARTED_WITHIN)
                    assert ready, f"the command never printed {ready_line!r}:\n{server.output}"
                answer = client.submit(held_get, server.url + "/in-flight")
                started = wait_until((folder / capability_apps.STARTED).exists, STARTED_WITHIN)
                assert started, f"the held request's handler did not start:\n{server.output}"
                os.kill(server.pid, signal.SIGTERM)
                refused = wait_until(lambda: refuses_connections(server.port), REFUSED_WITHIN)
                alive_when_refused = server.running
            finally:
                (folder / capability_apps.PROCEED).touch()  # the held request may answer now
            got = answer.result()
            exited = wait_until(lambda: not server.running, EXITED_WITHIN)
        exit_status = server.returncode
    if isinstance(CAPABILITIES["graceful-shutdown"].cells[framework], Proven):
        assert got == (200, capability_apps.FINISHED), f"the held request got {got!r}"
        assert refused and alive_when_refused, "new connections were not refused while the request was held"
        assert exited, f"the process had not exited {EXITED_WITHIN:g} s after the request was answered"
    else:  # not available: SIGTERM ends the process at once, and the held request is cut
        assert got == "ConnectionError" and exit_status == -signal.SIGTERM, (got, exit_status)


CHECKS: dict[str, Callable[[str], None]] = {
    "wsgi": wsgi, "asgi": asgi, "typed-path": typed_path,
    "json-errors": json_errors, "templates": templates, "static-files": static_files,
    "sessions": sessions, "hooks": hooks, "openapi": openapi,
    "streaming": streaming, "sse": server_sent_events, "background": background_tasks,
    "csrf": csrf, "websockets": websockets_echo, "uploads": streamed_upload,
    "graceful-shutdown": graceful_shutdown,
}


@pytest.fixture(scope="module", autouse=True)
def django_settings_restored() -> Any:
    """Put Django's settings back to unconfigured if this module configured them (see test_contract)."""
    from django.conf import settings

    was_configured = settings.configured
    yield
    if not was_configured and settings.configured:
        from django.urls import clear_url_caches
        from django.utils.functional import empty

        settings._wrapped = empty
        clear_url_caches()


@pytest.mark.parametrize("cell", cell_test_ids())
def test_capability(cell: str) -> None:
    capability, framework = next(
        (key, framework) for key in CAPABILITIES for framework in FRAMEWORKS if cell == f"{key}-{framework}"
    )
    CHECKS[capability](framework)


# -- the registry and the committed matrix --------------------------------------------------------


def test_every_cell_is_a_test_or_not_available_with_reason_and_source() -> None:
    for capability in CAPABILITIES.values():
        assert list(capability.cells) == FRAMEWORKS, capability.key
        assert capability.key in CHECKS, f"{capability.key}: no test"
        # a row about servers names the server in every cell, and a row about frameworks in none
        assert len({bool(cell.server) for cell in capability.cells.values()}) == 1, capability.key
        for framework, cell in capability.cells.items():
            if isinstance(cell, Proven):
                assert cell.how == "built in" or cell.how.startswith("add-on: "), (capability.key, framework)
                assert cell.detail, (capability.key, framework)
                assert not cell.note or len(cell.note.split()) >= 5, (capability.key, framework)
            else:
                assert isinstance(cell, NotAvailable)
                assert len(cell.reason.split()) >= 5 and len(cell.source.split()) >= 2, (capability.key, framework)


def test_each_note_number_in_the_matrix_leads_to_a_note_that_names_the_cell_s_framework() -> None:
    markdown = matrix_markdown({cell: "passed" for cell in cell_test_ids()})
    notes = {number: names.split(" / ") for number, names in re.findall(r"^(\d+)\. (.+?), ", markdown, re.M)}
    rows = {line.split(" | ")[0].removeprefix("| "): line.removesuffix(" |").split(" | ")[1:]
            for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| capability")}
    cited = set()
    for capability in CAPABILITIES.values():
        for framework, text in zip(FRAMEWORKS, rows[capability.title], strict=True):
            cell = capability.cells[framework]
            numbers = re.findall(r"\[(\d+)\]", text)
            has_note = isinstance(cell, NotAvailable) or bool(cell.note)
            assert len(numbers) == has_note, (capability.key, framework, text)
            for number in numbers:
                assert IMPLEMENTATIONS[framework].title in notes[number], (capability.key, framework, number)
                cited.add(number)
            if cell.server:
                assert f" on {cell.server}" in text, (capability.key, framework, text)
    assert cited == set(notes), "a note no cell cites"


def test_add_ons_are_pinned_in_requirements() -> None:
    from backendlab.rosetta import repository_file

    pinned = {line.split("==")[0].lower() for line in repository_file("requirements.txt").read_text().splitlines()}
    for capability in CAPABILITIES.values():
        for cell in capability.cells.values():
            if isinstance(cell, Proven) and cell.how.startswith("add-on: "):
                assert cell.how.removeprefix("add-on: ").lower() in pinned, cell.how


@pytest.mark.slow
def test_committed_matrix_is_what_the_tests_produce() -> None:
    from backendlab.capabilities import run_tests

    outcomes = run_tests()
    assert sorted(outcomes) == sorted(cell_test_ids()), "a cell's test did not run"
    assert MATRIX_FILE.read_text() == matrix_markdown(outcomes), (
        "the committed matrix is out of date: run `.venv/bin/python -m backendlab.capabilities`"
    )

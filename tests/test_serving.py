"""The serving helper's contract, checked for all eight frameworks on real servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import psutil
import pytest
import requests
from framework_apps import FRAMEWORKS, MAKERS, PRINTED, SERVER_SOFTWARE

from backendlab import serving
from backendlab.serving import (
    ServerCrashed,
    ServerStartError,
    UnsupportedApp,
    running_servers,
    serve,
    server_class_for,
)

TIMEOUT = 10


def listening_ports() -> set[int]:
    return {c.laddr.port for c in psutil.Process().net_connections("inet") if c.status == "LISTEN"}


def live_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


def wait_for_log(server: serving.BackgroundServer, text: str, timeout: float = 3) -> str:
    """The server's log once it contains ``text`` (servers may log just after responding)."""
    deadline = time.monotonic() + timeout
    while text not in server.log_text and time.monotonic() < deadline:
        time.sleep(0.01)
    return server.log_text


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail the test if it leaves a server thread, a listening socket or a registered server."""
    threads_before, ports_before = live_threads(), listening_ports()
    yield
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        extra_threads = {t for t in live_threads() - threads_before if not t.name.startswith(("asyncio_", "AnyIO"))}
        if not extra_threads and listening_ports() <= ports_before:
            break
        time.sleep(0.02)
    assert not extra_threads, f"threads left behind: {sorted(t.name for t in extra_threads)}"
    assert listening_ports() <= ports_before, "a listening socket was left open"
    assert running_servers() == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_start_request_stop(framework: str, no_leaks: None) -> None:
    app = MAKERS[framework]()
    server = serve(app)
    try:
        assert server.server_software == SERVER_SOFTWARE[framework]
        assert server.host == "127.0.0.1" and server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.running
        response = requests.get(server.url + "/hello", timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.json() == {"framework": framework}
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/hello", timeout=TIMEOUT)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_context_manager_and_idempotent_stop(framework: str, no_leaks: None) -> None:
    with serve(MAKERS[framework]()) as server:
        with requests.Session() as session:  # a keep-alive connection still open at stop time
            assert session.get(server.url + "/hello", timeout=TIMEOUT).status_code == 200
            server.stop()
            server.stop()
    server.stop()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_handler_exception_is_a_500_and_the_server_lives_on(framework: str, no_leaks: None) -> None:
    with serve(MAKERS[framework]()) as server:
        assert requests.get(server.url + "/boom", timeout=TIMEOUT).status_code == 500
        assert requests.get(server.url + "/hello", timeout=TIMEOUT).status_code == 200
        assert "boom" in wait_for_log(server, "boom"), "the traceback is kept in server.log"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_output_of_server_threads_goes_to_the_server_log(
    framework: str, no_leaks: None, capfd: pytest.CaptureFixture[str]
) -> None:
    with serve(MAKERS[framework]()) as server:
        assert requests.get(server.url + "/print", timeout=TIMEOUT).text == "printed"
        requests.get(server.url + "/boom", timeout=TIMEOUT)
        wait_for_log(server, "boom")
    captured = capfd.readouterr()
    assert PRINTED not in captured.out + captured.err
    assert "boom" not in captured.out + captured.err
    assert PRINTED in server.log_text


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_access_log_is_off_by_default_and_kept_when_asked(framework: str, no_leaks: None) -> None:
    with serve(MAKERS[framework]()) as quiet:
        requests.get(quiet.url + "/hello", timeout=TIMEOUT)
    assert "/hello" not in quiet.log_text
    with serve(MAKERS[framework](), access_log=True) as logged:
        requests.get(logged.url + "/hello", timeout=TIMEOUT)
        wait_for_log(logged, "/hello")
    assert "/hello" in logged.log_text


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_serving_again_under_a_name_replaces_the_old_server(framework: str, no_leaks: None) -> None:
    first = serve(MAKERS[framework](), name="re-run")
    second = serve(MAKERS[framework](), name="re-run")  # what re-running a notebook cell does
    try:
        assert not first.running
        with pytest.raises(requests.ConnectionError):
            requests.get(first.url + "/hello", timeout=TIMEOUT)
        assert requests.get(second.url + "/hello", timeout=TIMEOUT).status_code == 200
        assert running_servers() == [second]
    finally:
        second.stop()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_serving_the_same_app_again_replaces_the_old_server(framework: str, no_leaks: None) -> None:
    app = MAKERS[framework]()
    first = serve(app)
    second = serve(app)
    try:
        assert not first.running and second.running
        assert requests.get(second.url + "/hello", timeout=TIMEOUT).json() == {"framework": framework}
    finally:
        second.stop()


def test_all_eight_at_once(no_leaks: None) -> None:
    servers = [serve(MAKERS[f](), name=f"together-{f}") for f in FRAMEWORKS]
    try:
        assert len({s.port for s in servers}) == len(FRAMEWORKS)
        for framework, server in zip(FRAMEWORKS, servers, strict=True):
            assert requests.get(server.url + "/hello", timeout=TIMEOUT).json() == {"framework": framework}
    finally:
        serving.stop_all()
    assert running_servers() == []


@pytest.mark.parametrize("framework", ["flask", "tornado"])
def test_two_servers_of_one_framework_at_once(framework: str, no_leaks: None) -> None:
    with serve(MAKERS[framework]()) as one, serve(MAKERS[framework]()) as two:
        assert one.port != two.port
        assert requests.get(one.url + "/hello", timeout=TIMEOUT).status_code == 200
        assert requests.get(two.url + "/hello", timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stop_is_prompt(framework: str, no_leaks: None) -> None:
    durations = []
    for _ in range(3):
        server = serve(MAKERS[framework]())
        requests.get(server.url + "/hello", timeout=TIMEOUT)
        started = time.perf_counter()
        server.stop()
        durations.append(time.perf_counter() - started)
    # The target is well under 0.1 s (see `python -m backendlab.bench_serving`); this bound only
    # catches a regression to a 0.5 s poll loop without being flaky on a loaded machine.
    assert sorted(durations)[1] < 0.45, durations


@pytest.mark.parametrize(
    "thing",
    [42, "app", object(), type("NotAnApp", (), {}), lambda: None, lambda environ: None],
    ids=["int", "str", "object", "class", "zero-arg-function", "one-arg-function"],
)
def test_unsupported_object_gets_one_clear_error(thing: object) -> None:
    with pytest.raises(UnsupportedApp, match="it accepts a WSGI callable .* an ASGI app .* tornado.web.Application"):
        serve(thing)
    assert running_servers() == []


def test_plain_wsgi_and_asgi_callables_are_recognised() -> None:
    def wsgi(environ: dict, start_response: object) -> list[bytes]:
        return []

    async def asgi(scope: dict, receive: object, send: object) -> None:
        return None

    assert server_class_for(wsgi) is serving.WSGIServer
    assert server_class_for(asgi) is serving.ASGIServer


def test_a_port_taken_by_someone_else_is_a_clear_error(no_leaks: None) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        with pytest.raises(ServerStartError, match=r"already in use .* port=0"):
            serve(MAKERS["flask"](), port=blocker.getsockname()[1])
    finally:
        blocker.close()


def test_an_app_that_fails_at_startup_raises_in_the_caller(no_leaks: None) -> None:
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        raise RuntimeError("database unreachable")
        yield

    with pytest.raises(ServerStartError, match="uvicorn failed to start"):
        serve(FastAPI(lifespan=lifespan))
    assert running_servers() == []


def test_a_server_that_never_becomes_ready_times_out(no_leaks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hang(self: serving.WSGIServer) -> None:
        release.wait(60)

    monkeypatch.setattr(serving.WSGIServer, "_serve_in_thread", hang)
    monkeypatch.setattr(serving.WSGIServer, "_request_stop", lambda self: release.set())
    started = time.monotonic()
    with pytest.raises(ServerStartError, match="did not start serving .* within 0.3 s"):
        serve(MAKERS["bottle"](), startup_timeout=0.3)
    # The hanging thread would hold a start for 60 s; the timeout gives up after 0.3 s.
    assert time.monotonic() - started < 30


def test_a_crash_in_the_server_thread_is_reraised(no_leaks: None) -> None:
    server = serve(MAKERS["tornado"]())

    def crash() -> None:
        raise RuntimeError("the loop broke")

    server._loop.call_soon_threadsafe(crash)  # an exception escaping a loop callback is only logged...
    assert requests.get(server.url + "/hello", timeout=TIMEOUT).status_code == 200  # ...and the server lives on

    def fatal() -> None:
        raise SystemExit("fatal error in the server thread")

    server._loop.call_soon_threadsafe(fatal)  # but a BaseException ends the thread
    server._thread.join(TIMEOUT)
    assert not server.running
    with pytest.raises(ServerCrashed, match="fatal error in the server thread"):
        server.stop()
    server.stop()  # reported once; stopping again is quiet


def non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (the one its default route would use), or None.

    Connecting a UDP socket sends nothing: it only asks the kernel which local address it would use.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_listening_socket_is_bound_to_loopback_only(framework: str, no_leaks: None) -> None:
    with serve(MAKERS[framework]()) as server:
        listening = [c.laddr for c in psutil.Process().net_connections("inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == server.port]
        assert listening and all(address.ip == "127.0.0.1" for address in listening), listening
        other = non_loopback_address()
        if other is not None:  # the same port on the machine's own network address must refuse
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((other, server.port), timeout=TIMEOUT).close()

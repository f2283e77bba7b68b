"""backendlab.cherrypy_support: raw HTTP exchanges, wire bytes, idle keep-alive, a cache without a thread."""

from __future__ import annotations

import gzip
import threading

import cheroot.wsgi
import cherrypy
import pytest
import requests

from backendlab import serve
from backendlab.cherrypy_support import (
    CacheWithoutSweeper,
    cherrypy_threads,
    forget_process_wide_state,
    idle_close_seconds,
    raw_exchange,
    runtime_requirements,
    split_chunks,
    status_lines,
    wire_bytes,
)


class Pages:
    @cherrypy.expose
    def index(self):
        return "hello"

    @cherrypy.expose
    def rows(self):
        return (f"row {n}\n" for n in range(3))

    rows._cp_config = {"response.stream": True}

    @cherrypy.expose
    def text(self):
        return "words " * 200


def test_split_chunks_decodes_sizes_in_hex_and_extensions() -> None:
    body = b"5\r\nhello\r\na;name=x\r\n0123456789\r\n0\r\n\r\n"
    assert split_chunks(body) == [b"hello", b"0123456789", b""]


def test_raw_exchange_and_status_lines_show_chunks_and_interim_answers() -> None:
    app = cherrypy.Application(Pages(), "", None)
    with serve(app) as server:
        head, body = raw_exchange(server, b"GET /rows HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        early = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                     b"Expect: 100-continue\r\nConnection: close\r\n\r\nhi")
    assert b"Transfer-Encoding: chunked" in head.split(b"\r\n")
    assert split_chunks(body) == [b"row 0\n", b"row 1\n", b"row 2\n", b""]
    assert status_lines(*early) == ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"]


def test_wire_bytes_are_not_decompressed() -> None:
    app = cherrypy.Application(Pages(), "", {"/": {"tools.gzip.on": True}})
    with serve(app) as server:
        response, raw = wire_bytes(server.url + "/text", {"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw) == ("words " * 200).encode()


def test_idle_close_seconds_measures_the_server_timeout() -> None:
    server = cheroot.wsgi.Server(("127.0.0.1", 0), cherrypy.Application(Pages(), "", None), timeout=1)
    server.expiration_interval = 0.05
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        status, waited = idle_close_seconds(*server.bind_addr[:2], limit=20)
    finally:
        server.stop()
        thread.join(10)
    assert status == 200
    assert 0.5 <= waited < 10  # the 1 s timeout, generously bounded for a loaded machine


def test_runtime_requirements_skip_extras() -> None:
    needs = runtime_requirements("cherrypy")
    assert "cheroot" in needs
    assert "pytest" not in needs  # a test extra


def test_cache_without_sweeper_caches_without_a_thread() -> None:
    calls = []

    class Counter:
        @cherrypy.expose
        def index(self):
            calls.append(1)
            return str(len(calls))

    forget_process_wide_state()
    if hasattr(cherrypy, "_cache"):
        pytest.skip("another cache class is already installed in this process")
    config = {"/": {"tools.caching.on": True, "tools.caching.cache_class": CacheWithoutSweeper}}
    try:
        with serve(cherrypy.Application(Counter(), "", config)) as server:

            bodies = [requests.get(server.url + "/", timeout=5).text for _ in range(3)]
        assert bodies == ["1", "1", "1"] and len(calls) == 1
        assert isinstance(cherrypy._cache, CacheWithoutSweeper)
        assert "expire_cache" not in cherrypy_threads()
    finally:
        forget_process_wide_state()
    assert not hasattr(cherrypy, "_cache")

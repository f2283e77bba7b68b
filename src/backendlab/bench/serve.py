"""Serve one contract app on its production server, in this process: the benchmark's server child.

``python -m backendlab.bench.serve KEY [--host 127.0.0.1] [--port 0]``

The server binds first (port 0: the operating system picks a free port), then this process
writes one line to stdout, ``BACKENDLAB-SERVING port=<port> pid=<pid>``, which the harness
waits for; everything printed after that goes to stderr (the harness keeps it in a log file).
It serves until it is terminated (the harness kills its process group).

One process, one worker, default settings of each server unless noted:

========  ==========================  ================================================
key       server                      how it runs here
========  ==========================  ================================================
flask,    waitress                    ``create_server(app)``, its defaults: 4 threads,
django,                               at most 100 connections (``connection_limit``),
pyramid,                              backlog 1024
bottle
fastapi   uvicorn                     one ``uvicorn.Server`` (no supervisor), uvloop and
                                      httptools when installed (``loop``/``http`` auto)
tornado   tornado ``HTTPServer``      on asyncio, ``bind_sockets`` (backlog 128)
sanic     Sanic's server              ``app.run(single_process=True)``: no worker manager
cherrypy  cheroot ``wsgi.Server``     CherryPy's defaults: 10 threads, listen queue 5
bare      an asyncio ``Protocol``     a reference, not a framework: answers every request
                                      with fixed bytes (uvloop when installed)
========  ==========================  ================================================

No server logs each request (access logs off everywhere, as in a tuned deployment).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from backendlab.bench.client import raise_fd_limit

READY_PREFIX = "BACKENDLAB-SERVING"
BARE_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
    b'{"message":"Hello, World!"}'
)

SERVER_OPTIONS: dict[str, dict[str, Any]] = {
    "waitress": {"threads": 4, "connection_limit": 100, "backlog": 1024},
    "uvicorn": {"workers": 1, "loop": "auto (uvloop if installed)", "http": "auto (httptools if installed)",
                "backlog": 2048},
    "tornado": {"processes": 1, "backlog": 128},
    "sanic": {"single_process": True, "backlog": 100},
    "cheroot": {"numthreads": 10, "request_queue_size": 5},
    "bare": {"loop": "uvloop if installed"},
}


def _announce(port: int) -> None:
    """Tell the harness the port, then send all later stdout to stderr (a pipe nobody drains could fill)."""
    sys.stdout.write(f"{READY_PREFIX} port={port} pid={os.getpid()}\n")
    sys.stdout.flush()
    os.dup2(2, 1)


def _bound_socket(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP, as a socket from getaddrinfo has: asyncio's standard loop sets TCP_NODELAY
    # on accepted connections only then (asyncio/base_events.py, _set_nodelay); uvloop always does.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def run_waitress(app: Any, host: str, port: int) -> None:
    from waitress.server import create_server

    server = create_server(app, host=host, port=port)  # binds and listens
    _announce(int(server.effective_port))
    server.run()


def run_uvicorn(app: Any, host: str, port: int, **options: Any) -> None:
    """``options``: more ``uvicorn.Config`` settings (the attribution runs set ``loop`` and ``http``)."""
    import uvicorn

    sock = _bound_socket(host, port)
    _announce(sock.getsockname()[1])
    config = uvicorn.Config(app, access_log=False, log_level="warning", lifespan="off", **options)
    uvicorn.Server(config).run(sockets=[sock])


def run_tornado(app: Any, host: str, port: int, loop: str = "asyncio") -> None:
    """On asyncio's standard loop, or on uvloop with ``loop="uvloop"`` (Tornado runs on any asyncio loop)."""
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    async def main() -> None:
        sockets = bind_sockets(port, host)
        HTTPServer(app).add_sockets(sockets)
        _announce(sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    if loop == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


def run_sanic(app: Any, host: str, port: int, use_uvloop: bool | None = None) -> None:
    """``use_uvloop=False`` sets Sanic's ``USE_UVLOOP`` to false (by default Sanic installs uvloop's policy)."""
    if use_uvloop is not None:
        app.config.USE_UVLOOP = use_uvloop  # sanic/mixins/startup.py, setup_loop()
    sock = _bound_socket(host, port)  # Sanic turns port 0 into 8000: hand it a bound socket
    _announce(sock.getsockname()[1])
    app.run(sock=sock, single_process=True, access_log=False, motd=False)


def run_cheroot(app: Any, host: str, port: int) -> None:
    from cheroot import wsgi

    app.log.access_log.disabled = True
    server = wsgi.Server((host, port), app)  # numthreads=10, request_queue_size=5 (CherryPy's defaults)
    server.prepare()  # binds and listens
    _announce(server.bind_addr[1])
    server.serve()


def run_bare(host: str, port: int) -> None:
    class Bare(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                self.buffer = self.buffer[end + 4:]
                self.transport.write(BARE_RESPONSE)

    async def main() -> None:
        sock = _bound_socket(host, port)
        server = await asyncio.get_running_loop().create_server(Bare, sock=sock, backlog=1024)
        _announce(sock.getsockname()[1])
        await server.serve_forever()

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


RUNNERS: dict[str, Callable[[Any, str, int], None]] = {
    "waitress": run_waitress,
    "uvicorn": run_uvicorn,
    "tornado": run_tornado,
    "sanic": run_sanic,
    "cheroot": run_cheroot,
}


def main(argv: list[str] | None = None) -> int:
    from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", choices=[*FRAMEWORKS, "bare"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    raise_fd_limit()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.key == "bare":
        run_bare(args.host, args.port)
        return 0
    impl = IMPLEMENTATIONS[args.key]
    RUNNERS[impl.server](impl.make_app(), args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

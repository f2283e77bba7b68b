"""Serve an app of any of the eight frameworks from a background thread.

One call, in the style of ``pytest-httpserver`` and werkzeug's ``make_server``::

    with serve(app) as server:
        requests.get(server.url + "/hello", timeout=5)

    server = serve(app, name="demo")   # re-running this cell stops the old "demo" first
    ...
    server.stop()

What is served, and on which server:

==========================================  ===========================================
app                                         server (each on 127.0.0.1, port 0 by default)
==========================================  ===========================================
WSGI callable (Flask, Bottle, Pyramid,      werkzeug's threaded WSGI server (what
Django's WSGIHandler, any WSGI function)    ``flask run`` uses)
ASGI app (FastAPI, Starlette, Django ASGI)  uvicorn
``tornado.web.Application``                 Tornado's own ``HTTPServer`` on its own loop
``sanic.Sanic``                             Sanic's own server on its own loop
``cherrypy.Application`` / ``cherrypy.tree``  cheroot (CherryPy's own HTTP server)
==========================================  ===========================================

Everything a server thread prints or logs is kept in ``server.log`` and never lands in a
notebook cell; access logs are off unless ``access_log=True``.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import errno
import inspect
import logging
import socket
import sys
import threading
from typing import Any, ClassVar

__all__ = [
    "BackgroundServer",
    "ServerCrashed",
    "ServerStartError",
    "ServingError",
    "UnsupportedApp",
    "running_servers",
    "serve",
    "stop_all",
]

HOST = "127.0.0.1"
LOG_LINES_KEPT = 5000

ACCEPTED = (
    "a WSGI callable (Flask, Bottle, Pyramid, Django's WSGIHandler), "
    "an ASGI app (FastAPI, Starlette), a tornado.web.Application, a sanic.Sanic app, "
    "or a cherrypy.Application / cherrypy.tree"
)


class ServingError(RuntimeError):
    """Base class of the errors raised by :func:`serve`."""


class UnsupportedApp(ServingError, TypeError):
    """The object given to :func:`serve` is not an app it knows how to serve."""


class ServerStartError(ServingError):
    """The server could not start (port taken, app failed at startup, timeout)."""


class ServerCrashed(ServingError):
    """The server thread died while serving; the original error is the ``__cause__``."""


# --------------------------------------------------------------------------------------
# Output routing: whatever a server thread writes or logs goes to its server's log.
# --------------------------------------------------------------------------------------

def _owner_of_current_thread() -> BackgroundServer | None:
    thread = threading.current_thread()
    owner = getattr(thread, "_backendlab_server", None)
    if owner is None:  # cheroot worker threads carry their HTTP server as `.server`
        owner = getattr(getattr(thread, "server", None), "_backendlab_server", None)
    return owner


class _RoutedStream:
    """Stands in for ``sys.stdout``/``sys.stderr``: a server thread's writes go to its server's log.

    A wrapper object, not a patched ``write``: IPython re-assigns ``stream.write`` around
    every cell (to record outputs) and would undo a patch at the end of the cell.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        owner = _owner_of_current_thread()
        if owner is not None:
            owner._capture_text(text)
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _route_stream(name: str) -> None:
    stream = getattr(sys, name, None)
    if stream is not None and not isinstance(stream, _RoutedStream):
        setattr(sys, name, _RoutedStream(stream))


_original_logger_handle = logging.Logger.handle
_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message", "taskName"}


def _routed_logger_handle(self: logging.Logger, record: logging.LogRecord) -> Any:
    owner = _owner_of_current_thread()
    if owner is not None:
        if not self.disabled:
            owner._capture_record(record)
        return None
    return _original_logger_handle(self, record)


def _install_output_routing() -> None:
    """Route server-thread output to server logs (idempotent, cheap to call again)."""
    logging.Logger.handle = _routed_logger_handle  # type: ignore[method-assign]
    _route_stream("stdout")
    _route_stream("stderr")


# --------------------------------------------------------------------------------------
# The registry of running servers
# --------------------------------------------------------------------------------------

_running: dict[str, BackgroundServer] = {}
_registry_lock = threading.RLock()


def running_servers() -> list[BackgroundServer]:
    """The servers started by :func:`serve` that have not been stopped yet."""
    with _registry_lock:
        return list(_running.values())


def stop_all() -> None:
    """Stop every server started by :func:`serve` (also runs when the kernel exits)."""
    for server in running_servers():
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(stop_all)


def _bind_listening_socket(port: int) -> socket.socket:
    """The server's socket, bound to 127.0.0.1 and listening before any server code runs: from here
    on the kernel completes connections into the backlog, so a client never sees "refused"."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServerStartError(
                f"port {port} on {HOST} is already in use by another program; "
                "pass port=0 (the default) to let the operating system choose a free port"
            ) from exc
        raise ServerStartError(f"cannot bind {HOST}:{port}: {exc}") from exc
    sock.listen(1024)
    return sock


# --------------------------------------------------------------------------------------
# The background server and one subclass per kind of app
# --------------------------------------------------------------------------------------

class BackgroundServer:
    """An app served from a daemon thread on ``127.0.0.1``; stop it with :meth:`stop`.

    Use it as a context manager, or keep it and call :meth:`stop` yourself.
    ``url`` is ``http://127.0.0.1:<port>``; ``log`` holds what the server printed or logged.
    """

    kind: ClassVar[str] = "server"
    server_software: ClassVar[str] = "?"
    access_loggers: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        app: Any,
        *,
        name: str,
        port: int = 0,
        access_log: bool = False,
        startup_timeout: float = 10.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self.app = app
        self.name = name
        self.host = HOST
        self.port: int = port
        self.access_log = access_log
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.log: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)
        self._partial_line = ""
        self._log_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._ready = threading.Event()
        self._stop_requested = False
        self._stopped = False
        self._error: BaseException | None = None
        self._error_reported = False

    # -- public API ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the server: ``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the server thread is alive and serving."""
        return (
            self._thread is not None
            and self._thread.is_alive()
            and self._ready.is_set()
            and not self._stop_requested
            and self._error is None
        )

    @property
    def log_text(self) -> str:
        """The captured log as one string."""
        with self._log_lock:
            lines = list(self.log) + ([self._partial_line] if self._partial_line else [])
        return "\n".join(lines)

    def start(self) -> BackgroundServer:
        """Bind, start the thread and return once the server accepts connections."""
        if self._thread is not None:
            raise ServingError(f"server {self.name!r} was already started; call serve() again for a new one")
        _install_output_routing()
        if self.access_log:
            for logger_name in self.access_loggers:
                access_logger = logging.getLogger(logger_name)
                if access_logger.getEffectiveLevel() > logging.INFO:
                    access_logger.setLevel(logging.INFO)
                if not access_logger.handlers:
                    access_logger.addHandler(logging.NullHandler())
        self._sock = _bind_listening_socket(self.port)
        self.port = self._sock.getsockname()[1]
        thread = threading.Thread(target=self._thread_main, name=f"backendlab:{self.name}", daemon=True)
        thread._backendlab_server = self  # type: ignore[attr-defined]
        self._thread = thread
        try:
            self._prepare()
            thread.start()
            if not self._ready.wait(self.startup_timeout):
                raise ServerStartError(
                    f"{self.server_software} did not start serving {self.name!r} within "
                    f"{self.startup_timeout:g} s"
                )
            if self._error is not None:
                self._error_reported = True
                raise ServerStartError(
                    f"{self.server_software} failed to start {self.name!r}: "
                    f"{type(self._error).__name__}: {self._error}"
                ) from self._error
        except BaseException:
            self._teardown(raise_crash=False)
            raise
        return self

    def stop(self) -> None:
        """Stop serving, join the thread, close every socket. Safe to call twice.

        Raises :class:`ServerCrashed` if the server thread had died with an error.
        """
        self._teardown(raise_crash=True)

    def check(self) -> None:
        """Raise :class:`ServerCrashed` now if the server thread died with an error."""
        if self._error is not None and not self._error_reported:
            self._error_reported = True
            raise ServerCrashed(
                f"{self.server_software} serving {self.name!r} died: {type(self._error).__name__}: {self._error}"
            ) from self._error

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else ("stopped" if self._stopped else "not running")
        return f"<{type(self).__name__} {self.name!r} {self.server_software} {self.url} {state}>"

    # -- the part each kind implements ------------------------------------------------

    def _prepare(self) -> None:
        """Build the server object in the caller's thread (optional)."""

    def _serve_in_thread(self) -> None:
        """Run in the server thread: serve until asked to stop; set ``self._ready`` once serving."""
        raise NotImplementedError

    def _request_stop(self) -> None:
        """Ask the serving loop to finish (called from another thread)."""
        raise NotImplementedError

    def _close_resources(self) -> None:
        """Close what is left after the thread has ended (called from the stopping thread)."""

    # -- machinery -------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            self._serve_in_thread()
            if not self._stop_requested and self._error is None:
                self._error = ServingError(f"{self.server_software} stopped serving on its own")
        except BaseException as exc:  # the error is re-raised to the caller, not lost
            self._error = exc
        finally:
            self._ready.set()

    def _teardown(self, *, raise_crash: bool) -> None:
        with _registry_lock:
            if _running.get(self.name) is self:
                del _running[self.name]
        if not self._stopped:
            self._stopped = True
            self._stop_requested = True
            thread = self._thread
            if thread is not None and thread.is_alive():
                with contextlib.suppress(Exception):
                    self._request_stop()
                thread.join(self.stop_timeout)
            with contextlib.suppress(Exception):
                self._close_resources()
            if self._sock is not None:
                self._sock.close()
            if thread is not None and thread.is_alive():
                raise ServingError(
                    f"{self.server_software} serving {self.name!r} did not stop within {self.stop_timeout:g} s"
                )
        if raise_crash:
            self.check()

    def _capture_text(self, text: str) -> None:
        with self._log_lock:
            text = self._partial_line + text
            *lines, self._partial_line = text.split("\n")
            self.log.extend(line.rstrip("\r") for line in lines)

    def _capture_record(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the server
            message = str(record.msg)
        if not message:  # e.g. Sanic's access records carry their content as extras
            extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_FIELDS}
            message = " ".join(f"{value}" for value in extras.values())
        line = f"{record.levelname} {record.name}: {message}"
        if record.exc_info:
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        with self._log_lock:
            self.log.extend(line.split("\n"))


class WSGIServer(BackgroundServer):
    """A WSGI app on werkzeug's threaded server, polling for stop every 20 ms."""

    kind = "wsgi"
    server_software = "werkzeug"
    access_loggers = ("werkzeug",)
    poll_interval = 0.02

    def _prepare(self) -> None:
        from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

        owner = self

        class RequestHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                if owner.access_log:
                    super().log_request(*args, **kwargs)

        class Server(ThreadedWSGIServer):
            def process_request_thread(self, request: Any, client_address: Any) -> None:
                thread = threading.current_thread()
                thread._backendlab_server = owner  # type: ignore[attr-defined]
                with owner._connections_lock:
                    owner._connections[request] = thread
                try:
                    super().process_request_thread(request, client_address)
                finally:
                    with owner._connections_lock:
                        owner._connections.pop(request, None)

        assert self._sock is not None
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        self._httpd = Server(HOST, self.port, self.app, handler=RequestHandler, fd=self._sock.fileno())
        self._sock.close()  # werkzeug serves a duplicate of the descriptor
        self._sock = None

    def _serve_in_thread(self) -> None:
        self._ready.set()
        self._httpd.serve_forever(poll_interval=self.poll_interval)

    def _request_stop(self) -> None:
        self._httpd.shutdown()

    def _close_resources(self) -> None:
        self._httpd.server_close()
        with self._connections_lock:
            connections = dict(self._connections)
        for connection in connections:  # wake request threads idling on keep-alive reads
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in connections.values():
            thread.join(self.stop_timeout)


class _LoopServer(BackgroundServer):
    """Base for servers that run on their own asyncio loop in the thread."""

    _loop: asyncio.AbstractEventLoop | None = None

    def _serve_in_thread(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._start_async())
            self._ready.set()
            if not self._stop_requested:
                loop.run_forever()
            loop.run_until_complete(self._stop_async())
        finally:
            try:
                self._cancel_leftover_tasks(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                self._close_loop(loop)
                asyncio.set_event_loop(None)

    async def _start_async(self) -> None:
        raise NotImplementedError

    async def _stop_async(self) -> None:
        raise NotImplementedError

    def _request_stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)

    @staticmethod
    def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.close()


class TornadoServer(_LoopServer):
    """A ``tornado.web.Application`` on Tornado's ``HTTPServer``, on a new loop in the thread."""

    kind = "tornado"
    server_software = "tornado"
    access_loggers = ("tornado.access",)

    def _prepare(self) -> None:
        settings = self.app.settings
        current = settings.get("log_function")
        if current is None or getattr(current, "_backendlab", False):
            settings["log_function"] = self._log_request

    def _log_request(self, handler: Any) -> None:
        if self.access_log:
            request = handler.request
            self._capture_text(
                f"{handler.get_status()} {request.method} {request.uri} {1000 * request.request_time():.1f} ms\n"
            )

    _log_request._backendlab = True  # type: ignore[attr-defined]

    async def _start_async(self) -> None:
        from tornado.httpserver import HTTPServer

        assert self._sock is not None
        self._sock.setblocking(False)
        self._http_server = HTTPServer(self.app)
        self._http_server.add_sockets([self._sock])

    async def _stop_async(self) -> None:
        self._http_server.stop()
        await asyncio.wait_for(self._http_server.close_all_connections(), self.stop_timeout)

    def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        from tornado.ioloop import IOLoop

        # Closing Tornado's IOLoop with all_fds also closes WebSocket streams still open.
        IOLoop.current().close(all_fds=True)
        self._sock = None  # closed with the loop's file descriptors


class SanicServer(_LoopServer):
    """A ``sanic.Sanic`` app on Sanic's own server, on a new loop in the thread.

    Sanic normally starts through its CLI, which forks worker processes and installs
    signal handlers; neither works in a kernel thread, so this uses Sanic's documented
    low-level ``create_server`` on a socket bound here.
    """

    kind = "sanic"
    server_software = "sanic"
    access_loggers = ("sanic.access",)

    def _prepare(self) -> None:
        from sanic import Sanic

        # Test mode relaxes Sanic's process-wide checks: the app-name registry (so a
        # re-run cell can create Sanic("same-name") again), re-finalizing an app that
        # was served before, and TouchUp's rewrites for a second app in one process.
        Sanic.test_mode = True
        self.app.config.TOUCHUP = False

    async def _start_async(self) -> None:
        self._sanic_server = await self.app.create_server(sock=self._sock, access_log=self.access_log)
        if self._sanic_server.server is None:  # older Sanic returned it un-awaited
            await self._sanic_server
        await self._sanic_server.startup()
        await self._sanic_server.before_start()
        await self._sanic_server.after_start()

    async def _stop_async(self) -> None:
        server = self._sanic_server
        await server.before_stop()
        server.server.close()
        for connection in list(server.connections):
            connection.close_if_idle()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.server.wait_closed(), 0.5)
        for connection in list(server.connections):
            with contextlib.suppress(Exception):
                connection.transport.abort() if connection.transport else None
        await server.after_stop()
        self._sock = None  # closed by the asyncio server

    def _close_resources(self) -> None:
        from sanic import Sanic

        Sanic._app_registry.pop(self.app.name, None)


class ASGIServer(_LoopServer):
    """An ASGI app (FastAPI, Starlette) on uvicorn, with a fast-reacting stop."""

    kind = "asgi"
    server_software = "uvicorn"
    access_loggers = ("uvicorn.access",)

    def _serve_in_thread(self) -> None:
        import uvicorn

        owner = self

        class Server(uvicorn.Server):
            """uvicorn's server with an event to wake its 0.1 s tick and a shutdown without fixed sleeps."""

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                owner._loop = asyncio.get_running_loop()
                owner._wake = asyncio.Event()
                await super().startup(sockets=sockets)
                if self.started:
                    owner._ready.set()

            async def main_loop(self) -> None:
                counter = 0
                should_exit = await self.on_tick(counter)
                while not should_exit:
                    counter = (counter + 1) % 864000
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(owner._wake.wait(), 0.1)
                    should_exit = await self.on_tick(counter)

            async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
                for server in self.servers:
                    server.close()
                for sock in sockets or []:
                    sock.close()
                for connection in list(self.server_state.connections):
                    connection.shutdown()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + owner.stop_timeout
                while (self.server_state.connections or self.server_state.tasks) and loop.time() < deadline:
                    await asyncio.sleep(0.002)
                for task in list(self.server_state.tasks):
                    task.cancel()
                if not self.force_exit:
                    await self.lifespan.shutdown()

        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=self.access_log,
            lifespan="auto",
            timeout_graceful_shutdown=int(self.stop_timeout),
        )
        self._uvicorn = Server(config)
        self._uvicorn.run(sockets=[self._sock])  # signal handlers are skipped off the main thread
        self._sock = None  # closed by uvicorn's shutdown

    def _request_stop(self) -> None:
        self._uvicorn.should_exit = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)


class CherootServer(BackgroundServer):
    """A CherryPy app (or ``cherrypy.tree``) on cheroot, without CherryPy's global engine.

    CherryPy's engine is one per process and, on a failed re-bind, calls ``os._exit``;
    serving the app with cheroot's WSGI server directly keeps sessions, gzip and caching
    tools working and allows several servers at once.
    """

    kind = "cherrypy"
    server_software = "cheroot"
    expiration_interval = 0.05

    def _prepare(self) -> None:
        from cheroot import wsgi

        presock = self._sock

        class Server(wsgi.Server):
            def bind(self, family: int, type: int, proto: int = 0) -> socket.socket:  # noqa: A002
                assert presock is not None
                self.socket = presock
                self.bind_addr = self.resolve_real_bind_addr(presock)
                return presock

        # CherryPy logs access per application; keep it only when asked.
        apps = self.app.apps.values() if hasattr(self.app, "apps") else [self.app]
        for app in apps:
            if hasattr(app, "log"):
                app.log.access_log.disabled = not self.access_log
        self._httpd = Server((HOST, self.port), self.app, numthreads=10, shutdown_timeout=self.stop_timeout)
        self._httpd.expiration_interval = self.expiration_interval
        self._httpd._backendlab_server = self  # cheroot workers reach it as thread.server
        self._httpd.prepare()
        self._sock = None  # owned and closed by cheroot from now on

    def _serve_in_thread(self) -> None:
        self._ready.set()
        self._httpd.serve()

    def _request_stop(self) -> None:
        self._httpd.stop()

    def _close_resources(self) -> None:
        self._httpd.stop()


# --------------------------------------------------------------------------------------
# Choosing the server for an app
# --------------------------------------------------------------------------------------

def _is_instance_of(app: Any, module_name: str, class_name: str) -> bool:
    """isinstance check against a class of a module, only if that module was imported already."""
    cls = getattr(sys.modules.get(module_name), class_name, None)
    return cls is not None and isinstance(app, cls)


def _is_asgi(app: Any) -> bool:
    """An ``async def`` function or method, or an object whose class has ``async def __call__``."""
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    return inspect.iscoroutinefunction(call)


def server_class_for(app: Any) -> type[BackgroundServer]:
    """The server class that :func:`serve` would use for ``app``; raises :class:`UnsupportedApp`."""
    if _is_instance_of(app, "sanic", "Sanic"):
        return SanicServer
    if _is_instance_of(app, "tornado.web", "Application"):
        return TornadoServer
    if _is_instance_of(app, "cherrypy", "Application") or _is_instance_of(app, "cherrypy._cptree", "Tree"):
        return CherootServer
    if callable(app) and not isinstance(app, type):
        if _is_asgi(app):
            return ASGIServer
        try:
            parameters = inspect.signature(app).parameters
        except (TypeError, ValueError):
            parameters = None
        if parameters is None or len(parameters) >= 2 or any(
            p.kind in (p.VAR_POSITIONAL,) for p in parameters.values()
        ):
            return WSGIServer
    described = f"{type(app).__module__}.{type(app).__qualname__} object {app!r:.80}"
    raise UnsupportedApp(f"serve() cannot serve {described}; it accepts {ACCEPTED}")


def _default_name(app: Any) -> str:
    return f"{type(app).__name__}-{id(app):x}"


def serve(
    app: Any,
    *,
    name: str | None = None,
    port: int = 0,
    access_log: bool = False,
    startup_timeout: float = 10.0,
    stop_timeout: float = 5.0,
) -> BackgroundServer:
    """Serve ``app`` from a background thread and return the running server.

    ``name`` identifies the server in this process: serving again under the same name,
    or serving the same app object again, first stops the previous server, so a
    re-run cell never leaves an old server listening. ``port=0`` lets the OS pick a
    free port; the server always binds 127.0.0.1 only.
    """
    server_class = server_class_for(app)
    name = name or _default_name(app)
    with _registry_lock:
        previous = [s for key, s in _running.items() if key == name or s.app is app]
    for old in previous:
        with contextlib.suppress(ServerCrashed):
            old.stop()
    server = server_class(
        app,
        name=name,
        port=port,
        access_log=access_log,
        startup_timeout=startup_timeout,
        stop_timeout=stop_timeout,
    )
    server.start()
    with _registry_lock:
        _running[name] = server
    return server

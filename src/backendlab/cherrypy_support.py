"""Plumbing for the CherryPy chapter, kept out of the learner's way.

* :func:`raw_exchange` and :func:`split_chunks` show HTTP/1.1 as bytes on the wire (chunks,
  ``100 Continue``, what a server answers to a malformed request);
* :func:`wire_bytes` reads a response body as it travelled, before ``requests`` decompresses it;
* :func:`idle_close_seconds` measures how long a server keeps an idle keep-alive connection open;
* :class:`CacheWithoutSweeper` is CherryPy's in-memory cache without its never-ending sweeper
  thread, which nothing but the end of the process would stop in a notebook kernel;
* :func:`forget_process_wide_state` drops what CherryPy's tools keep per process (the cache, the
  in-memory sessions), and :func:`cherrypy_threads` lists the threads CherryPy left running.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import socket
import threading
import time
from typing import Any

import cherrypy
import requests
from cherrypy.lib import caching, sessions
from packaging.requirements import Requirement

__all__ = [
    "CacheWithoutSweeper",
    "cherrypy_threads",
    "forget_process_wide_state",
    "idle_close_seconds",
    "raw_exchange",
    "runtime_requirements",
    "split_chunks",
    "status_lines",
    "wire_bytes",
]

TIMEOUT = 5  # seconds


def raw_exchange(server: Any, request_bytes: bytes, *, timeout: float = TIMEOUT) -> tuple[bytes, bytes]:
    """Send raw bytes to ``server`` (anything with ``host`` and ``port``) and read until it closes.

    Returns ``(head, body)``: the bytes before the first blank line, and the rest.
    """
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(request_bytes)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def status_lines(head: bytes, body: bytes) -> list[str]:
    """Every status line (``HTTP/1.1 100 Continue``, ``HTTP/1.1 200 OK``...) of a raw exchange."""
    text = (head + b"\r\n\r\n" + body).decode("latin-1")
    return [line for line in text.split("\r\n") if line.startswith("HTTP/")]


def split_chunks(body: bytes) -> list[bytes]:
    """Decode a chunked body into its chunks, the last one empty (it ends the body)."""
    chunks = []
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)  # a chunk extension may follow the size
        chunks.append(body[:size])
        body = body[size + 2 :]  # the chunk, then CRLF
        if size == 0:
            return chunks


def wire_bytes(url: str, headers: dict[str, str], *, timeout: float = TIMEOUT) -> tuple[requests.Response, bytes]:
    """GET ``url``; the response and its body exactly as it came over the wire (not decompressed)."""
    response = requests.get(url, headers=headers, timeout=timeout, stream=True)
    with response:
        return response, response.raw.read(decode_content=False)


def idle_close_seconds(host: str, port: int, path: str = "/", *, limit: float = 60) -> tuple[int, float]:
    """Send one request over a keep-alive connection, then wait, idle, until the server closes it.

    Returns the response's status and the seconds between the end of the response and the close.
    ``limit`` bounds the wait (a server that never closes raises ``TimeoutError``).
    """
    connection = http.client.HTTPConnection(host, port, timeout=limit)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.will_close:
            raise ValueError("the server closed the connection after the response: no keep-alive")
        started = time.monotonic()
        left = connection.sock.recv(1)  # blocks until the server closes (b"") or sends something
        waited = time.monotonic() - started
        if left != b"":
            raise ValueError(f"the server sent {left!r} on an idle connection")
        return response.status, waited
    finally:
        connection.close()


def runtime_requirements(distribution: str) -> list[str]:
    """Names of a distribution's required packages on this Python, extras excluded."""
    requirements = [Requirement(line) for line in importlib.metadata.requires(distribution) or []]
    return sorted(r.name.lower() for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""}))


class CacheWithoutSweeper(caching.MemoryCache):
    """CherryPy's in-memory cache without its expiry thread.

    ``MemoryCache.__init__`` starts a daemon thread that sweeps expired entries every
    ``expire_freq`` (0.1 s) for the life of the process (``cherrypy/lib/caching.py``, lines 158
    and 167, CherryPy 18.10). Without it, an entry older than ``delay`` is still refused when it
    is read, so the tool behaves the same on the wire.
    """

    def __init__(self) -> None:
        self.clear()
        self.expiration_thread = None


def forget_process_wide_state() -> None:
    """Drop the process-wide cache (when it is a :class:`CacheWithoutSweeper`) and the RAM sessions."""
    if isinstance(getattr(cherrypy, "_cache", None), CacheWithoutSweeper):
        del cherrypy._cache
    sessions.RamSession.cache.clear()
    sessions.RamSession.locks.clear()


def cherrypy_threads() -> list[str]:
    """Names of the threads of this process that CherryPy or cheroot started and that still run."""
    names = ("CP Server", "HTTPServer", "expire_cache", "Session cleanup", "Autoreloader")
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(names))

"""Start→first-response and stop latency of ``backendlab.serve`` per framework.

``python -m backendlab.bench_serving [--repeat 20]`` prints a table (median and p90 of
``repeat`` runs) beside a floor: a bare listening socket answered by a plain thread. It is a
measurement, not a test: the figures depend on the machine and go in notes, not asserts.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from backendlab.serving import serve


def bare_socket_floor() -> tuple[float, float]:
    """Start→first-response and stop of a socket answered by a thread: the floor for any server."""
    started = time.perf_counter()
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer() -> None:
        listener.settimeout(0.01)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    requests.get(f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=5).raise_for_status()
    first_response = time.perf_counter() - started
    started = time.perf_counter()
    stop.set()
    thread.join()
    listener.close()
    return first_response, time.perf_counter() - started


def measure(make_app: Callable[[], Any], path: str) -> tuple[float, float]:
    app = make_app()
    started = time.perf_counter()
    server = serve(app)
    requests.get(server.url + path, timeout=5).raise_for_status()
    first_response = time.perf_counter() - started
    started = time.perf_counter()
    server.stop()
    return first_response, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from framework_apps import FRAMEWORKS, MAKERS, SERVER_SOFTWARE  # the eight test apps

    rows = [("bare socket + thread", "-", [bare_socket_floor() for _ in range(args.repeat)])]
    for framework in FRAMEWORKS:
        measure(MAKERS[framework], "/hello")  # warm imports and first-use caches
        samples = [measure(MAKERS[framework], "/hello") for _ in range(args.repeat)]
        rows.append((framework, SERVER_SOFTWARE[framework], samples))

    def ms(values: list[float], q: float) -> str:
        values = sorted(values)
        return f"{1000 * values[min(len(values) - 1, int(q * len(values)))]:.1f}"

    print(f"median and p90 of {args.repeat} runs, milliseconds")
    print(f"| {'app':<21} | {'server':<8} | start→first response | stop |")
    print(f"|{'-' * 23}|{'-' * 10}|----------------------|------|")
    for name, software, samples in rows:
        starts = [s for s, _ in samples]
        stops = [s for _, s in samples]
        print(
            f"| {name:<21} | {software:<8} | {statistics.median(starts) * 1000:.1f} (p90 {ms(starts, 0.9)}) "
            f"| {statistics.median(stops) * 1000:.1f} (p90 {ms(stops, 0.9)}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

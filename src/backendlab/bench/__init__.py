"""The benchmark harness: the eight contract apps on their production servers, under load.

``python -m backendlab.bench run [--full|--quick] [--out PATH]`` (``make bench`` runs ``--full``)
writes a JSON results file (default ``notebooks/benchmark_results/results.json``) and PNG plots
beside it; ``python -m backendlab.bench plot`` redraws the plots from a results file.

Design
------
* **A process per server, and one for the client.** CPython's global interpreter lock (GIL) lets
  one thread at a time execute Python bytecode. A server running in a thread of the harness (as
  ``backendlab.serve`` does for the chapters) would take turns on one GIL with the load generator
  and with every other server thread, and the figures would measure that contention, not the
  server. So each server runs as ``python -m backendlab.bench.serve KEY`` in a process of its own
  (own interpreter, own GIL), and the load generator (:mod:`backendlab.bench.client`) in another;
  the operating system spreads them over the cores.
* **Production servers, one worker, defaults**: waitress for the WSGI frameworks, uvicorn for
  FastAPI, Tornado's ``HTTPServer``, Sanic's own server (``single_process=True``), cheroot for
  CherryPy (see :mod:`backendlab.bench.serve`). Each binds 127.0.0.1 on port 0 and reports the
  port the OS chose on its stdout; the harness then waits for a correct answer.
* **A closed-loop client** in pure Python on asyncio streams: keep-alive connections, no
  pipelining, pre-built request bytes, ``Content-Length`` framing. Warm-up, then a fixed window:
  requests/s, latency percentiles (nearest rank), errors by kind.
* **The plan** (:mod:`backendlab.bench.runner`): a bare asyncio reference server, then each
  framework in turn, alone on the machine: a concurrency sweep, extra endpoints, ``wrk`` on the
  same server if it is on PATH (how far the Python client's ceiling is from a C client's), and
  1,000 simultaneous slow requests with the server's memory sampled (psutil).
* **Bounded and tidy.** Every run has a duration, a request cap and a deadline; every child has
  its own process group, killed at the end or on overrun; a server that fails to start is
  recorded in the results and the run goes on.
"""

from typing import Any

__all__ = ["PROFILES", "Profile", "load_results", "run_benchmark", "write_results"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `python -m backendlab.bench.serve` and `.client` start quickly and
    # do not import themselves twice.
    if name in __all__:
        from backendlab.bench import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

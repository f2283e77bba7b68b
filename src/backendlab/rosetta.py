"""The Rosetta chapter's helpers: the eight contract apps side by side.

Everything here reads or runs the real thing: the app modules of :mod:`backendlab.contract_apps`
(what the book's tabs include), the contract suite ``tests/test_contract.py`` (run with pytest in a
process of its own), and the production commands of :data:`backendlab.contract_apps.IMPLEMENTATIONS`.
"""

from __future__ import annotations

import ast
import http.client
import inspect
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tokenize
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import requests

from backendlab.contract_apps import IMPLEMENTATIONS, Implementation

__all__ = [
    "SourceFacts",
    "concurrent_gets",
    "default_threads",
    "error_fields",
    "listen_overflows",
    "junit_outcomes",
    "media_type",
    "paused",
    "turned_away",
    "production_command",
    "served_command",
    "show_source",
    "source_excerpt",
    "pytest_outcomes",
    "repository_file",
    "run_contract_suite",
    "source_facts",
    "source_path",
    "table",
    "timed_slow_requests",
    "timed_within",
]

# The course's repository root, where tests/ lives (the package is installed from src/ in place).
REPOSITORY = Path(__file__).resolve().parents[2]
CONTRACT_TEST_ID = re.compile(r"^test_contract\[(?P<framework>[a-z]+)-(?P<case>[a-z-]+)\]$")


def source_path(key: str) -> Path:
    """The file of framework ``key``'s contract app (the one the book's tab includes)."""
    return Path(IMPLEMENTATIONS[key].module.__file__)


@dataclass(frozen=True)
class SourceFacts:
    """What a contract app's source file says about itself."""

    lines: int  # every line of the file
    code_lines: int  # lines with code: no blank lines, comments or docstrings
    async_functions: int  # ``async def``
    sync_functions: int  # ``def``, make_app and helpers included


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                first.value.value, str
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def source_facts(source: str) -> SourceFacts:
    """Count lines and function kinds in Python ``source``."""
    tree = ast.parse(source)
    layout = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
              tokenize.ENCODING, tokenize.ENDMARKER}
    with_code = {
        line
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type not in layout
        for line in range(token.start[0], token.end[0] + 1)
    }
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    asynchronous = sum(isinstance(node, ast.AsyncFunctionDef) for node in functions)
    return SourceFacts(
        lines=len(source.splitlines()),
        code_lines=len(with_code - _docstring_lines(tree)),
        async_functions=asynchronous,
        sync_functions=len(functions) - asynchronous,
    )


def source_excerpt(source: str, start: str | None = None, end: str | None = None) -> str:
    """``source`` from the first line holding ``start`` to the next one holding ``end``, dedented
    (what the book's ``literalinclude`` with ``:start-at:``, ``:end-at:`` and ``:dedent:`` shows)."""
    lines = source.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line) if start else 0
    last = next(i for i in range(first, len(lines)) if end in lines[i]) if end else len(lines) - 1
    return textwrap.dedent("\n".join(lines[first:last + 1]))


def show_source(key: str, start: str | None = None, end: str | None = None) -> Any:
    """Framework ``key``'s contract app file, or its lines from ``start`` to ``end`` (see
    :func:`source_excerpt`), highlighted in JupyterLab (plain text elsewhere)."""
    from IPython.display import Code

    return Code(source_excerpt(source_path(key).read_text(), start, end), language="python")


def production_command(impl: Implementation) -> str:
    """The deployer's command of ``impl`` as typed (port 8000), without the registry's trailing comment."""
    return impl.command.split("  #")[0].strip()


def served_command(impl: Implementation) -> str:
    """:func:`production_command` with ``{port}`` for its port, as :func:`backendlab.run_command` takes it."""
    return production_command(impl).replace("--port 8000", "--port {port}")


def default_threads() -> dict[str, int]:
    """The default thread count of each threaded production server, read from the installed package."""
    from cheroot.wsgi import Server
    from waitress.adjustments import Adjustments

    return {"waitress": int(Adjustments.threads),
            "cheroot": int(inspect.signature(Server).parameters["numthreads"].default)}


def repository_file(relative: str) -> Path:
    """A file of the course's repository (tests, chapters), which the installed package does not carry."""
    path = REPOSITORY / relative
    if not path.exists():
        raise FileNotFoundError(f"{path}: part of the course's repository, not of the backendlab package")
    return path


def junit_outcomes(xml_text: str) -> dict[str, str]:
    """``{test name: "passed" | "failed" | "skipped"}`` from pytest's JUnit XML report."""
    outcomes = {}
    for case in ET.fromstring(xml_text).iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = "failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "passed"
        outcomes[case.get("name", "")] = outcome
    return outcomes


def pytest_outcomes(test_file: Path, *options: str, timeout: float = 300) -> dict[str, str]:
    """Run ``test_file`` with pytest in a fresh Python process; each test's outcome by name.

    A process of its own, so the tests' servers, Django's settings and Sanic's app names never
    meet the caller's. Only the project's pytest options are dropped (nbval, xdist).
    """
    with tempfile.TemporaryDirectory(prefix="pytest-outcomes-") as folder:
        report = Path(folder) / "report.xml"
        command = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider",
                   "-o", "addopts=", f"--junitxml={report}", *options]
        finished = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=timeout)
        if not report.exists():
            raise RuntimeError(f"pytest wrote no report (exit {finished.returncode}):\n{finished.stdout[-2000:]}")
        return junit_outcomes(report.read_text())


def run_contract_suite(timeout: float = 300) -> dict[tuple[str, str], str]:
    """Run ``tests/test_contract.py`` (:func:`pytest_outcomes`); ``{(framework, case): outcome}``."""
    outcomes = {}
    for name, outcome in pytest_outcomes(repository_file("tests/test_contract.py"), timeout=timeout).items():
        if match := CONTRACT_TEST_ID.match(name):
            outcomes[match["framework"], match["case"]] = outcome
    return outcomes


def concurrent_gets(url: str, count: int, timeout: float = 30, connect_first: bool = True) -> float:
    """Send ``count`` GET requests to ``url`` at once (one thread each); seconds until the last answer.

    Every answer must be 200. With ``connect_first`` (the default) the ``count`` connections are opened
    one after another before the clock starts, so the seconds measure the server's handlers, not how
    fast it accepts a burst of connections: a burst can overflow a short listen queue (cheroot asks for
    5), and a connection turned away waits for TCP to try again, a second later on Linux. Connecting
    first does not spare that second, it moves it before the clock. ``connect_first=False`` opens each
    connection in its own thread, on the clock. Plain ``http://`` URLs only.
    """
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"{url}: concurrent_gets speaks plain http:// only")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connections = [http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
                   for _ in range(count)]

    def get(connection: http.client.HTTPConnection) -> int:
        connection.request("GET", target)  # connects first if not yet connected
        response = connection.getresponse()
        response.read()
        return response.status

    try:
        if connect_first:
            for connection in connections:
                connection.connect()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=count) as pool:
            statuses = list(pool.map(get, connections))
        elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            connection.close()
    if statuses != [200] * count:
        raise AssertionError(f"GET {url}: statuses {statuses}")
    return elapsed


@contextmanager
def paused(pid: int, seconds: float, *, until: Callable[[], bool] | None = None) -> Iterator[None]:
    """Freeze process ``pid`` (SIGSTOP, much as Ctrl+Z does in a shell) while the body runs, and let it
    go on (SIGCONT) ``seconds`` later, or as soon as ``until()`` returns true (asked every 10 ms): a
    server standing still, as one can on a busy machine. Needs POSIX signals (Linux, macOS)."""
    if not hasattr(signal, "SIGSTOP"):
        raise NotImplementedError("paused() needs the POSIX signals SIGSTOP and SIGCONT, which this system lacks")
    done = threading.Event()

    def resume_later() -> None:
        deadline = time.monotonic() + seconds
        try:
            while not done.wait(min(0.01, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline or (until is not None and until()):
                    break
        finally:  # even when until() raises
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    os.kill(pid, signal.SIGSTOP)
    resumer = threading.Thread(target=resume_later, name="backendlab:paused", daemon=True)
    resumer.start()
    try:
        yield
    finally:
        done.set()
        resumer.join()
        with suppress(ProcessLookupError):  # a server that died meanwhile: let the body's error show
            os.kill(pid, signal.SIGCONT)  # harmless when already running; never leaves the server frozen


def turned_away(port: int) -> int:
    """How many of this process's TCP connections to ``port`` have had no reply to their opening handshake
    yet (state SYN_SENT): on Linux, the ones a full listen queue dropped, which TCP sends again later."""
    return sum(1 for connection in psutil.Process().net_connections("tcp")
               if connection.raddr and connection.raddr.port == port and connection.status == psutil.CONN_SYN_SENT)


def listen_overflows() -> int | None:
    """How many connections Linux has turned away because a listen queue was full (``ListenOverflows``
    in ``/proc/net/netstat``, counted for every socket of this network namespace); ``None`` elsewhere."""
    try:
        rows = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()
                if line.startswith("TcpExt:")]
        return int(dict(zip(rows[0], rows[1], strict=True))["ListenOverflows"])
    except (OSError, IndexError, KeyError, ValueError):
        return None


def timed_within(url: str, count: int, low: float, high: float, attempts: int = 3) -> float:
    """:func:`concurrent_gets` until an attempt takes ``low <= seconds < high``, at most ``attempts``
    times; the seconds of the last attempt. Every attempt outside the bounds is printed, so that a slow
    one-off shows in the output instead of vanishing."""
    for attempt in range(1, attempts + 1):
        seconds = concurrent_gets(url, count)
        if low <= seconds < high or attempt == attempts:
            return seconds
        print(f"  attempt {attempt}: {seconds:.2f} s, outside [{low:g}, {high:g}) s; measuring again")
    raise ValueError("attempts must be at least 1")


def timed_slow_requests(command: str, count: int, ms: int) -> float | None:
    """For a self-check: serve ``command`` (``{port}`` for its port) and send ``count`` GETs of
    ``/slow?ms=ms`` at once; seconds until the last answer. Never raises: when the command serves
    nothing, it prints one ``Not yet:`` sentence and returns ``None``."""
    from backendlab import run_command
    from backendlab.practice import check

    try:
        with run_command(command, name="rosetta-exercise") as server:
            return concurrent_gets(f"{server.url}/slow?ms={ms}", count)
    except Exception as exc:  # noqa: BLE001 (a self-check reports, it never raises)
        reason = " ".join(str(exc).split())[:160]
        check(False, "", f"the command did not serve {count} slow requests ({type(exc).__name__}: {reason}); "
                         "check the command's spelling and options.")
        return None


def error_fields(response: requests.Response) -> list[str] | None:
    """The sorted keys of the ``errors`` object in a JSON answer; ``None`` when there is no such object."""
    try:
        body = response.json()
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    return sorted(map(str, errors)) if isinstance(errors, dict) else None


def media_type(response: requests.Response) -> str:
    """What an answer says its body is: ``JSON``, ``HTML``, ``text`` or the bare media type."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return {"application/json": "JSON", "text/html": "HTML", "text/plain": "text"}.get(kind, kind or "none")


def table(header: list[str], rows: list[list[object]]) -> str:
    """A plain-text table with columns as wide as their widest cell."""
    cells = [[str(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)

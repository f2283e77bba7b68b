"""Plumbing for the Bottle chapter: reading a module's imports, a bare interpreter, concurrent requests.

None of it is about Bottle itself, so the chapter keeps it out of the learner's way:

* :func:`classify_imports` reads a module's source with :mod:`ast` and sorts every import by how
  it is reached (always, optionally, only on Python 2, or only inside a function).
* :func:`third_party` and :func:`adapter_needs` filter those imports against the standard library
  of Python 3.11, the oldest Python the course supports, whatever Python runs the notebook.
* :func:`import_in_bare_interpreter` imports a single-file module in ``python -S`` (no
  ``site-packages``), from a folder that holds nothing but a copy of the file.
* :func:`fetch_concurrently` sends several GET requests at the same moment and measures the time
  until the last answer.
* :func:`wait_for_output` waits until a command started with :func:`backendlab.run_command` has
  printed a line, for example ``wsgiref``'s access-log line of the last request. ``wsgiref`` writes
  it after the client already has the answer, and until then its request handler catches every
  exception, ``KeyboardInterrupt`` included (the bare ``except:`` of
  ``wsgiref.handlers.BaseHandler.run``): a Ctrl+C sent in that moment is lost and the server keeps
  running. A person at a terminal is never that fast; a notebook cell is.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

import requests

__all__ = [
    "STDLIB",
    "Concurrent",
    "Import",
    "adapter_needs",
    "classify_imports",
    "fetch_concurrently",
    "import_in_bare_interpreter",
    "third_party",
    "wait_for_output",
]

# Python 3.11's standard library on any later Python: what 3.12 and 3.13 removed goes back in.
REMOVED_AFTER_3_11 = frozenset({
    "asynchat", "asyncore", "distutils", "imp", "smtpd",  # removed in 3.12
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap", "msilib",  # in 3.13
    "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib",
})
STDLIB = frozenset(sys.stdlib_module_names) | REMOVED_AFTER_3_11


class Import(NamedTuple):
    """One import of a module: its top-level name, how it is reached, and the enclosing def/class."""

    module: str
    how: str  # "always", "optional", "python2" or "deferred"
    where: str | None


def _names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module] if node.module else []  # `from . import x` names no module


def classify_imports(source: str) -> list[Import]:
    """Every import in a module's source, with how it is reached.

    ``how`` is ``"always"`` (runs at import time on Python 3), ``"optional"`` (in a ``try`` block
    that catches ``ImportError``), ``"python2"`` (in the ``else`` branch of an ``if py3k:``, as
    Bottle writes it) or ``"deferred"`` (inside a function or class body: runs only when that code
    is used, and ``where`` names the def or class).
    """
    found: list[Import] = []

    def visit(nodes: Iterable[ast.stmt], how: str) -> None:
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.extend(Import(name.split(".")[0], how, None) for name in _names(node))
            elif isinstance(node, ast.Try):
                guarded = any(
                    isinstance(handler.type, ast.Name) and handler.type.id == "ImportError"
                    for handler in node.handlers
                )
                visit(node.body, "optional" if guarded else how)
                for handler in node.handlers:
                    visit(handler.body, how)  # the fallback itself is not optional
                visit(node.orelse, how)
                visit(node.finalbody, how)
            elif isinstance(node, ast.If):
                python2_branch = isinstance(node.test, ast.Name) and node.test.id == "py3k"
                visit(node.body, how)
                visit(node.orelse, "python2" if python2_branch else how)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        found.extend(Import(name.split(".")[0], "deferred", node.name) for name in _names(inner))

    visit(ast.parse(source).body, "always")
    return found


def third_party(imports: Iterable[Import], how: str) -> list[str]:
    """The sorted top-level names, reached as ``how``, that are not in Python 3.11's standard library."""
    return sorted({item.module for item in imports if item.how == how and item.module not in STDLIB})


def adapter_needs(adapter: type, imports: Iterable[Import]) -> list[str]:
    """Third-party modules that a class (a Bottle server adapter) and its base classes from the same
    module import in their bodies."""
    classes = {cls.__name__ for cls in adapter.__mro__ if cls.__module__ == adapter.__module__}
    return sorted({
        item.module for item in imports
        if item.how == "deferred" and item.where in classes and item.module not in STDLIB
    })


_PROBE = textwrap.dedent("""
    import json, sys
    before = set(sys.modules)
    import {module}
    loaded = {{name.split(".")[0] for name in set(sys.modules) - before}}
    print(json.dumps({{
        "third_party": sorted(name for name in loaded if name not in sys.stdlib_module_names),
        "site_packages_on_path": any("site-packages" in entry for entry in sys.path),
        "json_backend": {module}.json_dumps.__module__ if hasattr({module}, "json_dumps") else None,
        "dumps": {module}.json_dumps({{"path": "a/b"}}) if hasattr({module}, "json_dumps") else None,
    }}))
""")


def import_in_bare_interpreter(module_file: str | Path, *, timeout: float = 60.0) -> dict:
    """Import a single-file module in ``python -S`` from a temporary folder holding only a copy of it.

    Returns what the probe saw: ``third_party`` (modules loaded by the import that are not in the
    standard library), ``site_packages_on_path``, and, for a module with a ``json_dumps`` function
    (Bottle), which JSON module it uses and what it makes of ``{"path": "a/b"}``. Raises
    :class:`subprocess.CalledProcessError` if the import fails, and :class:`RuntimeError` if the
    interpreter wrote anything to stderr.
    """
    module_file = Path(module_file)
    with tempfile.TemporaryDirectory(prefix="backendlab-bare-") as folder:
        shutil.copy(module_file, Path(folder) / module_file.name)
        probe = subprocess.run(
            [sys.executable, "-S", "-c", _PROBE.format(module=module_file.stem)],
            cwd=folder, capture_output=True, text=True, timeout=timeout, check=True,
        )
    if probe.stderr:
        raise RuntimeError(f"the bare interpreter wrote to stderr:\n{probe.stderr}")
    return json.loads(probe.stdout)


@dataclass(frozen=True)
class Concurrent:
    """What :func:`fetch_concurrently` measured: seconds until the last answer, and the responses in order."""

    seconds: float
    responses: list[requests.Response]


def fetch_concurrently(urls: Sequence[str], *, timeout: float = 30.0) -> Concurrent:
    """GET every URL at the same moment, one client thread each; time until the last answer."""
    ready = threading.Barrier(len(urls) + 1)

    def get(url: str) -> requests.Response:
        ready.wait(timeout)
        return requests.get(url, timeout=timeout)

    with ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="backendlab-fetch") as pool:
        futures = [pool.submit(get, url) for url in urls]
        ready.wait(timeout)
        started = time.perf_counter()
        responses = [future.result() for future in futures]
        seconds = time.perf_counter() - started
    return Concurrent(seconds, responses)


class _HasOutput(Protocol):
    @property
    def output(self) -> str: ...


def wait_for_output(
    server: _HasOutput, text: str, *, count: int = 1, timeout: float = 1.0, settle: float = 0.05
) -> bool:
    """Wait until ``text`` appears ``count`` times in what the command printed; return whether it did.

    ``server`` is what :func:`backendlab.run_command` returned. After the text appears, waits
    ``settle`` seconds more (the server finishes the request just after logging it). Returns
    ``False`` after ``timeout`` seconds without it (a server that keeps no access log), never raises.
    """
    deadline = time.monotonic() + timeout
    while server.output.count(text) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    time.sleep(settle)
    return True

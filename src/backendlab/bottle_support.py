"""Plumbing for the Bottle chapter: a bare interpreter, concurrent requests, waiting for a log line.

None of it is about Bottle itself, so the chapter keeps it out of the learner's way:

* :func:`import_in_bare_interpreter` imports a single-file module in ``python -S`` (no
  ``site-packages``), from a folder that holds nothing but a copy of the file.
* :func:`fetch_concurrently` sends several GET requests at the same moment and measures the time
  until the last answer.
* :func:`wait_for_output` waits until a command started with :func:`backendlab.run_command` has
  printed a line, for example ``wsgiref``'s access-log line of the last request. ``wsgiref`` writes
  it after the client already has the answer, and until then its request handler catches every
  exception, ``KeyboardInterrupt`` included (the bare ``except:`` of
  ``wsgiref.handlers.BaseHandler.run``): a Ctrl+C sent in that moment is lost and the server keeps
  running until :func:`backendlab.run_command` presses Ctrl+C again. A person at a terminal is never
  that fast; a notebook cell is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests

__all__ = [
    "Concurrent",
    "fetch_concurrently",
    "import_in_bare_interpreter",
    "wait_for_output",
]

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

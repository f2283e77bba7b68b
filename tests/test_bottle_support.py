"""backendlab.bottle_support: sorting a module's imports, a bare interpreter, concurrent requests."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import bottle
import pytest

from backendlab import serve
from backendlab.bottle_support import (
    STDLIB,
    Import,
    adapter_needs,
    classify_imports,
    fetch_concurrently,
    import_in_bare_interpreter,
    third_party,
    wait_for_output,
)

SOURCE = textwrap.dedent("""
    import os, json
    from urllib.parse import quote
    try:
        from ujson import dumps
    except ImportError:
        from json import dumps
    try:
        import zlib
    except OSError:
        zlib = None
    if py3k:
        import http.client
    else:
        import httplib
    def render():
        import jinja2
    class Adapter:
        def run(self):
            import waitress
    from . import sibling
""")


def test_every_import_is_sorted_by_how_it_is_reached() -> None:
    found = classify_imports(SOURCE)
    assert Import("os", "always", None) in found and Import("json", "always", None) in found
    assert Import("urllib", "always", None) in found  # the top-level name
    assert Import("ujson", "optional", None) in found
    assert Import("json", "always", None) in found  # the fallback in the handler is not optional
    assert Import("zlib", "always", None) in found  # a try that does not catch ImportError
    assert Import("http", "always", None) in found and Import("httplib", "python2", None) in found
    assert Import("jinja2", "deferred", "render") in found
    assert Import("waitress", "deferred", "Adapter") in found
    assert all(item.module for item in found)  # `from . import x` adds nothing


def test_third_party_keeps_what_python_311_does_not_ship() -> None:
    found = classify_imports(SOURCE)
    assert third_party(found, "always") == []
    assert third_party(found, "optional") == ["ujson"]
    assert third_party(found, "python2") == ["httplib"]
    assert third_party(found, "deferred") == ["jinja2", "waitress"]
    assert {"cgi", "imp", "distutils"} <= STDLIB  # removed after 3.11, still standard library there


def test_adapter_needs_follows_base_classes_in_the_same_module() -> None:
    imports = classify_imports(Path(bottle.__file__).read_text(encoding="utf-8"))
    assert adapter_needs(bottle.WSGIRefServer, imports) == []
    assert adapter_needs(bottle.WaitressServer, imports) == ["waitress"]
    # AiohttpUVLoopServer imports uvloop itself and aiohttp_wsgi through AiohttpServer.
    assert {"uvloop", "aiohttp_wsgi"} <= set(adapter_needs(bottle.AiohttpUVLoopServer, imports))


def test_a_bare_interpreter_sees_only_the_copied_file(tmp_path: Path) -> None:
    module = tmp_path / "lonely.py"
    module.write_text("import json\njson_dumps = json.dumps\n", encoding="utf-8")
    seen = import_in_bare_interpreter(module)
    assert seen == {
        "third_party": ["lonely"],
        "site_packages_on_path": False,
        "json_backend": "json",
        "dumps": '{"path": "a/b"}',
    }


def test_a_module_that_fails_to_import_raises(tmp_path: Path) -> None:
    module = tmp_path / "broken.py"
    module.write_text("import not_a_module_anywhere\n", encoding="utf-8")
    with pytest.raises(Exception, match="returned non-zero exit status"):
        import_in_bare_interpreter(module)


def test_fetch_concurrently_sends_at_the_same_moment() -> None:
    inside = 0
    most = 0
    lock = threading.Lock()

    def slow_app(environ, start_response):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.3)
        with lock:
            inside -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    with serve(slow_app) as server:
        result = fetch_concurrently([server.url + "/a", server.url + "/b", server.url + "/c"])
    assert [r.text for r in result.responses] == ["/a", "/b", "/c"]  # in the order asked
    assert most == 3  # all three were inside the app at once (a threaded server)
    # At least one sleep; far less than three in a row would take plus ten seconds of a loaded machine.
    assert 0.3 <= result.seconds < 10.9


class GrowingOutput:
    """Stands in for a run_command() handle whose output grows in another thread."""

    def __init__(self) -> None:
        self.lines: list[str] = ["Listening on http://127.0.0.1:8080/"]

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def test_wait_for_output_returns_once_the_text_appears_count_times() -> None:
    command = GrowingOutput()

    def log_two_requests() -> None:
        for _ in range(2):
            time.sleep(0.1)
            command.lines.append('127.0.0.1 - - [01/Jan/2026 10:00:00] "GET / HTTP/1.1" 200 5')

    writer = threading.Thread(target=log_two_requests)
    writer.start()
    started = time.monotonic()
    assert wait_for_output(command, '"GET / HTTP/1.1" 200', count=2, timeout=10, settle=0) is True
    waited = time.monotonic() - started
    writer.join()
    assert command.output.count('"GET / ') == 2
    # Both lines come after 0.2 s; far below the 10 s timeout, so it returned on the text, not the clock.
    assert 0.15 <= waited < 5


def test_wait_for_output_gives_up_without_raising() -> None:
    started = time.monotonic()
    assert wait_for_output(GrowingOutput(), "never printed", timeout=0.2) is False
    assert 0.2 <= time.monotonic() - started < 5  # at least the timeout; far from a hang

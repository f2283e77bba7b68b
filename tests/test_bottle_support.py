"""backendlab.bottle_support: a bare interpreter, concurrent requests, waiting for a log line."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from backendlab import serve
from backendlab.bottle_support import (
    fetch_concurrently,
    import_in_bare_interpreter,
    wait_for_output,
)


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
    # All three requests must be inside the app at once: a client that sent them one after another
    # would hold the first at the barrier until it breaks (10 s) and every answer would be a 500.
    together = threading.Barrier(3, timeout=10)

    def slow_app(environ, start_response):
        together.wait()
        time.sleep(0.3)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    with serve(slow_app) as server:
        result = fetch_concurrently([server.url + "/a", server.url + "/b", server.url + "/c"])
    assert [r.text for r in result.responses] == ["/a", "/b", "/c"]  # in the order asked, all three at once
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

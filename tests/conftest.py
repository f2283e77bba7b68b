"""Shared test fixtures: Debian's Chromium driven by Playwright, for the browser tests.

Never downloads a browser. Without Chromium or Playwright the tests skip with a clear message,
except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backendlab.book_downloads import CHROMIUM_ARGS, chromium_path


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        skip_or_fail("no Chromium: install Debian's package (apt-get install chromium) to run browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("Playwright for Python is not installed (pip install playwright; no browser download needed)")
    return path


@pytest.fixture(scope="module")  # Playwright's sync API holds an event loop: never beyond one module
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives Chromium a new, empty --user-data-dir of its own.
        launched = playwright.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class FakeCommand:
    """Stands in for a run_command() handle in the chapters' helper tests: only its growing
    ``output`` is read (``from conftest import FakeCommand``)."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Check ``condition`` every 10 ms until it holds (True) or ``seconds`` have passed (False)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True

"""Synchronised framework tabs in the built book (Playwright driving Debian's Chromium).

The Rosetta chapter shows each framework's contract app in sphinx-design tab sets that share one
``:sync-group:``: choosing a framework in one tab set must show that framework in every tab set of
the page, code included. The book is built once per session for this module (no PDF or zip downloads, which
tabs do not need) and served by ``test_browser_book``'s ``site`` fixture.

Without Chromium or Playwright the tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser_book import REPOSITORY, site  # noqa: F401  (site: a fixture that serves book_html)

from backendlab.book_config import build_book
from backendlab.contract_apps import IMPLEMENTATIONS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

PAGE = "notebooks/rosetta.html"
# Per tab set: the title of each tab, which one is shown, and whether its code names the framework's file.
TAB_SETS_JS = """() => [...document.querySelectorAll('.sd-tab-set')].map(set => {
    const labels = [...set.querySelectorAll(':scope > label.sd-tab-label')];
    const shown = [...set.querySelectorAll(':scope > .sd-tab-content')].filter(c => c.offsetParent !== null);
    return {
        titles: labels.map(label => label.innerText.trim()),
        checked: labels.filter(label => document.getElementById(label.htmlFor).checked).map(l => l.innerText.trim()),
        shown: shown.map(content => content.innerText),
    };
})"""


@pytest.fixture(scope="session")  # the imported session-scoped `site` asks for it
def book_html(tmp_path_factory: pytest.TempPathFactory, chromium_executable: str) -> Path:
    """The book's HTML, built for this module (``site`` serves it)."""
    out = tmp_path_factory.mktemp("browser-tabs")
    result = build_book(out, {**os.environ, "BOOK_REPOSITORY": REPOSITORY}, strict=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


@pytest.fixture()
def page(browser: Any, site: str) -> Iterator[Any]:  # noqa: F811 (site is the imported fixture)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(site + PAGE)
    try:
        yield opened
    finally:
        context.close()
    assert not errors, errors


def test_every_tab_set_offers_the_eight_frameworks_and_shows_the_first(page: Any) -> None:
    titles = [impl.title for impl in IMPLEMENTATIONS.values()]
    tab_sets = page.evaluate(TAB_SETS_JS)
    assert len(tab_sets) >= 2, f"{PAGE}: {len(tab_sets)} tab sets, nothing to synchronise"
    for index, tab_set in enumerate(tab_sets):
        assert tab_set["titles"] == titles, f"tab set {index}"
        assert tab_set["checked"] == ["Flask"] and len(tab_set["shown"]) == 1, f"tab set {index}"
        assert "flask_app.py" in tab_set["shown"][0], f"tab set {index}"
    assert "from flask import" in tab_sets[0]["shown"][0]  # the whole file, not just its name


def test_choosing_django_in_one_tab_set_shows_django_in_every_tab_set(page: Any) -> None:
    second = page.locator(".sd-tab-set").nth(1)
    second.locator(":scope > label.sd-tab-label", has_text="Django").click()
    tab_sets = page.evaluate(TAB_SETS_JS)
    for index, tab_set in enumerate(tab_sets):
        assert tab_set["checked"] == ["Django"], f"tab set {index} shows {tab_set['checked']}"
        assert len(tab_set["shown"]) == 1 and "django_app.py" in tab_set["shown"][0], f"tab set {index}"
        assert "flask" not in tab_set["shown"][0].lower(), f"tab set {index} still shows Flask's code"
    # The first tab set, the whole file: Django's code is what is on screen.
    assert "from django" in tab_sets[0]["shown"][0]

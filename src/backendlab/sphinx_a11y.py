"""Sphinx extension: four accessibility fixes to the theme's HTML, found by axe-core.

* The sidebar's expandable sections are ``<details><summary>`` elements whose summary holds only a
  chevron icon: a screen reader announces an unnamed control (axe rule ``summary-name``, WCAG
  4.1.2). Each summary gets ``aria-label="Pages in <section title>"``.
* The search button's ``aria-label="Search"`` hides its visible text ("Search Ctrl+K") from its
  accessible name (``label-content-name-mismatch``, WCAG 2.5.3). The label is removed, so the
  name is the text a sighted user sees.
* The colour-mode button (named "Color mode") holds three icons titled Light, Dark and System
  Settings; Font Awesome turns the titles into ``<title>`` text of its SVGs, which counts as the
  button's text (the same rule). The icons lose their titles and are marked ``aria-hidden``: the
  button's tooltip and name, "Color mode", say what it does.
* Folded notebook cells (``hide-input``, ``hide-cell``) open with a ``<summary>`` labelled "Toggle
  hidden content" around the visible "Show code cell source": the label hides the visible text
  from the accessible name (``label-content-name-mismatch``); it is removed.

The theme (sphinx-book-theme on pydata-sphinx-theme) writes both in its templates; this extension
rewrites the finished pages once the build is done. ``tests/test_browser_book.py`` runs axe-core
over every page, in light and dark mode. Enabled in ``_config.yml`` (``extra_extensions``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

SECTION_SUMMARY = re.compile(
    r'(<a class="[^"]*reference internal[^"]*" href="[^"]*">([^<]+)</a><details[^>]*>)<summary>')
MODE_ICON = re.compile(r'<i (?:aria-hidden="true" )?class="theme-switch ([^>]*?) title="[^"]*"')
SEARCH_LABEL = re.compile(r'(<button class="btn search-button-field search-button__button[^"]*"[^>]*?) '
                          r'aria-label="Search"')


def fix_page(text: str) -> str:
    """The page with named section toggles and a search button named by its visible text."""
    text = SECTION_SUMMARY.sub(
        lambda found: f'{found.group(1)}<summary aria-label="Pages in {html.escape(html.unescape(found.group(2)))}">',
        text,
    )
    text = MODE_ICON.sub(r'<i aria-hidden="true" class="theme-switch \1', text)
    # Folded cells (hide-input, hide-cell): the label hid the visible "Show code cell source" text.
    text = text.replace('<summary aria-label="Toggle hidden content">', "<summary>")
    return SEARCH_LABEL.sub(r"\1", text)


def fix_pages(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for path in Path(app.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        fixed = fix_page(text)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", fix_pages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""The built book in a real browser (Playwright driving Debian's Chromium, never a downloaded one).

The book is built once per session into a temporary folder and served by a tiny http.server
on 127.0.0.1. Every page must load with no JavaScript error, no failed request and no request
leaving the machine; the chooser (an HTML form whose script re-ranks on every click, with no
kernel and no network) and its comparison table must work wherever a chapter calls ``show_chooser``;
every internal link and anchor must resolve; the search page must work; the choosing page must
also work from ``file://``. Screenshots go to ``_build/test-artifacts/browser-book/``.

Without Chromium or Playwright the tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import Request, urlopen

import pytest
from test_book import toc_files

from backendlab.book_config import build_book
from backendlab.chooser import QUESTIONS, Answers, rank

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "_build" / "test-artifacts" / "browser-book"  # never in the work tree

# One xdist group for both browser modules: they run back to back on one worker, and each
# module's Playwright session (which holds an asyncio loop) ends before other tests run there.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

# The book is built as a copy of the course on GitHub with a hub would be (backendlab.book_config).
REPOSITORY = "backend-lab-ci/backend-lab"
HUB = "https://hub.example.edu"

# Console messages that are not errors of the book: none so far. Add exact substrings, with why.
ALLOWED_CONSOLE_ERRORS: tuple[str, ...] = ()


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def book_html(tmp_path_factory: pytest.TempPathFactory, chromium_executable: str) -> Path:
    """The book, built once per session (warnings are test_book.py's business)."""
    out = tmp_path_factory.mktemp("browser-book")
    environ = {**os.environ, "BOOK_REPOSITORY": REPOSITORY, "BOOK_JUPYTERHUB_URL": HUB}
    result = build_book(out, environ, strict=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    # The PDF and zip downloads, as make book writes them (a process of its own: Playwright's sync
    # API must not run inside this worker's browser session).
    downloads = subprocess.run(
        [sys.executable, "-m", "backendlab.book_downloads", str(out / "_build" / "html")],
        capture_output=True,
        text=True,
        timeout=900,
        env=environ,
    )
    assert downloads.returncode == 0, downloads.stdout[-3000:] + downloads.stderr[-3000:]
    return out / "_build" / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def site(book_html: Path) -> Iterator[str]:
    """The built book over http://127.0.0.1:<free port>/."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------- helpers


def book_pages(html_dir: Path) -> list[str]:
    """Every HTML page of the build, as paths relative to its root."""
    return sorted(
        path.relative_to(html_dir).as_posix()
        for path in html_dir.rglob("*.html")
        if not path.relative_to(html_dir).parts[0].startswith("_")
    )


def chooser_pages() -> list[str]:
    """Chapter pages that end with the chooser: their notebook calls show_chooser()."""
    pages = []
    for name in toc_files():
        notebook = ROOT / f"{name}.ipynb"
        if notebook.exists():
            cells = json.loads(notebook.read_text())["cells"]
            if any("show_chooser(" in "".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"):
                pages.append(f"{name}.html")
    return pages


@dataclass
class PageWatch:
    """What went wrong while a page loaded: console errors, page errors, failed or foreign requests."""

    local_prefix: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("request", self._request)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type != "error" or any(allowed in message.text for allowed in ALLOWED_CONSOLE_ERRORS):
            return
        source = (message.location or {}).get("url", "")
        if source.endswith("/favicon.ico"):
            # Chromium's own probe for /favicon.ico, made only for the root index.html: that
            # page is Jupyter Book's bare redirect to book/index.html, with no <link rel="icon">.
            return
        self.problems.append(f"console error: {message.text} ({source})")

    def _local(self, url: str) -> bool:
        return url.startswith(self.local_prefix) or url.startswith(("data:", "blob:", "about:"))

    def _request(self, request: Any) -> None:
        if not self._local(request.url):
            self.problems.append(f"request leaves the site: {request.url}")

    def _request_failed(self, request: Any) -> None:
        if self._local(request.url):
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


def open_page(context: Any, url: str, local_prefix: str) -> tuple[Any, PageWatch]:
    page = context.new_page()
    watch = PageWatch(local_prefix)
    watch.attach(page)
    page.goto(url, wait_until="load")
    return page, watch


def wait_for_widgets(page: Any) -> None:
    """Wait until html-manager replaced every widget placeholder by a rendered widget."""
    expected = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if expected:
        page.wait_for_function(
            "n => document.querySelectorAll('.jupyter-widgets.widget-vbox, .widget-vbox').length >= n",
            arg=expected,
        )
        page.locator(".widget-toggle-button").first.wait_for(state="visible")


def chooser_answers(chooser: Any) -> Answers:
    """The answers selected in a rendered chooser form, read from its checked inputs."""
    checked = chooser.locator("input:checked")
    return Answers.from_form((box.get_attribute("name"), box.get_attribute("value")) for box in checked.all())


def check_chooser(page: Any, where: str) -> None:
    """The chooser shows its answers and ranking, and a click re-ranks as rank() does, with no kernel."""
    from playwright.sync_api import expect

    page.bring_to_front()
    chooser = page.locator("form.backendlab-chooser").first
    expect(chooser).to_have_attribute("data-ready", "1")
    inputs = chooser.locator("input")
    assert inputs.count() == sum(len(q.options) for q in QUESTIONS.values()), f"{where}: chooser inputs missing"
    result = chooser.locator(".backendlab-chooser-result")
    answers = chooser_answers(chooser)
    best = result.locator(".backendlab-chooser-best strong").first
    assert best.inner_text() == rank(answers)[0].name, f"{where}: shown {best.inner_text()} for {answers}"
    for building in ("web-app", "embedded", "tool"):
        chooser.get_by_label(QUESTIONS["building"].label_of(building), exact=True).check()
        answers = chooser_answers(chooser)
        expect(best).to_have_text(rank(answers)[0].name)
        shown = result.locator("ol > li > strong").all_inner_texts()
        assert shown == [r.name for r in rank(answers)], f"{where}: {shown} for {answers}"
    table = page.locator("table.backendlab-comparison").first
    assert table.is_visible(), f"{where}: the static comparison table is not shown"
    assert table.locator("tbody tr").count() == 8, f"{where}: the comparison table should list eight frameworks"


def screenshot(page: Any, name: str, locator: Any = None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.bring_to_front()  # a page in the background renders slowly, if at all
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring, no skip link
    if locator is not None:
        locator.scroll_into_view_if_needed()
        # The theme's sticky headers would cover the top of an element taller than the window.
        locator.screenshot(path=str(path), style=".skip-link, .bd-header, .bd-header-article {visibility: hidden}")
    else:
        page.screenshot(path=str(path))
    return path


# --------------------------------------------------------------------------------- tests


@dataclass
class LoadedPage:
    name: str
    page: Any
    watch: PageWatch


@pytest.fixture(scope="module")
def tour(browser: Any, site: str, book_html: Path) -> Iterator[dict[str, LoadedPage]]:
    """Every page of the book, opened once, side by side, and left open for the tests to inspect."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    loaded = {}
    try:
        for name in book_pages(book_html):
            page = context.new_page()
            watch = PageWatch(site)
            watch.attach(page)
            page.goto(site + name, wait_until="commit")
            loaded[name] = LoadedPage(name, page, watch)
        for item in loaded.values():
            item.page.wait_for_load_state("load")
            wait_for_widgets(item.page)
        for item in loaded.values():
            item.page.wait_for_load_state("networkidle")  # late requests: widget fonts, theme
        yield loaded
    finally:
        context.close()


def test_every_page_loads_without_errors_or_network(tour: dict[str, LoadedPage]) -> None:
    assert "notebooks/choosing.html" in tour and "search.html" in tour
    problems = []
    for name, item in tour.items():
        page = item.page
        found = list(item.watch.problems)
        has_widgets = page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count() > 0
        for script in ("require.js", "widgets-setup.js", "embed-amd.js"):
            count = page.locator(f'script[src*="/{script}"]').count()
            wanted = 1 if has_widgets else 0
            if count != wanted:
                found.append(f"{script} is included {count} times (expected {wanted})")
        if page.locator("script[src*='thebe']:not([src*='sphinx-thebe.js'])").count():
            found.append("the Thebe library is loaded on page load (it should load only on click)")
        problems += [f"{name}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


def test_chooser_renders_on_every_page_that_has_it(tour: dict[str, LoadedPage]) -> None:
    pages = chooser_pages()
    assert "notebooks/choosing.html" in pages, "the choosing chapter should show the chooser"
    for name in pages:
        page = tour[name].page
        check_chooser(page, name)
        screenshot(page, f"chooser-{Path(name).stem}", page.locator("form.backendlab-chooser").last)


def test_key_pages_screenshots(tour: dict[str, LoadedPage]) -> None:
    landing = tour["index.html"].page  # Jupyter Book's redirect to book/index.html
    assert landing.url.endswith("/book/index.html"), landing.url
    assert landing.locator("h1").first.inner_text().strip().startswith("Backend Lab")
    screenshot(landing, "landing")
    for name in ("book/section-lightweight.html", "book/glossary.html"):
        if name in tour:  # once _toc.yml lists them
            screenshot(tour[name].page, Path(name).stem)
    choosing = tour["notebooks/choosing.html"].page
    choosing.evaluate("window.scrollTo(0, 0)")
    screenshot(choosing, "choosing-top")
    table_output = choosing.locator("div.output:has(> table.backendlab-comparison)").first
    screenshot(choosing, "choosing-table", table_output)


def test_launch_download_and_repository_buttons(tour: dict[str, LoadedPage]) -> None:
    page = tour["notebooks/choosing.html"].page
    links = {link.get_attribute("href") or "" for link in page.locator("a").all()}
    binder = f"https://mybinder.org/v2/gh/{REPOSITORY}/main?urlpath=lab/tree/notebooks/choosing.ipynb"
    assert binder in links, "no Binder launch button opening the notebook in JupyterLab"
    assert any(href.startswith(f"{HUB}/hub/user-redirect/git-pull?") and "choosing.ipynb" in href for href in links), (
        "no JupyterHub button for the configured hub"
    )
    assert f"https://github.com/{REPOSITORY}" in links, "no repository button"
    assert "../_sources/notebooks/choosing.ipynb" in links, "no .ipynb download button"
    assert page.locator("button.btn-launch-thebe").count() == 1, "no Live Code (Thebe) button"
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("button[aria-label='Download this page']").click()
    download = page.locator("a.btn-download-source-button[href$='choosing.ipynb']")
    download.wait_for(state="visible")
    screenshot(page, "download-menu")
    page.keyboard.press("Escape")


def test_live_code_loads_thebe_only_when_clicked(browser: Any, site: str) -> None:
    """Thebe's library (from unpkg.com) is requested on the click, not before; here it is refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        thebe_requests: list[str] = []
        page.route("https://unpkg.com/**", lambda route: (thebe_requests.append(route.request.url), route.abort()))
        page.goto(site + "notebooks/choosing.html", wait_until="load")
        page.wait_for_load_state("networkidle")
        assert not thebe_requests, f"Thebe loaded before any click: {thebe_requests}"
        page.locator("button[aria-label='Launch interactive content']").click()
        # Wait for the request to fail, not for it to be sent: the route handler that records and refuses
        # it runs after Playwright's "request" event (CI once asserted between the two), and the failure
        # comes only after the handler has aborted it.
        with page.expect_event(
            "requestfailed", lambda request: "/thebe@" in request.url, timeout=30_000
        ) as refused:
            page.locator("button.btn-launch-thebe").click()
        assert "/thebe@" in refused.value.url
        assert refused.value.url in thebe_requests, "Thebe's request did not go through the refusing route"
    finally:
        context.close()


def test_choosing_page_from_file_url(browser: Any, book_html: Path) -> None:
    """Opened straight from disk: RequireJS, the bundle and its fonts load from file:// too."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, watch = open_page(context, (book_html / "notebooks" / "choosing.html").as_uri(), "file://")
        wait_for_widgets(page)
        check_chooser(page, "file:// choosing.html")
        page.wait_for_load_state("networkidle")
        screenshot(page, "choosing-file-url", page.locator("form.backendlab-chooser").last)
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        context.close()


def test_search_finds_traversal(browser: Any, site: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, watch = open_page(context, site + "search.html?q=traversal", site)
        summary = page.locator("#search-results .search-summary")
        # Sphinx's searchtools retitles the results "Search Results" when the search is done.
        page.wait_for_function("() => document.querySelector('#search-results h2')?.innerText === 'Search Results'")
        results = page.locator("#search-results ul.search li")
        hrefs = [results.nth(i).locator("a").first.get_attribute("href") or "" for i in range(results.count())]
        screenshot(page, "search-traversal")
        assert hrefs, f"search for 'traversal' found nothing: {summary.inner_text()}"
        if "book/glossary" in toc_files():
            assert any("glossary" in href for href in hrefs), f"search for 'traversal' missed the glossary: {hrefs}"
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        context.close()


# ------------------------------------------------------------------------ internal links


class _LinksAndIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


def _get(url: str) -> tuple[int, str]:
    try:
        with urlopen(Request(url), timeout=10) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode("utf-8", "replace")
    except HTTPError as error:
        return error.code, ""


# Host names reserved for examples and tests (RFC 2606, RFC 6761): a link there is a placeholder.
PLACEHOLDER_HOSTS = re.compile(r"(^|\.)(example\.(com|net|org)|[^.]+\.(example|invalid|test|localhost))$|^localhost$")


def external_link_problem(url: str) -> str | None:
    """Why an external link cannot be right, from its form alone (None: nothing wrong)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r}"
    host = parts.hostname or ""
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", host):
        return f"not a host name: {host!r}"
    if PLACEHOLDER_HOSTS.search(host):
        return f"a placeholder host: {host}"
    if " " in url:
        return "a space in the address"
    return None


def test_external_link_form() -> None:
    assert external_link_problem("https://github.com/a/b") is None
    assert external_link_problem(f"{HUB}/hub/user-redirect/git-pull?repo=x") is None
    assert "placeholder" in external_link_problem("https://hub.backend-lab.example.org/hub")
    assert "scheme" in external_link_problem("ftp://github.com/x")
    assert "host" in external_link_problem("https://github/x")


def test_links_resolve_and_external_links_are_well_formed(site: str, book_html: Path) -> None:
    pages: dict[str, tuple[int, _LinksAndIds | None]] = {}

    def fetch(url: str) -> tuple[int, _LinksAndIds | None]:
        if url not in pages:
            status, body = _get(url)
            parsed = None
            if status == 200 and (url.endswith((".html", "/")) or "<html" in body[:500].lower()):
                parsed = _LinksAndIds()
                parsed.feed(body)
            pages[url] = (status, parsed)
        return pages[url]

    broken = []
    checked = 0
    for name in book_pages(book_html):
        page_url = site + name
        _, parsed = fetch(page_url)
        assert parsed is not None, page_url
        for href in parsed.links:
            if href.startswith(("mailto:", "javascript:")) or href == "#":
                continue
            target = urljoin(page_url, href)
            if not target.startswith(site):
                problem = external_link_problem(target)  # no network here: checked for form only
                if problem:
                    broken.append(f"{name}: {href} -> {problem}")
                continue
            document, fragment = urldefrag(target)
            document = urlsplit(document)._replace(query="").geturl()
            status, target_parsed = fetch(document)
            checked += 1
            if status != 200:
                broken.append(f"{name}: {href} -> HTTP {status}")
            elif fragment and target_parsed is not None and unquote(fragment) not in target_parsed.ids:
                broken.append(f"{name}: {href} -> no element with id {fragment!r}")
    assert checked > 50, f"only {checked} internal links found: is the crawl working?"
    assert not broken, "\n".join(broken)


# ------------------------------------------------------------------------ downloads


def test_the_course_downloads_as_one_pdf_and_one_zip(book_html: Path) -> None:
    import zipfile

    landing = (book_html / "book" / "index.html").read_text(encoding="utf-8")
    for name in ("backend-lab.pdf", "backend-lab-notebooks.zip"):
        assert f'href="../downloads/{name}"' in landing, f"the landing page does not link {name}"
    pdf = (book_html / "downloads" / "backend-lab.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pdf.startswith(b"%PDF-") and pages > 100, f"{pages} pages: is the whole book in it?"
    with zipfile.ZipFile(book_html / "downloads" / "backend-lab-notebooks.zip") as bundle:
        names = set(bundle.namelist())
    for needed in (
        "notebooks/flask.ipynb",
        "exercises/01-lightweight/flask.ipynb",
        "src/backendlab/serving.py",
        "Makefile",
        "requirements.txt",
        "pyproject.toml",
    ):
        assert f"backend-lab/{needed}" in names, f"{needed} is not in the zip"
    assert not [n for n in names if n.startswith(("backend-lab/solutions/", "backend-lab/tests/"))], "solutions leak"


# ------------------------------------------------------------------------ accessibility

AXE = ROOT / "tests" / "_vendor" / "axe-core-4.14.1" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_every_page_has_no_wcag_a_or_aa_violations(browser: Any, site: str, book_html: Path, mode: str) -> None:
    """axe-core (vendored) over every page, widgets rendered, in the theme's light and dark mode."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=mode)
    context.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    found = []
    try:
        for name in book_pages(book_html):
            if name in ("index.html", "genindex.html", "search.html"):  # a redirect; Sphinx's generated pages
                continue
            page, _ = open_page(context, site + name, site)
            wait_for_widgets(page)
            assert page.evaluate("document.documentElement.dataset.theme") == mode, f"{name}: not in {mode} mode"
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_A_AA)
            for violation in result["violations"]:
                nodes = violation["nodes"]
                found.append(
                    f"{name}: {violation['id']} ({violation['impact']}), {len(nodes)} element(s), "
                    f"e.g. {nodes[0]['target']}: {nodes[0]['failureSummary'][:160]}"
                )
            page.close()
    finally:
        context.close()
    assert not found, "\n".join(found)


def test_chooser_answers_work_from_the_keyboard_with_visible_focus(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, _ = open_page(context, site + "notebooks/choosing.html", site)
        chooser = page.locator("form.backendlab-chooser").last
        expect(chooser).to_have_attribute("data-ready", "1")
        chooser.scroll_into_view_if_needed()
        for _ in range(400):  # Tab through the page until the first question has the focus
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement && document.activeElement.name") == "building":
                break
        else:
            raise AssertionError("Tab never reached the chooser's answers")
        focus = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return {outline: s.outlineStyle + ' ' + s.outlineWidth, shadow: s.boxShadow}; }""")
        assert not focus["outline"].startswith("none") or focus["shadow"] != "none", f"no visible focus: {focus}"
        page.keyboard.press("ArrowDown")  # the next answer of the radio group, as a keyboard user picks it
        expect(chooser.locator("input[name=building][value=web-app]")).to_be_checked()
        best = chooser.locator(".backendlab-chooser-best strong").first
        expect(best).to_have_text(rank(chooser_answers(chooser))[0].name)
    finally:
        context.close()

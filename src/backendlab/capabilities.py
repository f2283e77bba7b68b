"""The capability matrix: framework × capability, every cell a test that runs or "not available".

Each capability names what its test proves. Each of its eight cells is either

* :class:`Proven`: ``tests/test_capabilities.py`` has a test ``test_capability[<capability>-<framework>]``
  that proves it on a live server, with the framework alone (``built in``) or with an add-on that
  ``requirements.txt`` pins (``add-on: <distribution>``); or
* :class:`NotAvailable`: the reason and a source at the pinned version (a documentation page or a
  file of the installed package); where the absence can be shown by running code, a test
  ``test_capability[<capability>-<framework>]`` shows it too (``shown_by_test``).

The matrix in the book (:data:`MATRIX_FILE`) is written by ``python -m backendlab.capabilities``
from the outcomes of those tests, run with pytest in a process of their own; ``make test`` runs the
tests and checks that the committed matrix is what they produce now.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS
from backendlab.rosetta import REPOSITORY, pytest_outcomes, repository_file

__all__ = [
    "CAPABILITIES", "MATRIX_FILE", "Capability", "NotAvailable", "Proven",
    "matrix_html", "matrix_markdown", "run_tests",
]

MATRIX_FILE = REPOSITORY / "notebooks" / "projects" / "rosetta" / "capability-matrix.md"
TESTS = "tests/test_capabilities.py"


@dataclass(frozen=True)
class Proven:
    """The capability, proved by a test: with the framework alone, or with a pinned add-on."""

    how: str  # "built in" or "add-on: <distribution in requirements.txt>"
    detail: str  # what the test uses


@dataclass(frozen=True)
class NotAvailable:
    """The capability is not there: why, and where that is written at the pinned version."""

    reason: str
    source: str
    shown_by_test: bool = False  # a test also shows the absence on a live server


@dataclass(frozen=True)
class Capability:
    key: str
    title: str
    proof: str  # what each test shows, on a live server
    cells: dict[str, Proven | NotAvailable]

    def test_id(self, framework: str) -> str:
        return f"{self.key}-{framework}"


BUILT_IN = "built in"

CAPABILITIES: dict[str, Capability] = {
    capability.key: capability
    for capability in [
        Capability(
            "wsgi", "WSGI application",
            "the framework's app object, served by a server that knows nothing of it (Werkzeug's WSGI "
            "server), answers the contract's `GET /json`",
            {
                "flask": Proven(BUILT_IN, "the `Flask` object is the WSGI callable"),
                "fastapi": NotAvailable(
                    "an ASGI application only: `FastAPI.__call__` takes `(scope, receive, send)`",
                    "`fastapi/applications.py`, `FastAPI.__call__` (FastAPI 0.165)"),
                "django": Proven(BUILT_IN, "`django.core.handlers.wsgi.WSGIHandler`"),
                "pyramid": Proven(BUILT_IN, "`Configurator.make_wsgi_app()`"),
                "tornado": NotAvailable(
                    "Tornado's `Application` and `RequestHandler` cannot be used in a generic WSGI container; "
                    "`tornado.wsgi` only runs other frameworks' WSGI apps on Tornado's server",
                    "`tornado/wsgi.py`, module docstring (Tornado 6.6)"),
                "sanic": NotAvailable(
                    "an ASGI application (`Sanic.__call__(scope, receive, send)`) or Sanic's own server; "
                    "no WSGI entry point",
                    "`sanic/app.py`, `Sanic.__call__` (Sanic 25.12)"),
                "bottle": Proven(BUILT_IN, "the `Bottle` object is the WSGI callable"),
                "cherrypy": Proven(BUILT_IN, "`cherrypy.Application`, without CherryPy's engine or server"),
            },
        ),
        Capability(
            "asgi", "ASGI application",
            "the framework's app object, served by Uvicorn, answers the contract's `GET /json`",
            {
                "flask": NotAvailable(
                    "a WSGI application only (`Flask.__call__(environ, start_response)`); `async def` views "
                    "run to completion inside the WSGI call (through asgiref's `async_to_sync`)",
                    "`flask/app.py`, `Flask.__call__` and `Flask.async_to_sync` (Flask 3.1)"),
                "fastapi": Proven(BUILT_IN, "the `FastAPI` object is the ASGI application"),
                "django": Proven(BUILT_IN, "`django.core.handlers.asgi.ASGIHandler`, same views and URLs"),
                "pyramid": NotAvailable(
                    "a WSGI application only (`Router.__call__(environ, start_response)`); no module of the "
                    "package mentions ASGI",
                    "`pyramid/router.py`, `Router.__call__` (Pyramid 2.1)"),
                "tornado": NotAvailable(
                    "Tornado's own `HTTPServer` calls the `Application` with an `HTTPServerRequest` "
                    "(`Application.__call__(request)`), not with an ASGI scope",
                    "`tornado/web.py`, `Application.__call__` (Tornado 6.6)"),
                "sanic": Proven(BUILT_IN, "the `Sanic` object is an ASGI application"),
                "bottle": NotAvailable(
                    "a WSGI application only (`Bottle.__call__(environ, start_response)`); `bottle.py` never "
                    "mentions ASGI",
                    "`bottle.py`, `Bottle.__call__` (Bottle 0.13.4)"),
                "cherrypy": NotAvailable(
                    "a WSGI application only (`Application.__call__(environ, start_response)`); no module of "
                    "the package mentions ASGI",
                    "`cherrypy/_cptree.py`, `Application.__call__` (CherryPy 18.10)"),
            },
        ),
        Capability(
            "typed-path", "Routing with typed parameters",
            "`GET /double/21` reaches the handler with the `int` 21, converted by the router, and "
            "`GET /double/abc` never reaches it (`404` or `422`)",
            {
                "flask": Proven(BUILT_IN, "the `<int:n>` converter"),
                "fastapi": Proven(BUILT_IN, "the `n: int` annotation"),
                "django": Proven(BUILT_IN, "the `<int:n>` path converter"),
                "pyramid": NotAvailable(
                    "a pattern such as `{n:\\d+}` restricts what matches, but the matchdict holds strings: "
                    "the view converts",
                    "`pyramid/urldispatch.py`, the `matcher` made by `_compile_route` (Pyramid 2.1)",
                    shown_by_test=True),
                "tornado": NotAvailable(
                    "URL patterns are regular expressions whose groups reach the handler's method as strings",
                    "`tornado/web.py`, `RequestHandler._execute` (`path_args` decoded by `decode_argument`, "
                    "which returns `str`) (Tornado 6.6)",
                    shown_by_test=True),
                "sanic": Proven(BUILT_IN, "the `<n:int>` parameter type"),
                "bottle": Proven(BUILT_IN, "the `<n:int>` filter"),
                "cherrypy": NotAvailable(
                    "the dispatcher passes the path segments left after the handler's name to it as strings",
                    "`cherrypy/_cpdispatch.py`, `Dispatcher.__call__` (`LateParamPageHandler(func, *vpath)`) "
                    "(CherryPy 18.10)",
                    shown_by_test=True),
            },
        ),
    ]
}


def cell_test_ids() -> list[str]:
    """The ids of ``test_capability``: every tested cell, and every absence shown by a test."""
    return [
        capability.test_id(framework)
        for capability in CAPABILITIES.values()
        for framework, cell in capability.cells.items()
        if isinstance(cell, Proven) or cell.shown_by_test
    ]


def run_tests(timeout: float = 300) -> dict[str, str]:
    """Run the capability tests in a process of their own; ``{test id: outcome}``."""
    outcomes = pytest_outcomes(repository_file(TESTS), "-k", "test_capability", timeout=timeout)
    prefix = "test_capability["
    return {name[len(prefix):-1]: outcome for name, outcome in outcomes.items() if name.startswith(prefix)}


def _cell_text(capability: Capability, framework: str, outcomes: dict[str, str], note: int | None) -> str:
    cell = capability.cells[framework]
    outcome = outcomes.get(capability.test_id(framework), "not run")
    if isinstance(cell, Proven):
        return f"✓ {cell.how}" if outcome == "passed" else f"✗ {cell.how}: test {outcome}"
    shown = "" if not cell.shown_by_test else " (shown)" if outcome == "passed" else f" (test {outcome})"
    return f"not available [{note}]{shown}"


def matrix_markdown(outcomes: dict[str, str]) -> str:
    """The matrix as Markdown, from the tests' outcomes: one row per capability, notes below."""
    titles = [IMPLEMENTATIONS[framework].title for framework in FRAMEWORKS]
    lines = [
        "| capability | " + " | ".join(titles) + " |",
        "|---|" + "---|" * len(titles),
    ]
    notes: list[str] = []
    for capability in CAPABILITIES.values():
        cells = []
        for framework in FRAMEWORKS:
            cell = capability.cells[framework]
            note = None
            if isinstance(cell, NotAvailable):
                notes.append(f"{IMPLEMENTATIONS[framework].title}, {capability.title}: {cell.reason}. "
                             f"Source: {cell.source}.")
                note = len(notes)
            cells.append(_cell_text(capability, framework, outcomes, note))
        lines.append(f"| {capability.title} | " + " | ".join(cells) + " |")
    tests = "\n".join(f"- **{c.title}**: {c.proof}." for c in CAPABILITIES.values())
    numbered = "\n".join(f"{number}. {note}" for number, note in enumerate(notes, start=1))
    return (
        "<!-- Written by `python -m backendlab.capabilities` from the outcomes of tests/test_capabilities.py; "
        "do not edit. -->\n\n"
        + "\n".join(lines)
        + f"\n\n✓: a test of `{TESTS}` proves it on a live server. (shown): a test there shows the absence "
        "on a live server too. What each test shows:\n\n"
        + f"{tests}\n\nNot available, why, and where it is written:\n\n{numbered}\n"
    )


def matrix_html(markdown: str) -> str:
    """The matrix's Markdown as HTML, for a notebook's output (JupyterLab and the book both show HTML)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the capability tests and write the matrix they prove.")
    parser.add_argument("--check", action="store_true", help="only say whether the committed matrix is current")
    args = parser.parse_args(argv)
    produced = matrix_markdown(run_tests())
    if args.check:
        current = MATRIX_FILE.exists() and MATRIX_FILE.read_text() == produced
        print(f"{MATRIX_FILE.relative_to(REPOSITORY)} is {'current' if current else 'out of date'}")
        return 0 if current else 1
    MATRIX_FILE.parent.mkdir(parents=True, exist_ok=True)
    MATRIX_FILE.write_text(produced)
    print(f"wrote {MATRIX_FILE.relative_to(REPOSITORY)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

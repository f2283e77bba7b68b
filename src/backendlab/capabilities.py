"""The capability matrix: framework × capability, every cell a test that runs or "not available".

Each capability names what its test proves. Each of its eight cells is either

* :class:`Proven`: ``tests/test_capabilities.py`` has a test ``test_capability[<capability>-<framework>]``
  that proves it on a live server, with the framework alone (``built in``) or with an add-on that
  ``requirements.txt`` pins (``add-on: <distribution>``); or
* :class:`NotAvailable`: the reason and a source at the pinned version (a documentation page or a
  file of the installed package); where the absence can be shown by running code, a test
  ``test_capability[<capability>-<framework>]`` shows it too (``shown_by_test``).

Where the capability is the server's rather than the framework's (graceful shutdown), every cell of the
row names the server its test ran (``server``), and a ✓ can carry a numbered note with its limits and
their sources (``note``), as each "not available" does with its reason.

The matrix in the book (:data:`MATRIX_FILE`) is written by ``python -m backendlab.capabilities``
from the outcomes of those tests, run with pytest in a process of their own; ``make test`` runs the
tests and checks that the committed matrix is what they produce now.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS
from backendlab.rosetta import REPOSITORY, production_command, pytest_outcomes, repository_file

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
    answer: str = ""  # for capabilities whose answer differs: what the client gets, checked by the test
    server: str = ""  # where the capability is the server's: the server the test ran, shown instead of `how`
    note: str = ""  # limits a reader needs, with their sources: a numbered note, as a "not available" has


@dataclass(frozen=True)
class NotAvailable:
    """The capability is not there: why, and where that is written at the pinned version."""

    reason: str
    source: str
    shown_by_test: bool = False  # a test also shows the absence on a live server
    server: str = ""  # where the capability is the server's: the server the test ran


@dataclass(frozen=True)
class Capability:
    key: str
    title: str
    proof: str  # what each test shows, on a live server
    cells: dict[str, Proven | NotAvailable]

    def test_id(self, framework: str) -> str:
        return f"{self.key}-{framework}"


BUILT_IN = "built in"

def _never_mentions(package: str, words: str, version: str) -> str:
    """A source: searching the installed package (a module or a folder) found none of ``words``."""
    searched = f"`{package}` never mentions" if package.endswith(".py") else f"no module of `{package}` mentions"
    return f"{searched} {words} (the installed package, {version})"


def _no_openapi(add_on: str | None, package: str, version: str) -> NotAvailable:
    """The package generates no OpenAPI document (checked by searching its installed files)."""
    without = f"not available without {add_on}, not pinned here" if add_on else "no add-on for it is pinned here"
    return NotAvailable(f"{without}: the package generates no OpenAPI document",
                        _never_mentions(package, "OpenAPI or Swagger", version))


def _no_csrf(package: str, version: str) -> NotAvailable:
    """The package checks no CSRF token (checked by searching its installed files); no add-on is pinned."""
    return NotAvailable("no add-on for it is pinned here: the framework checks no CSRF token",
                        _never_mentions(package, "CSRF or XSRF", version))


# CherryPy's cell runs the chapter's script (cherrypy.quickstart), not the registry's bare cheroot
QUICKSTART_SCRIPT = "python serve_cherrypy.py 8000"


def _tested_command(framework: str) -> str:
    """The command, as a deployer types it, whose server the framework's graceful-shutdown cell tested."""
    return QUICKSTART_SCRIPT if framework == "cherrypy" else production_command(IMPLEMENTATIONS[framework])


def _tested_commands() -> str:
    """Each tested command and its frameworks; commands that differ only in the app's module share a line."""
    groups: dict[str, list[str]] = {}
    for framework in FRAMEWORKS:
        template = _tested_command(framework).replace(f".{framework}_app:", ".<framework>_app:")
        groups.setdefault(template, []).append(framework)
    return "; ".join(
        f"`{template if len(keys) > 1 else _tested_command(keys[0])}` "
        f"({', '.join(IMPLEMENTATIONS[key].title for key in keys)})"
        for template, keys in groups.items()
    )


# SIGTERM is what stops a service: docker stop, systemd (KillSignal=) and Kubernetes send it first.
# Plain-text addresses, not links: the matrix is a notebook output, where links fail the dark theme's
# contrast (tests/test_browser_book.py).
SIGTERM_SOURCES = (
    "docker stop (docs.docker.com/reference/cli/docker/container/stop), "
    "systemd (the systemd.kill(5) manual page) and "
    "Kubernetes (kubernetes.io/docs/concepts/workloads/pods/pod-termination)"
)
WAITRESS_CUTS = NotAvailable(
    "waitress installs no signal handler, so SIGTERM's default action ends the process at once and the "
    "client's connection closes without an answer; no waitress option changes that",
    "no module of `waitress/` imports `signal`; `waitress/server.py`, `BaseWSGIServer.run` (line 323; its "
    "`except` clause, line 330, catches only `SystemExit` and `KeyboardInterrupt`) (waitress 3.0.2)",
    shown_by_test=True, server="waitress",
)


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
                    "the view converts (or a custom route predicate the app writes, as in the 'Custom Route "
                    "Predicates' section of Pyramid's URL dispatch docs)",
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
        Capability(
            "json-errors", "Malformed JSON body answered 4xx",
            "`POST /echo` with the malformed body `{\"name\": ` (`Content-Type: application/json`) reaches a "
            "handler that reads it with the framework's JSON accessor, and the framework answers a client error "
            "(`4xx`, status and content type in the cell) instead of a `500`; a valid body is echoed back",
            {
                "flask": Proven(BUILT_IN, "`request.get_json()`, whose `on_json_loading_failed` raises "
                                "`BadRequest` (`flask/wrappers.py`)", answer="400 HTML"),
                "fastapi": Proven(BUILT_IN, "a `body: dict = Body()` parameter, validated by pydantic before "
                                  "the handler runs", answer="422 JSON"),
                "django": NotAvailable(
                    "no JSON accessor: `request.POST` parses only form bodies, so the view calls `json.loads` "
                    "on `request.body` and its `JSONDecodeError` becomes a `500`",
                    "`django/http/request.py`, `HttpRequest._load_post_and_files` (line 431: `multipart/form-data` "
                    "and `application/x-www-form-urlencoded` only) (Django 5.2)",
                    shown_by_test=True),
                "pyramid": NotAvailable(
                    "`request.json_body` is WebOb's bare `json.loads(self.body.decode(self.charset))`: its "
                    "`JSONDecodeError` reaches Pyramid as an unhandled exception, a `500`",
                    "`webob/request.py`, `BaseRequest._json_body__get` (line 718) (WebOb 1.8)",
                    shown_by_test=True),
                "tornado": NotAvailable(
                    "no JSON accessor: Tornado decodes only form and multipart bodies into arguments, so the "
                    "handler calls `json.loads` on `self.request.body` and its error becomes a `500`",
                    "`tornado/httputil.py`, `parse_body_arguments` (line 1033) (Tornado 6.6)",
                    shown_by_test=True),
                "sanic": Proven(BUILT_IN, "`request.json`, whose `load_json` raises `BadRequest` "
                                "(`sanic/request/types.py`)", answer="400 JSON"),
                "bottle": Proven(BUILT_IN, "`request.json`, which raises `HTTPError(400, 'Invalid JSON')` "
                                 "(`bottle.py`)", answer="400 HTML"),
                "cherrypy": Proven(BUILT_IN, "the `json_in` tool, whose `json_processor` raises "
                                   "`HTTPError(400, 'Invalid JSON document')` (`cherrypy/lib/jsontools.py`)",
                                   answer="400 HTML"),
            },
        ),
        Capability(
            "templates", "Templates with autoescape",
            "`GET /hello?name=<script>x</script>` renders a template file with the engine's default settings; "
            "the client gets `text/html` with `&lt;script&gt;`, never the tag itself",
            {
                "flask": Proven(BUILT_IN, "`render_template` (Jinja2, a dependency of Flask)"),
                "fastapi": Proven("add-on: jinja2", "`fastapi.templating.Jinja2Templates` (Starlette's), which "
                                  "needs Jinja2 installed"),
                "django": Proven(BUILT_IN, "the Django template language (`django.template.Engine`)"),
                "pyramid": Proven("add-on: pyramid-jinja2", "`config.include('pyramid_jinja2')` and a `.html` "
                                  "renderer"),
                "tornado": Proven(BUILT_IN, "`RequestHandler.render` (`tornado.template`)"),
                "sanic": NotAvailable(
                    "not available without sanic-ext, not pinned here: Sanic itself has no template engine; its "
                    "docs put templating in Sanic Extensions (`@app.ext.template`, with Jinja2)",
                    "https://sanic.dev/en/plugins/sanic-ext/templating/jinja.html; no module of `sanic/` mentions "
                    "Jinja or renders templates (Sanic 25.12)"),
                "bottle": Proven(BUILT_IN, "`bottle.template` (SimpleTemplate, `{{name}}` escapes)"),
                "cherrypy": NotAvailable(
                    "CherryPy ships no template engine; its docs show wiring one in (such as Jinja2) with a tool "
                    "or plugin the application writes",
                    "`cherrypy/_cptools.py`, `HandlerWrapperTool` docstring (line 215: a hand-written "
                    "`tools.jinja`) and https://docs.cherrypy.dev/en/latest/advanced.html#html-templating-support "
                    "(CherryPy 18.10)"),
            },
        ),
        Capability(
            "static-files", "Static files",
            "`GET /static/hello.txt` serves a file of a directory as `text/plain`, a missing file is a `404`, "
            "and `GET /static/..%2fsecret.txt` never serves the file beside the directory",
            {
                "flask": Proven(BUILT_IN, "the app's `static_folder`"),
                "fastapi": Proven(BUILT_IN, "`fastapi.staticfiles.StaticFiles` mounted at `/static`"),
                "django": Proven(BUILT_IN, "`django.views.static.serve`, which its docstring says is for "
                                 "development, not production (production: `collectstatic` and a web server)"),
                "pyramid": Proven(BUILT_IN, "`config.add_static_view`"),
                "tornado": Proven(BUILT_IN, "the Application's `static_path` (`StaticFileHandler`)"),
                "sanic": Proven(BUILT_IN, "`app.static`"),
                "bottle": Proven(BUILT_IN, "`bottle.static_file` in a route"),
                "cherrypy": Proven(BUILT_IN, "the `staticdir` tool"),
            },
        ),
        Capability(
            "sessions", "Sessions",
            "`GET /visits` counts a client's visits in a session object: one client (keeping its cookies) "
            "gets 1, 2, 3; a new client gets 1; a client sending a session cookie the server did not issue "
            "gets 1",
            {
                "flask": Proven(BUILT_IN, "`flask.session` (a signed cookie)"),
                "fastapi": Proven("add-on: itsdangerous", "Starlette's `SessionMiddleware` (a signed cookie), "
                                  "which needs itsdangerous"),
                "django": Proven(BUILT_IN, "`django.contrib.sessions`' middleware with its signed-cookie store"),
                "pyramid": Proven(BUILT_IN, "`SignedCookieSessionFactory`"),
                "tornado": NotAvailable(
                    "no session object: Tornado signs single cookies (`set_signed_cookie`, `get_signed_cookie`) "
                    "and leaves keeping session state to the application",
                    "`tornado/web.py`, `RequestHandler.set_signed_cookie` (line 811); no module of `tornado/` "
                    "defines a session (Tornado 6.6)"),
                "sanic": NotAvailable(
                    "not available without sanic-session (or Sanic-CookieSession), not pinned here: Sanic has "
                    "cookies (`sanic/cookies/`) but no session object",
                    "https://pypi.org/project/sanic-session/; no module of `sanic/` defines an HTTP session "
                    "(the one `Session*` class, `SessionTicketStore` in `sanic/http/http3.py`, keeps TLS "
                    "tickets) (Sanic 25.12)"),
                "bottle": NotAvailable(
                    "not available without Beaker (its `SessionMiddleware`, e.g. through bottle-beaker), not "
                    "pinned here: Bottle has signed single cookies (`response.set_cookie(..., secret=...)`), no "
                    "session object",
                    "`bottle.py`, `BaseResponse.set_cookie` (line 1816) and https://pypi.org/project/bottle-beaker/ "
                    "(Bottle 0.13.4)"),
                "cherrypy": Proven(BUILT_IN, "the `sessions` tool (RAM storage; `clean_freq: 0`, so no cleanup "
                                   "thread outlives the app)"),
            },
        ),
        Capability(
            "hooks", "Middleware and hooks",
            "one hook, registered once, runs around two routes (`GET /hello`, `GET /bye`): it adds `X-Hook: ran` "
            "to their responses, and answers a request carrying `X-Block` with `403 blocked` itself, so the "
            "route's handler never answers",
            {
                "flask": Proven(BUILT_IN, "`@app.before_request` (a non-`None` return is the response) and "
                                "`@app.after_request`"),
                "fastapi": Proven(BUILT_IN, "`@app.middleware(\"http\")` (Starlette's `BaseHTTPMiddleware`)"),
                "django": Proven(BUILT_IN, "a middleware factory in `MIDDLEWARE`"),
                "pyramid": Proven(BUILT_IN, "a tween (`config.add_tween`)"),
                "tornado": Proven(BUILT_IN, "no app-wide middleware: a base `RequestHandler` whose `prepare()` "
                                  "(finishing there skips the method) and `set_default_headers()` run for every "
                                  "handler derived from it"),
                "sanic": Proven(BUILT_IN, "`@app.on_request` (a returned response skips the handler) and "
                                "`@app.on_response`"),
                "bottle": Proven(BUILT_IN, "`@app.hook('before_request')` (raising `HTTPResponse`) and "
                                 "`@app.hook('after_request')`"),
                "cherrypy": Proven(BUILT_IN, "the `hooks` config namespace: `hooks.before_handler` (setting "
                                   "`request.handler = None` skips the page handler) and `hooks.before_finalize`"),
            },
        ),
        Capability(
            "openapi", "OpenAPI",
            "the app serves an OpenAPI document generated from its routes: `GET /openapi.json` describes "
            "`GET /double/{n}` with an `integer` path parameter, and `GET /docs` serves an HTML page",
            {
                "flask": _no_openapi("an add-on such as flask-smorest or apispec", "flask/", "Flask 3.1"),
                "fastapi": Proven(BUILT_IN, "`/openapi.json` and `/docs`, generated from the route and its "
                                  "annotations"),
                "django": _no_openapi("an add-on such as django-ninja or drf-spectacular", "django/", "Django 5.2"),
                "pyramid": _no_openapi("an add-on such as pyramid_openapi3 (which checks views against an OpenAPI "
                                       "document you write)", "pyramid/", "Pyramid 2.1"),
                "tornado": _no_openapi(None, "tornado/", "Tornado 6.6"),
                "sanic": NotAvailable(
                    "not available without sanic-ext, not pinned here: Sanic's docs put the generated OpenAPI "
                    "document in Sanic Extensions",
                    "https://sanic.dev/en/plugins/sanic-ext/openapi/basics.html; no module of `sanic/` mentions "
                    "OpenAPI or Swagger (Sanic 25.12)"),
                "bottle": _no_openapi(None, "bottle.py", "Bottle 0.13.4"),
                "cherrypy": _no_openapi(None, "cherrypy/", "CherryPy 18.10"),
            },
        ),
        Capability(
            "streaming", "Streaming responses",
            "`GET /stream` sends `first`, then waits until the client, having read `first`, lets it go on, "
            "and only then makes `last`: a body sent whole at the end cannot pass (the handler gives up and "
            "sends `gave up` instead)",
            {
                "flask": Proven(BUILT_IN, "a generator as the `Response` body"),
                "fastapi": Proven(BUILT_IN, "`StreamingResponse` (Starlette's) over an async generator"),
                "django": Proven(BUILT_IN, "`StreamingHttpResponse`"),
                "pyramid": Proven(BUILT_IN, "a generator as the `Response`'s `app_iter`"),
                "tornado": Proven(BUILT_IN, "`self.write` and `await self.flush()`"),
                "sanic": Proven(BUILT_IN, "`await request.respond()`, then `response.send` and `eof`"),
                "bottle": Proven(BUILT_IN, "a generator returned by the route"),
                "cherrypy": Proven(BUILT_IN, "a generator with `response.stream: True` in the handler's config"),
            },
        ),
        Capability(
            "sse", "Server-sent events",
            "`GET /stream` answers `text/event-stream`; the client parses the event `first` before the server "
            "has made the event `last` (the streaming test's go-ahead), then both",
            {
                "flask": Proven(BUILT_IN, "a streamed body the handler writes in the event-stream format (no "
                                "SSE helper)"),
                "fastapi": Proven(BUILT_IN, "`response_class=EventSourceResponse` and `ServerSentEvent` items "
                                  "(`fastapi/sse.py`)"),
                "django": Proven(BUILT_IN, "`StreamingHttpResponse` in the event-stream format the handler "
                                 "writes (no SSE helper)"),
                "pyramid": Proven(BUILT_IN, "an `app_iter` in the event-stream format the handler writes (no "
                                  "SSE helper)"),
                "tornado": Proven(BUILT_IN, "`write` and `flush` in the event-stream format the handler writes "
                                  "(no SSE helper)"),
                "sanic": Proven(BUILT_IN, "`request.respond()` and `send` in the event-stream format the handler "
                                "writes (no SSE helper)"),
                "bottle": Proven(BUILT_IN, "a generator in the event-stream format the handler writes (no SSE "
                                 "helper)"),
                "cherrypy": Proven(BUILT_IN, "a streamed generator in the event-stream format the handler writes "
                                   "(no SSE helper)"),
            },
        ),
        Capability(
            "background", "Background tasks after the response",
            "`GET /work` schedules work and answers `scheduled`; the client has the answer while that work is "
            "still waiting for the client's go-ahead, and the work then runs to its end (work run before the "
            "answer is sent gives up waiting, and the test fails)",
            {
                "flask": Proven(BUILT_IN, "Werkzeug's `Response.call_on_close`: the function runs in the "
                                "request's thread once the server has sent the body (no task queue)"),
                "fastapi": Proven(BUILT_IN, "a `BackgroundTasks` parameter and `add_task` (Starlette's "
                                  "background tasks, run after the response is sent)"),
                "django": NotAvailable(
                    "not available without django-tasks (the backport of Django 6.0's tasks framework, which also "
                    "needs a worker backend), not pinned here: Django 5.2 has no API to schedule work after a "
                    "response; the process-wide `request_finished` signal is sent when any response is closed",
                    "https://docs.djangoproject.com/en/6.0/releases/6.0/ (\"Background Tasks\"); the installed "
                    "`django/` has no `tasks` package; `django/http/response.py`, `HttpResponseBase.close` "
                    "(line 342) (Django 5.2)"),
                "pyramid": NotAvailable(
                    "`request.add_finished_callback` runs its callbacks in `Router.finish_request`, before "
                    "`Router.__call__` hands the response to the server, so the client waits for them",
                    "`pyramid/router.py`, `Router.invoke_request` and `finish_request` (lines 253-258) "
                    "(Pyramid 2.1)"),
                "tornado": Proven(BUILT_IN, "`IOLoop.current().add_callback` with a coroutine, run on the "
                                  "server's loop after the handler returns (no task API tied to the response)"),
                "sanic": Proven(BUILT_IN, "`app.add_task`, a task on the server's loop that outlives the "
                                "request; tested served by Uvicorn (ASGI), because under `create_server`, which "
                                "the course's helper uses, `app.loop` refuses and the task waits for a start "
                                "signal that never comes (`sanic/app.py`, `Sanic.loop`, line 411)"),
                "bottle": NotAvailable(
                    "Bottle's hooks are `before_request`, `after_request` (which runs before the body is "
                    "sent), `app_reset` and `config`: nothing runs after the response",
                    "`bottle.py`, `Bottle.__hook_names` (line 667) and `Bottle._handle` (line 1011) "
                    "(Bottle 0.13.4)"),
                "cherrypy": Proven(BUILT_IN, "an `on_end_request` hook attached by the handler "
                                   "(`cherrypy.request.hooks.attach`), run in the request's thread when the "
                                   "server closes the response"),
            },
        ),
        Capability(
            "csrf", "CSRF protection",
            "`GET /form` gives a client its token; the client's form `POST /submit` with the token is accepted, "
            "and the framework's own protection refuses (`400` or `403`) the same POST without the token and "
            "the token sent by another client without the first one's cookie, before the view answers",
            {
                "flask": NotAvailable(
                    "not available without Flask-WTF (its `CSRFProtect`), not pinned here",
                    "no module of `flask/` or `werkzeug/` mentions CSRF (Flask 3.1, Werkzeug 3.1); "
                    "https://flask-wtf.readthedocs.io/en/1.2.x/csrf/"),
                "fastapi": NotAvailable(
                    "no CSRF token check, and no add-on for it is pinned here: the `strict_content_type` option "
                    "(on by default) only refuses to parse as JSON a body sent without `Content-Type`",
                    "`fastapi/applications.py`, `FastAPI.__init__`, `strict_content_type` (line 849) (FastAPI "
                    "0.165); no module of `starlette/` mentions CSRF (Starlette 1.10)"),
                "django": Proven(BUILT_IN, "`CsrfViewMiddleware`, here as the `csrf_protect` and "
                                 "`ensure_csrf_cookie` view decorators, token from `get_token`"),
                "pyramid": Proven(BUILT_IN, "`config.set_default_csrf_options(require_csrf=True)`, the token "
                                  "(`get_csrf_token`) kept in the session"),
                "tornado": Proven(BUILT_IN, "the `xsrf_cookies=True` setting and `RequestHandler.xsrf_token`"),
                "sanic": _no_csrf("sanic/", "Sanic 25.12"),
                "bottle": _no_csrf("bottle.py", "Bottle 0.13.4"),
                "cherrypy": _no_csrf("cherrypy/", "CherryPy 18.10"),
            },
        ),
        Capability(
            "websockets", "WebSockets",
            "a WebSocket client (the `websockets` library) opens `ws://…/echo`, sends two text messages, and "
            "gets each back",
            {
                "flask": NotAvailable(
                    "not available without flask-sock (or Flask-SocketIO), not pinned here: a WSGI app cannot take "
                    "over the connection; Werkzeug's one mention is routing (`Rule(websocket=True)` matches "
                    "`ws://` URLs), not serving",
                    "no module of `flask/` mentions WebSocket; `werkzeug/routing/rules.py`, `Rule.__init__` "
                    "(line 471) (Flask 3.1, Werkzeug 3.1)"),
                "fastapi": Proven(BUILT_IN, "`@app.websocket` (Starlette's `WebSocket`), on Uvicorn with the "
                                  "`websockets` library"),
                "django": NotAvailable(
                    "not available without Channels, not pinned here: Django's handlers answer HTTP only (its "
                    "ASGI handler rejects other scope types)",
                    "`django/core/handlers/asgi.py`, `ASGIHandler.__call__`, line 162 (\"Django can only handle "
                    "ASGI/HTTP connections\"); no module of `django/` mentions WebSocket (Django 5.2)"),
                "pyramid": NotAvailable(
                    "a WSGI application only, which cannot take over the connection; no add-on for it is pinned "
                    "here",
                    _never_mentions("pyramid/", "WebSocket", "Pyramid 2.1")),
                "tornado": Proven(BUILT_IN, "`tornado.websocket.WebSocketHandler`"),
                "sanic": Proven(BUILT_IN, "`@app.websocket` (on the `websockets` library)"),
                "bottle": NotAvailable(
                    "not available without bottle-websocket (and gevent-websocket), not pinned here: a WSGI "
                    "application cannot take over the connection",
                    _never_mentions("bottle.py", "WebSocket", "Bottle 0.13.4")
                    + "; https://pypi.org/project/bottle-websocket/"),
                "cherrypy": NotAvailable(
                    "not available without ws4py (its CherryPy plugin and tool), not pinned here: neither "
                    "CherryPy nor its server cheroot handles the upgrade",
                    _never_mentions("cherrypy/", "WebSocket", "CherryPy 18.10")
                    + "; no module of `cheroot/` does either (cheroot 11.1); "
                    "https://pypi.org/project/ws4py/ (`ws4py.server.cherrypyserver`)"),
            },
        ),
        Capability(
            "uploads", "Streamed uploads",
            "`POST /upload` (with `Content-Length`) sends the body's first 64 KiB, and the rest only once the "
            "handler has read as much (the client waits for it, up to a few seconds): a framework that reads "
            "the whole body before the handler runs cannot pass; the handler answers the body it read",
            {
                "flask": Proven(BUILT_IN, "`request.stream.read(n)` (Werkzeug's input stream; only `request.data`, "
                                "`form` and `files` read it all)"),
                "fastapi": Proven(BUILT_IN, "`async for chunk in request.stream()` (Starlette's `Request`)"),
                "django": Proven(BUILT_IN, "`request.read(n)` (the request is file-like; reading `request.body` "
                                 "or `POST` reads it all)"),
                "pyramid": Proven(BUILT_IN, "`request.body_file.read(n)` (WebOb's, read through an 8 KiB "
                                  "`BufferedReader`: `webob/request.py`, line 270; `request.body` reads it all)"),
                "tornado": Proven(BUILT_IN, "`@stream_request_body` and `data_received(chunk)`"),
                "sanic": Proven(BUILT_IN, "a route with `stream=True` and `await request.stream.read()`"),
                "bottle": NotAvailable(
                    "no streaming accessor: the first use of `request.body` (and of `json`, `forms`, `files`) "
                    "reads the whole body into memory or a temporary file; a handler can only bypass Bottle and "
                    "read the WSGI server's `environ['wsgi.input']` itself",
                    "`bottle.py`, `BaseRequest._body` (line 1340) and `BaseRequest.body` (line 1371) "
                    "(Bottle 0.13.4)"),
                "cherrypy": Proven(BUILT_IN, "`request.process_request_body: False` in the handler's config and "
                                   "`cherrypy.request.rfile.read(n)`"),
            },
        ),
        Capability(
            "graceful-shutdown", "Graceful shutdown (production server)",
            f"each framework's app is started with a command of the Rosetta chapter: {_tested_commands()}; the "
            "test's command serves, instead of the contract app, one whose `GET /in-flight` is held until the "
            "test lets it answer (same server, same options: `backendlab.capability_apps.in_flight_command`). "
            "Once that request's handler has started (for CherryPy, also once its engine has logged `Bus "
            f"STARTED`), the server process gets SIGTERM, the signal {SIGTERM_SOURCES} send first to stop a "
            "service. Graceful: new connections are refused while the request is held, the request still gets "
            "its `200` answer, and the process then exits by itself. The property is the server's, not the "
            "framework's: each cell names the server",
            {
                "flask": WAITRESS_CUTS,
                "fastapi": Proven(
                    BUILT_IN, "Uvicorn's own handler for SIGINT and SIGTERM", server="uvicorn",
                    note="Uvicorn handles SIGINT and SIGTERM itself (`uvicorn/server.py`, `HANDLED_SIGNALS`, line "
                    "45): its `shutdown` (line 281) stops accepting connections (line 286) and waits for the "
                    "requests in progress, without a time limit unless `--timeout-graceful-shutdown` is given "
                    "(`uvicorn/config.py`, `Config.__init__`, line 236); then it raises the signal again (line "
                    "349), so the process's exit status is SIGTERM's (Uvicorn 0.54)"),
                "django": WAITRESS_CUTS,
                "pyramid": WAITRESS_CUTS,
                "tornado": NotAvailable(
                    "neither Tornado's `HTTPServer` nor the course's runner (`backendlab.bench.serve.run_tornado`, "
                    "which waits inside `asyncio.run` as `serve_tornado.py` does) installs a SIGTERM handler, so "
                    "SIGTERM's default action ends the process at once and the request is cut. A graceful stop is "
                    "code the program writes: on SIGTERM, `HTTPServer.stop()` to refuse new connections, then wait "
                    "until the requests in progress have answered (the app counts them itself, for example in its "
                    "handlers' `prepare` and `on_finish`), and only then `await close_all_connections()` for the "
                    "connections left open: it closes each connection at once, so called any earlier it cuts the "
                    "request in progress too",
                    "`tornado/tcpserver.py`, `TCPServer.stop` (line 301; its docstring: \"Requests currently in "
                    "progress may still continue after the server is stopped\"); `tornado/httpserver.py`, "
                    "`HTTPServer.close_all_connections` (line 211); `tornado/http1connection.py`, "
                    "`HTTP1ServerConnection.close` (line 921), which closes the stream first (line 926); no module "
                    "of `tornado/` outside `tornado/test/` mentions SIGTERM (Tornado 6.6); `asyncio/runners.py`, "
                    "`Runner.run` (line 86), which installs a handler for SIGINT only (line 107) (Python 3.11)",
                    shown_by_test=True, server="the course's Tornado runner"),
                "sanic": Proven(
                    BUILT_IN, "Sanic's server: SIGINT and SIGTERM call `app.stop`", server="Sanic's server",
                    note="`_setup_system_signals` makes SIGINT and SIGTERM call `app.stop` "
                    "(`sanic/server/runners.py`, line 159); `_cleanup` (line 305) closes the listener and waits "
                    "for open connections up to `GRACEFUL_SHUTDOWN_TIMEOUT`, 15 s by default (`sanic/config.py`, "
                    "line 40), then aborts those still open (line 333), cutting a request still in progress "
                    "(Sanic 25.12)"),
                "bottle": WAITRESS_CUTS,
                "cherrypy": Proven(
                    BUILT_IN, "CherryPy's engine, started by `cherrypy.quickstart` as in the chapter's "
                    "`serve_cherrypy.py` (`backendlab.capability_apps.run_quickstart`)",
                    server="CherryPy's engine (quickstart) on cheroot",
                    note="`cherrypy.quickstart` (`cherrypy/__init__.py`, line 156) subscribes the engine's signal "
                    "handlers (line 178), and SIGTERM calls `bus.exit` (`cherrypy/process/plugins.py`, "
                    "`SignalHandler.__init__`, line 98), which stops cheroot: `Server.stop` (`cheroot/server.py`, "
                    "line 2231) closes the listening socket and waits for the requests in progress (line 2289); "
                    "after `server.shutdown_timeout`, 5 s by default (`cherrypy/_cpserver.py`, line 71), it only shuts "
                    "the reading side of their connections and goes on waiting for their handlers without a limit "
                    "(`cheroot/workers/threadpool.py`, `ThreadPool.stop`, line 352; lines 390-393, and line 404 in "
                    "`_force_close`). A SIGTERM that arrives while the engine is still starting, before it logs "
                    "`Bus STARTED`, ends the process at once with status 70 (`cherrypy/process/wspbus.py`, "
                    "`Bus.exit`, line 284; the check at line 304) (CherryPy 18.10, cheroot 11.1). The registry's "
                    "command serves the app on cheroot alone, which installs no signal handler (no module of "
                    "`cheroot/` imports `signal`): there SIGTERM ends the process at once and cuts the request"),
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
    numbered = f" [{note}]" if note else ""
    if isinstance(cell, Proven):
        answer = f": {cell.answer}" if cell.answer else ""
        label = f"on {cell.server}" if cell.server else f"{cell.how}{answer}"
        return f"✓ {label}{numbered}" if outcome == "passed" else f"✗ {label}{numbered}: test {outcome}"
    shown = "" if not cell.shown_by_test else " (shown)" if outcome == "passed" else f" (test {outcome})"
    server = f" on {cell.server}" if cell.server else ""
    return f"not available{server}{numbered}{shown}"


def _note_text(cell: Proven | NotAvailable) -> str:
    """What a cell's numbered note says (without the framework and capability), or "" if it has none."""
    if isinstance(cell, NotAvailable):
        return f"{cell.reason}. Source: {cell.source}"
    return cell.note


def matrix_markdown(outcomes: dict[str, str]) -> str:
    """The matrix as Markdown, from the tests' outcomes: one row per capability, notes below.

    Cells of a row whose notes say the same (the frameworks on one server) share one note."""
    titles = [IMPLEMENTATIONS[framework].title for framework in FRAMEWORKS]
    lines = [
        "| capability | " + " | ".join(titles) + " |",
        "|---|" + "---|" * len(titles),
    ]
    notes: list[tuple[list[str], str, str]] = []  # (its frameworks' titles, the capability's title, its text)
    numbers: dict[tuple[str, str], int] = {}  # (capability key, text) -> note number
    for capability in CAPABILITIES.values():
        cells = []
        for framework in FRAMEWORKS:
            text = _note_text(capability.cells[framework])
            note = None
            if text:
                if (capability.key, text) not in numbers:
                    notes.append(([], capability.title, text))
                    numbers[capability.key, text] = len(notes)
                note = numbers[capability.key, text]
                notes[note - 1][0].append(IMPLEMENTATIONS[framework].title)
            cells.append(_cell_text(capability, framework, outcomes, note))
        lines.append(f"| {capability.title} | " + " | ".join(cells) + " |")
    tests = "\n".join(f"- **{c.title}**: {c.proof}." for c in CAPABILITIES.values())
    numbered = "\n".join(f"{number}. {' / '.join(frameworks)}, {title}: {text}."
                         for number, (frameworks, title, text) in enumerate(notes, start=1))
    return (
        "<!-- Written by `python -m backendlab.capabilities` from the outcomes of tests/test_capabilities.py; "
        "do not edit. -->\n\n"
        + "\n".join(lines)
        + f"\n\n✓: a test of `{TESTS}` proves it on a live server. (shown): a test there shows the absence "
        "on a live server too. A cell that names a server (\"on waitress\") is about that server, not the "
        "framework. What each test shows:\n\n"
        + f"{tests}\n\nNotes: why a cell is not available, or the limits of a ✓, and where that is "
        f"written:\n\n{numbered}\n"
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

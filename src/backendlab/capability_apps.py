"""Small apps, one per framework and capability, that tests/test_capabilities.py serves and probes.

Each ``*_app(framework, ...)`` returns a fresh app object that :func:`backendlab.serving.serve`
can serve. Each is written the framework's own way (or with the add-on the capability matrix
names); where a framework lacks the capability, the app shows what a handler gets instead.
The graceful-shutdown row's :func:`in_flight_app` is served instead by each framework's production
command, in a process of its own (:func:`in_flight_command`); CherryPy's is ``cherrypy.quickstart``
(:func:`run_quickstart`).
"""

import asyncio
import itertools
import json
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

__all__ = [
    "BackgroundWork", "Upload", "background_app", "csrf_app", "in_flight_app", "in_flight_command", "json_echo_app",
    "run_quickstart", "static_app", "stream_app", "template_app", "upload_app", "websocket_app",
]

_sanic_names = itertools.count(1)


def sanic_app(purpose: str) -> Any:
    """A new Sanic app: app names are global in a process, so each gets a fresh one."""
    import sanic

    return sanic.Sanic(f"capability_{purpose}_{next(_sanic_names)}")


def cherrypy_app(root: object, config: dict[str, dict[str, Any]] | None = None) -> Any:
    """A ``cherrypy.Application`` without CherryPy's engine (served by cheroot directly)."""
    import cherrypy

    return cherrypy.Application(root, "", config={"/": {"log.screen": False}, **(config or {})})


# -- JSON bodies: POST /echo answers {"received": <the decoded body>} ------------------------------


def json_echo_app(framework: str) -> Any:
    """``POST /echo`` decodes the JSON body with the framework's own accessor and answers it back.

    Django and Tornado have no JSON accessor: their handlers call ``json.loads`` on the raw body.
    """
    if framework == "flask":
        import flask

        app = flask.Flask(__name__)

        @app.post("/echo")
        def echo() -> dict:
            return {"received": flask.request.get_json()}

        return app
    if framework == "fastapi":
        import fastapi

        app = fastapi.FastAPI()

        @app.post("/echo")
        async def echo(body: Annotated[dict, fastapi.Body()]) -> dict:
            return {"received": body}

        return app
    if framework == "django":
        from django.http import JsonResponse
        from django.urls import path
        from django.views.decorators.csrf import csrf_exempt

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        view = csrf_exempt(lambda request: JsonResponse({"received": json.loads(request.body)}))
        return ContractHandler(URLConf([path("echo", view)]))
    if framework == "pyramid":
        from pyramid.config import Configurator

        with Configurator() as config:
            config.add_route("echo", "/echo", request_method="POST")
            config.add_view(lambda request: {"received": request.json_body}, route_name="echo", renderer="json")
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        class Echo(tornado.web.RequestHandler):
            def post(self) -> None:
                self.write({"received": json.loads(self.request.body)})

        return tornado.web.Application([(r"/echo", Echo)], log_function=lambda handler: None)
    if framework == "sanic":
        import sanic

        app = sanic_app("json")

        @app.post("/echo")
        async def echo(request: Any) -> Any:
            return sanic.json({"received": request.json})

        return app
    if framework == "bottle":
        import bottle

        app = bottle.Bottle()
        app.post("/echo", callback=lambda: {"received": bottle.request.json})
        return app
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            @cherrypy.tools.json_in()
            @cherrypy.tools.json_out()
            def echo(self) -> dict:
                return {"received": cherrypy.request.json}

        return cherrypy_app(Root())
    raise ValueError(framework)


# -- templates: GET /hello?name=... renders page.html (or page.tpl) from ``directory`` -----------------

TEMPLATE_FILES = {  # file name and source: a paragraph with the ``name`` variable, each engine's syntax
    "jinja2": ("page.html", "<p>Hello, {{ name }}!</p>\n"),
    "django": ("page.html", "<p>Hello, {{ name }}!</p>\n"),
    "tornado": ("page.html", "<p>Hello, {{ name }}!</p>\n"),
    "bottle": ("page.tpl", "<p>Hello, {{name}}!</p>\n"),
}
TEMPLATE_ENGINE = {
    "flask": "jinja2", "fastapi": "jinja2", "django": "django", "pyramid": "jinja2",
    "tornado": "tornado", "bottle": "bottle",
}


def write_template(framework: str, directory: Path) -> None:
    """Write the template that :func:`template_app` renders for ``framework`` into ``directory``."""
    file_name, source = TEMPLATE_FILES[TEMPLATE_ENGINE[framework]]
    (directory / file_name).write_text(source)


def template_app(framework: str, directory: Path) -> Any:
    """``GET /hello?name=...`` renders the template in ``directory`` with the query's ``name``.

    Each uses its framework's template engine (or integration) with its default settings.
    """
    if framework == "flask":
        import flask

        app = flask.Flask(__name__, template_folder=str(directory))
        app.add_url_rule("/hello", view_func=lambda: flask.render_template(
            "page.html", name=flask.request.args["name"]))
        return app
    if framework == "fastapi":
        import fastapi
        from fastapi.templating import Jinja2Templates

        app = fastapi.FastAPI()
        templates = Jinja2Templates(directory=directory)

        @app.get("/hello")
        async def hello(request: fastapi.Request, name: str) -> Any:
            return templates.TemplateResponse(request, "page.html", {"name": name})

        return app
    if framework == "django":
        from django.http import HttpResponse
        from django.template import Context, Engine
        from django.urls import path

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        engine = Engine(dirs=[str(directory)])

        def hello(request: Any) -> HttpResponse:
            return HttpResponse(engine.get_template("page.html").render(Context({"name": request.GET["name"]})))

        return ContractHandler(URLConf([path("hello", hello)]))
    if framework == "pyramid":
        from pyramid.config import Configurator

        with Configurator() as config:
            config.include("pyramid_jinja2")
            config.add_jinja2_renderer(".html")
            config.add_jinja2_search_path(str(directory), name=".html")
            config.add_route("hello", "/hello")
            config.add_view(lambda request: {"name": request.GET["name"]}, route_name="hello",
                            renderer="page.html")
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        class Hello(tornado.web.RequestHandler):
            def get(self) -> None:
                self.render("page.html", name=self.get_query_argument("name"))

        return tornado.web.Application([(r"/hello", Hello)], template_path=str(directory),
                                       log_function=lambda handler: None)
    if framework == "bottle":
        import bottle

        app = bottle.Bottle()
        app.route("/hello", callback=lambda: bottle.template(
            "page", template_lookup=[str(directory)], name=bottle.request.query.name))
        return app
    raise ValueError(framework)


# -- static files: GET /static/<file> serves the files of ``directory`` --------------------------------


def static_app(framework: str, directory: Path) -> Any:
    """Serve the files of ``directory`` under ``/static/`` with the framework's own tool."""
    if framework == "flask":
        import flask

        return flask.Flask(__name__, static_folder=str(directory), static_url_path="/static")
    if framework == "fastapi":
        import fastapi
        from fastapi.staticfiles import StaticFiles

        app = fastapi.FastAPI()
        app.mount("/static", StaticFiles(directory=directory))
        return app
    if framework == "django":
        from django.urls import re_path
        from django.views.static import serve

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        return ContractHandler(URLConf([re_path(r"^static/(?P<path>.*)$", serve, {"document_root": directory})]))
    if framework == "pyramid":
        from pyramid.config import Configurator

        with Configurator() as config:
            config.add_static_view("static", str(directory))
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        return tornado.web.Application([], static_path=str(directory), log_function=lambda handler: None)
    if framework == "sanic":
        app = sanic_app("static")
        app.static("/static", directory)
        return app
    if framework == "bottle":
        import bottle

        app = bottle.Bottle()
        app.route("/static/<name:path>", callback=lambda name: bottle.static_file(name, root=str(directory)))
        return app
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            def index(self) -> str:
                return "static files are under /static/"

        return cherrypy_app(Root(), {"/static": {"tools.staticdir.on": True, "tools.staticdir.dir": str(directory)}})
    raise ValueError(framework)


# -- sessions: GET /visits counts this client's visits in its session ----------------------------------

SECRET = "backendlab-capability-sessions"  # signing key of the cookie-backed sessions below


def session_app(framework: str) -> Any:
    """``GET /visits`` adds one to ``visits`` in the client's session and answers the new count."""
    if framework == "flask":
        import flask

        app = flask.Flask(__name__)
        app.secret_key = SECRET

        @app.get("/visits")
        def visits() -> str:
            flask.session["visits"] = flask.session.get("visits", 0) + 1
            return str(flask.session["visits"])

        return app
    if framework == "fastapi":
        import fastapi
        from fastapi.responses import PlainTextResponse
        from starlette.middleware.sessions import SessionMiddleware

        app = fastapi.FastAPI()
        app.add_middleware(SessionMiddleware, secret_key=SECRET)

        @app.get("/visits", response_class=PlainTextResponse)
        async def visits(request: fastapi.Request) -> str:
            request.session["visits"] = request.session.get("visits", 0) + 1
            return str(request.session["visits"])

        return app
    if framework == "django":
        from django.contrib.sessions.backends import signed_cookies
        from django.contrib.sessions.middleware import SessionMiddleware
        from django.http import HttpResponse
        from django.urls import path
        from django.utils.decorators import decorator_from_middleware

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()

        class SignedCookieSessions(SessionMiddleware):
            """Django's session middleware with its signed-cookie store (settings here are shared)."""

            def __init__(self, get_response: Any) -> None:
                super().__init__(get_response)
                self.SessionStore = signed_cookies.SessionStore

        @decorator_from_middleware(SignedCookieSessions)
        def visits(request: Any) -> HttpResponse:
            request.session["visits"] = request.session.get("visits", 0) + 1
            return HttpResponse(str(request.session["visits"]), content_type="text/plain")

        return ContractHandler(URLConf([path("visits", visits)]))
    if framework == "pyramid":
        from pyramid.config import Configurator
        from pyramid.response import Response
        from pyramid.session import SignedCookieSessionFactory

        def visits(request: Any) -> Response:
            request.session["visits"] = request.session.get("visits", 0) + 1
            return Response(str(request.session["visits"]), content_type="text/plain")

        with Configurator(session_factory=SignedCookieSessionFactory(SECRET)) as config:
            config.add_route("visits", "/visits")
            config.add_view(visits, route_name="visits")
            return config.make_wsgi_app()
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            def visits(self) -> str:
                cherrypy.session["visits"] = cherrypy.session.get("visits", 0) + 1
                return str(cherrypy.session["visits"])

        # RAM sessions; clean_freq 0: no cleanup thread (only CherryPy's engine would stop it)
        return cherrypy_app(Root(), {"/": {"log.screen": False, "tools.sessions.on": True,
                                           "tools.sessions.clean_freq": 0}})
    raise ValueError(framework)


# -- middleware and hooks: code around every request, outside the handlers ------------------------------

HOOK_HEADER = "X-Hook"  # the hook adds this header (value "ran") to the routes' responses
BLOCK_HEADER = "X-Block"  # a request with this header is answered 403 "blocked" by the hook itself


def hook_app(framework: str) -> Any:
    """Two routes, ``GET /hello`` and ``GET /bye``, answer their names; one app-level hook adds
    ``X-Hook: ran`` to their responses and answers ``403 blocked`` itself to requests with ``X-Block``."""
    if framework == "flask":
        import flask

        app = flask.Flask(__name__)
        app.add_url_rule("/hello", "hello", lambda: "hello")
        app.add_url_rule("/bye", "bye", lambda: "bye")

        @app.before_request
        def block() -> Any:
            return ("blocked", 403) if BLOCK_HEADER in flask.request.headers else None

        @app.after_request
        def mark(response: Any) -> Any:
            response.headers[HOOK_HEADER] = "ran"
            return response

        return app
    if framework == "fastapi":
        import fastapi
        from fastapi.responses import PlainTextResponse

        app = fastapi.FastAPI()
        app.get("/hello", response_class=PlainTextResponse)(lambda: "hello")
        app.get("/bye", response_class=PlainTextResponse)(lambda: "bye")

        @app.middleware("http")
        async def hook(request: fastapi.Request, call_next: Any) -> Any:
            if BLOCK_HEADER in request.headers:
                return PlainTextResponse("blocked", status_code=403)
            response = await call_next(request)
            response.headers[HOOK_HEADER] = "ran"
            return response

        return app
    if framework == "django":
        from django.conf import settings
        from django.http import HttpResponse
        from django.test.utils import override_settings
        from django.urls import path

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        patterns = [path("hello", lambda request: HttpResponse("hello")),
                    path("bye", lambda request: HttpResponse("bye"))]
        # the handler reads MIDDLEWARE once, when it is made: add this hook for this handler only
        with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, f"{__name__}.django_hook"]):
            return ContractHandler(URLConf(patterns))
    if framework == "pyramid":
        from pyramid.config import Configurator
        from pyramid.response import Response

        with Configurator() as config:
            config.add_tween(f"{__name__}.pyramid_hook")
            for name in ("hello", "bye"):
                config.add_route(name, f"/{name}")
                config.add_view(lambda request, name=name: Response(name), route_name=name)
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        class Hooked(tornado.web.RequestHandler):
            """Tornado has no app-wide middleware: handlers derive from a base class with hooks."""

            def set_default_headers(self) -> None:
                self.set_header(HOOK_HEADER, "ran")

            def prepare(self) -> None:
                if BLOCK_HEADER in self.request.headers:
                    self.set_status(403)
                    self.finish("blocked")

        class Hello(Hooked):
            def get(self) -> None:
                self.write("hello")

        class Bye(Hooked):
            def get(self) -> None:
                self.write("bye")

        return tornado.web.Application([(r"/hello", Hello), (r"/bye", Bye)], log_function=lambda handler: None)
    if framework == "sanic":
        import sanic

        app = sanic_app("hooks")
        app.get("/hello", name="hello")(lambda request: sanic.text("hello"))
        app.get("/bye", name="bye")(lambda request: sanic.text("bye"))

        @app.on_request
        async def block(request: Any) -> Any:
            return sanic.text("blocked", status=403) if BLOCK_HEADER in request.headers else None

        @app.on_response
        async def mark(request: Any, response: Any) -> None:
            response.headers[HOOK_HEADER] = "ran"

        return app
    if framework == "bottle":
        import bottle

        app = bottle.Bottle()
        app.route("/hello", callback=lambda: "hello")
        app.route("/bye", callback=lambda: "bye")

        @app.hook("before_request")
        def block() -> None:
            if BLOCK_HEADER in bottle.request.headers:
                raise bottle.HTTPResponse("blocked", status=403)

        @app.hook("after_request")
        def mark() -> None:
            bottle.response.set_header(HOOK_HEADER, "ran")

        return app
    if framework == "cherrypy":
        import cherrypy

        def block() -> None:
            if BLOCK_HEADER in cherrypy.request.headers:
                cherrypy.request.handler = None  # the page handler does not run
                cherrypy.response.status = 403
                cherrypy.response.body = [b"blocked"]

        def mark() -> None:
            cherrypy.response.headers[HOOK_HEADER] = "ran"

        class Root:
            @cherrypy.expose
            def hello(self) -> str:
                return "hello"

            @cherrypy.expose
            def bye(self) -> str:
                return "bye"

        return cherrypy_app(Root(), {"/": {"log.screen": False, "hooks.before_handler": block,
                                           "hooks.before_finalize": mark}})
    raise ValueError(framework)


def django_hook(get_response: Any) -> Any:
    """Django middleware (a factory of the per-request callable) for :func:`hook_app`."""
    from django.http import HttpResponse

    def middleware(request: Any) -> Any:
        if BLOCK_HEADER in request.headers:
            return HttpResponse("blocked", status=403)
        response = get_response(request)
        response[HOOK_HEADER] = "ran"
        return response

    return middleware


def pyramid_hook(handler: Any, registry: Any) -> Any:
    """A Pyramid tween factory for :func:`hook_app`."""
    from pyramid.response import Response

    def tween(request: Any) -> Any:
        if BLOCK_HEADER in request.headers:
            return Response("blocked", status=403)
        response = handler(request)
        response.headers[HOOK_HEADER] = "ran"
        return response

    return tween


# -- streaming: GET /stream sends a first piece, then waits for the client's go-ahead ---------------------

WAIT = 5.0  # seconds a handler waits for the test's go-ahead before it gives up
PIECE = {"text/plain": "{}\n", "text/event-stream": "data: {}\n\n"}  # one piece of each kind of stream


def pieces(proceed: threading.Event, media_type: str) -> Iterator[str]:
    """``first``, then ``last`` once ``proceed`` is set (``gave up`` if it never is)."""
    yield PIECE[media_type].format("first")
    yield PIECE[media_type].format("last" if proceed.wait(WAIT) else "gave up")


async def async_pieces(proceed: threading.Event, media_type: str) -> AsyncIterator[str]:
    """:func:`pieces` for a handler on an event loop: the wait runs in a thread, not on the loop."""
    yield PIECE[media_type].format("first")
    given = await asyncio.to_thread(proceed.wait, WAIT)
    yield PIECE[media_type].format("last" if given else "gave up")


def stream_app(framework: str, proceed: threading.Event, media_type: str = "text/plain") -> Any:
    """``GET /stream`` streams :func:`pieces` as ``media_type``: the last piece exists only after the
    client, having received the first, sets ``proceed``."""
    if framework == "flask":
        import flask

        app = flask.Flask(__name__)
        app.add_url_rule("/stream", view_func=lambda: flask.Response(pieces(proceed, media_type), mimetype=media_type))
        return app
    if framework == "fastapi":
        import fastapi
        from fastapi.responses import StreamingResponse
        from fastapi.sse import EventSourceResponse, ServerSentEvent

        app = fastapi.FastAPI()
        if media_type == "text/event-stream":

            @app.get("/stream", response_class=EventSourceResponse)
            async def events() -> AsyncIterator[ServerSentEvent]:
                async for line in async_pieces(proceed, "text/plain"):  # FastAPI writes the event format
                    yield ServerSentEvent(raw_data=line.strip())
        else:
            app.get("/stream")(lambda: StreamingResponse(async_pieces(proceed, media_type), media_type=media_type))
        return app
    if framework == "django":
        from django.http import StreamingHttpResponse
        from django.urls import path

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        view = lambda request: StreamingHttpResponse(pieces(proceed, media_type), content_type=media_type)  # noqa: E731
        return ContractHandler(URLConf([path("stream", view)]))
    if framework == "pyramid":
        from pyramid.config import Configurator
        from pyramid.response import Response

        def stream(request: Any) -> Response:
            return Response(app_iter=(piece.encode() for piece in pieces(proceed, media_type)),
                            content_type=media_type)

        with Configurator() as config:
            config.add_route("stream", "/stream")
            config.add_view(stream, route_name="stream")
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        class Stream(tornado.web.RequestHandler):
            async def get(self) -> None:
                self.set_header("Content-Type", media_type)
                async for piece in async_pieces(proceed, media_type):
                    self.write(piece)
                    await self.flush()

        return tornado.web.Application([(r"/stream", Stream)], log_function=lambda handler: None)
    if framework == "sanic":
        app = sanic_app("stream")

        @app.get("/stream")
        async def stream(request: Any) -> None:
            response = await request.respond(content_type=media_type)
            async for piece in async_pieces(proceed, media_type):
                await response.send(piece)
            await response.eof()

        return app
    if framework == "bottle":
        import bottle

        app = bottle.Bottle()

        @app.route("/stream")
        def stream() -> Iterator[str]:
            bottle.response.content_type = media_type
            return pieces(proceed, media_type)

        return app
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            def stream(self) -> Iterator[bytes]:
                cherrypy.response.headers["Content-Type"] = media_type
                return (piece.encode() for piece in pieces(proceed, media_type))

            stream._cp_config = {"response.stream": True}

        return cherrypy_app(Root())
    raise ValueError(framework)


# -- background tasks: GET /work answers, and work it scheduled goes on after the response --------------


class BackgroundWork:
    """Work a handler schedules: it waits for the client's go-ahead (``proceed``), then records that it ran."""

    def __init__(self) -> None:
        self.proceed = threading.Event()
        self.finished = threading.Event()
        self.outcome = ""

    def run(self) -> None:
        self.outcome = "ran" if self.proceed.wait(WAIT) else "gave up"
        self.finished.set()

    async def run_async(self) -> None:
        """:meth:`run` for an event loop: the wait runs in a thread, not on the loop."""
        given = await asyncio.to_thread(self.proceed.wait, WAIT)
        self.outcome = "ran" if given else "gave up"
        self.finished.set()


def background_app(framework: str, work: BackgroundWork) -> Any:
    """``GET /work`` answers ``scheduled`` and leaves ``work`` to run after the response."""
    if framework == "flask":
        import flask

        def schedule() -> Any:
            response = flask.make_response("scheduled")
            response.call_on_close(work.run)  # Werkzeug's: runs once the server has sent the body
            return response

        app = flask.Flask(__name__)
        app.add_url_rule("/work", view_func=schedule)
        return app
    if framework == "fastapi":
        import fastapi
        from fastapi.responses import PlainTextResponse

        app = fastapi.FastAPI()

        @app.get("/work", response_class=PlainTextResponse)
        async def schedule(background_tasks: fastapi.BackgroundTasks) -> str:
            background_tasks.add_task(work.run_async)
            return "scheduled"

        return app
    if framework == "tornado":
        import tornado.ioloop
        import tornado.web

        class Schedule(tornado.web.RequestHandler):
            def get(self) -> None:
                tornado.ioloop.IOLoop.current().add_callback(work.run_async)
                self.write("scheduled")

        return tornado.web.Application([(r"/work", Schedule)], log_function=lambda handler: None)
    if framework == "sanic":
        import sanic

        app = sanic_app("background")
        app.config.TOUCHUP = False  # served as ASGI (see the test), without the helper that turns it off

        @app.get("/work")
        async def schedule(request: Any) -> Any:
            request.app.add_task(work.run_async())
            return sanic.text("scheduled")

        return app
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            def work(self) -> str:
                cherrypy.request.hooks.attach("on_end_request", work.run)
                return "scheduled"

        return cherrypy_app(Root())
    raise ValueError(framework)


# -- CSRF: GET /form gives this client a token; POST /submit is refused without it ------------------------

CSRF_FIELD = {"django": "csrfmiddlewaretoken", "pyramid": "csrf_token", "tornado": "_xsrf"}  # the form field


def csrf_app(framework: str) -> Any:
    """``GET /form`` answers the client's CSRF token (as a page would embed it); ``POST /submit`` answers
    ``accepted`` once the framework's own CSRF protection has let the request through."""
    if framework == "django":
        from django.http import HttpResponse
        from django.middleware.csrf import get_token
        from django.urls import path
        from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        # the decorators are CsrfViewMiddleware applied to one view (settings here are shared)
        form = ensure_csrf_cookie(lambda request: HttpResponse(get_token(request), content_type="text/plain"))
        submit = csrf_protect(lambda request: HttpResponse("accepted", content_type="text/plain"))
        return ContractHandler(URLConf([path("form", form), path("submit", submit)]))
    if framework == "pyramid":
        from pyramid.config import Configurator
        from pyramid.csrf import get_csrf_token
        from pyramid.response import Response
        from pyramid.session import SignedCookieSessionFactory

        # the default CSRF storage keeps the token in the session
        with Configurator(session_factory=SignedCookieSessionFactory(SECRET)) as config:
            config.set_default_csrf_options(require_csrf=True)
            config.add_route("form", "/form")
            config.add_view(lambda request: Response(get_csrf_token(request), content_type="text/plain"),
                            route_name="form")
            config.add_route("submit", "/submit")
            config.add_view(lambda request: Response("accepted", content_type="text/plain"), route_name="submit",
                            request_method="POST")
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        class Form(tornado.web.RequestHandler):
            def get(self) -> None:
                self.set_header("Content-Type", "text/plain")
                self.write(self.xsrf_token)  # also sets the _xsrf cookie

        class Submit(tornado.web.RequestHandler):
            def post(self) -> None:
                self.write("accepted")

        return tornado.web.Application([(r"/form", Form), (r"/submit", Submit)], xsrf_cookies=True,
                                       log_function=lambda handler: None)
    raise ValueError(framework)


# -- WebSockets: /echo sends back every message it receives ---------------------------------------------


def websocket_app(framework: str) -> Any:
    """A WebSocket endpoint at ``/echo`` that answers each text message with the same text."""
    if framework == "fastapi":
        import fastapi

        app = fastapi.FastAPI()

        @app.websocket("/echo")
        async def echo(websocket: fastapi.WebSocket) -> None:
            await websocket.accept()
            async for message in websocket.iter_text():  # ends when the client closes
                await websocket.send_text(message)

        return app
    if framework == "tornado":
        import tornado.web
        import tornado.websocket

        class Echo(tornado.websocket.WebSocketHandler):
            async def on_message(self, message: str | bytes) -> None:
                await self.write_message(message)

        return tornado.web.Application([(r"/echo", Echo)], log_function=lambda handler: None)
    if framework == "sanic":
        app = sanic_app("websocket")

        @app.websocket("/echo")
        async def echo(request: Any, websocket: Any) -> None:
            async for message in websocket:
                await websocket.send(message)

        return app
    raise ValueError(framework)


# -- streamed uploads: POST /upload reads the body piece by piece as it arrives ----------------------------

# The client sends FIRST_PIECE, then the rest only once the handler has read as much. It is larger than
# the read buffers on the way (WebOb's 8 KiB, for one), which a streamed upload also fills before the handler.
FIRST_PIECE = b"f" * 65536
READ_SIZE = 16384  # what a handler asks for at a time, where it chooses


class Upload:
    """What a handler read of a request body; ``first_read`` is set once it has read the first piece's size."""

    def __init__(self) -> None:
        self.first_read = threading.Event()
        self.body = b""

    def take(self, chunk: bytes) -> None:
        self.body += chunk
        if len(self.body) >= len(FIRST_PIECE):
            self.first_read.set()

    def read_all(self, read: Any) -> bytes:
        """Read with ``read(size)`` until the body ends; answer what was read."""
        while chunk := read(READ_SIZE):
            self.take(chunk)
        return self.body


def upload_app(framework: str, upload: Upload) -> Any:
    """``POST /upload`` reads the body in pieces, each handed to ``upload``, and answers the body it read."""
    if framework == "flask":
        import flask

        app = flask.Flask(__name__)
        app.post("/upload")(lambda: upload.read_all(flask.request.stream.read))
        return app
    if framework == "fastapi":
        import fastapi
        from fastapi.responses import Response

        app = fastapi.FastAPI()

        @app.post("/upload")
        async def receive(request: fastapi.Request) -> Response:
            async for chunk in request.stream():
                upload.take(chunk)
            return Response(upload.body)

        return app
    if framework == "django":
        from django.http import HttpResponse
        from django.urls import path
        from django.views.decorators.csrf import csrf_exempt

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        view = csrf_exempt(lambda request: HttpResponse(upload.read_all(request.read)))
        return ContractHandler(URLConf([path("upload", view)]))
    if framework == "pyramid":
        from pyramid.config import Configurator
        from pyramid.response import Response

        with Configurator() as config:
            config.add_route("upload", "/upload", request_method="POST")
            config.add_view(lambda request: Response(upload.read_all(request.body_file.read)), route_name="upload")
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        @tornado.web.stream_request_body
        class Receive(tornado.web.RequestHandler):
            def data_received(self, chunk: bytes) -> None:
                upload.take(chunk)

            def post(self) -> None:
                self.write(upload.body)

        return tornado.web.Application([(r"/upload", Receive)], log_function=lambda handler: None)
    if framework == "sanic":
        import sanic

        app = sanic_app("upload")

        @app.post("/upload", stream=True)
        async def receive(request: Any) -> Any:
            while (chunk := await request.stream.read()) is not None:
                upload.take(chunk)
            return sanic.raw(upload.body)

        return app
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            def upload(self) -> bytes:
                return upload.read_all(cherrypy.request.rfile.read)

            upload._cp_config = {"request.process_request_body": False}  # the handler reads the body

        return cherrypy_app(Root())
    raise ValueError(framework)


# -- graceful shutdown: GET /in-flight is held until the test, having signalled the server, lets it finish ----

IN_FLIGHT_FOLDER = "BACKENDLAB_IN_FLIGHT_FOLDER"  # environment variable: where the marker files are
STARTED = "started"  # the handler creates this file when it starts
PROCEED = "proceed"  # the test creates this file: the handler may answer
FINISHED = "finished"  # the answer once the go-ahead came
HOLD = 60.0  # seconds a held request waits for the go-ahead before it answers "gave up"
MODULE = "backendlab.capability_apps"  # this module, as a command names it (also when run as __main__)
# A line the command prints once SIGTERM means "stop gracefully": CherryPy's engine, signalled while it is still
# starting, ends the process at once with status 70 (cherrypy/process/wspbus.py, Bus.exit, line 304).
READY_LINE = {"cherrypy": "Bus STARTED"}


def hold(folder: Path) -> str:
    """Mark the request as started, then wait for the go-ahead file; answer whether it came."""
    (folder / STARTED).touch()
    deadline = time.monotonic() + HOLD
    while not (folder / PROCEED).exists():
        if time.monotonic() > deadline:
            return "gave up"
        time.sleep(0.01)
    return FINISHED


def in_flight_app(framework: str, folder: Path) -> Any:
    """``GET /in-flight`` answers :func:`hold` as text: it is held until ``folder`` has the go-ahead file."""
    if framework == "flask":
        import flask

        app = flask.Flask(__name__)
        app.get("/in-flight")(lambda: hold(folder))
        return app
    if framework == "fastapi":
        import fastapi
        from fastapi.responses import PlainTextResponse

        app = fastapi.FastAPI()

        @app.get("/in-flight", response_class=PlainTextResponse)
        async def in_flight() -> str:
            return await asyncio.to_thread(hold, folder)  # the wait runs in a thread, not on the loop

        return app
    if framework == "django":
        from django.http import HttpResponse
        from django.urls import path

        from backendlab.contract_apps.django_app import ContractHandler, URLConf, configure

        configure()
        return ContractHandler(URLConf([path("in-flight", lambda request: HttpResponse(hold(folder)))]))
    if framework == "pyramid":
        from pyramid.config import Configurator
        from pyramid.response import Response

        with Configurator() as config:
            config.add_route("in_flight", "/in-flight")
            config.add_view(lambda request: Response(hold(folder)), route_name="in_flight")
            return config.make_wsgi_app()
    if framework == "tornado":
        import tornado.web

        class InFlight(tornado.web.RequestHandler):
            async def get(self) -> None:
                self.write(await asyncio.to_thread(hold, folder))

        return tornado.web.Application([(r"/in-flight", InFlight)], log_function=lambda handler: None)
    if framework == "sanic":
        import sanic

        app = sanic_app("in_flight")

        @app.get("/in-flight")
        async def in_flight(request: Any) -> Any:
            return sanic.text(await asyncio.to_thread(hold, folder))

        return app
    if framework == "bottle":
        import bottle

        app = bottle.Bottle()
        app.route("/in-flight", callback=lambda: hold(folder))
        return app
    if framework == "cherrypy":
        import cherrypy

        class Root:
            @cherrypy.expose
            def in_flight(self) -> str:  # CherryPy's dispatcher maps /in-flight to in_flight
                return hold(folder)

        return cherrypy_app(Root())
    raise ValueError(framework)


def __getattr__(name: str) -> Any:
    """``in_flight_<framework>``: a factory, without arguments, of that framework's :func:`in_flight_app`
    with the folder named by :data:`IN_FLIGHT_FOLDER`, for a server command's app argument."""
    from backendlab.contract_apps import FRAMEWORKS

    framework = name.removeprefix("in_flight_")
    if framework not in FRAMEWORKS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return lambda *_: in_flight_app(framework, Path(os.environ[IN_FLIGHT_FOLDER]))  # Sanic passes its args


def in_flight_command(framework: str) -> str:
    """The framework's production command as the course shows it (``{port}`` for the port), serving
    :func:`in_flight_app` instead of the contract app: same server, same options. CherryPy's is the
    chapter's ``serve_cherrypy.py`` (``cherrypy.quickstart``), not the registry's bare cheroot: see :func:`main`."""
    from backendlab.contract_apps import IMPLEMENTATIONS
    from backendlab.rosetta import served_command

    command = served_command(IMPLEMENTATIONS[framework])
    swapped = command.replace(f"backendlab.contract_apps.{framework}_app:make_app", f"{MODULE}:in_flight_{framework}")
    swapped = swapped.replace("-m backendlab.bench.serve ", f"-m {MODULE} ")
    if swapped == command:
        raise ValueError(f"{command!r} names no contract app this function knows how to swap")
    return swapped


def run_quickstart(app: Any, host: str, port: int) -> None:
    """Serve a ``cherrypy.Application`` as the Rosetta chapter's ``serve_cherrypy.py`` does: ``cherrypy.quickstart``,
    which subscribes CherryPy's signal handlers and starts its engine, and the engine cheroot.

    One setting differs: the engine's autoreloader is off (as in CherryPy's ``production`` environment), so a
    source file changed while a test runs cannot restart the process; it plays no part in a SIGTERM.
    """
    import cherrypy

    cherrypy.config.update({"server.socket_host": host, "server.socket_port": port, "engine.autoreload.on": False})
    cherrypy.quickstart(app.root, config=app.config)


def main(argv: list[str] | None = None) -> int:
    """``python -m backendlab.capability_apps KEY --port PORT``: what ``python -m backendlab.bench.serve KEY``
    does (the same server runner), serving :func:`in_flight_app` instead of the contract app; for CherryPy,
    what the Rosetta chapter's ``serve_cherrypy.py`` does instead (:func:`run_quickstart`)."""
    import argparse
    import logging

    from backendlab.bench.serve import RUNNERS
    from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("key", choices=FRAMEWORKS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    app = in_flight_app(args.key, Path(os.environ[IN_FLIGHT_FOLDER]))
    if args.key == "cherrypy":
        run_quickstart(app, args.host, args.port)  # CherryPy logs to the screen itself, as the script's does
    else:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        RUNNERS[IMPLEMENTATIONS[args.key].server](app, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

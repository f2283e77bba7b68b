"""The same two routes in each of the eight frameworks, for the serving tests.

``GET /hello`` answers JSON ``{"framework": <key>}``; ``GET /boom`` raises ``ValueError``
and ``GET /print`` prints a line and answers ``printed``.
"""

from __future__ import annotations

import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

FRAMEWORKS = ["flask", "fastapi", "django", "pyramid", "tornado", "sanic", "bottle", "cherrypy"]
PRINTED = "a line printed inside a handler"


def flask_app() -> Any:
    from flask import Flask

    app = Flask("serving_test_flask")

    @app.get("/hello")
    def hello() -> dict:
        return {"framework": "flask"}

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("boom")

    @app.get("/print")
    def printer() -> str:
        print(PRINTED)
        return "printed"

    return app


def fastapi_app() -> Any:
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict:
        return {"framework": "fastapi"}

    @app.get("/boom")
    async def boom() -> str:
        raise ValueError("boom")

    @app.get("/print", response_class=PlainTextResponse)
    async def printer() -> str:
        print(PRINTED)
        return "printed"

    return app


def django_app() -> Any:
    import django
    from django.conf import settings
    from django.http import HttpResponse, JsonResponse
    from django.urls import path

    def hello(request: Any) -> JsonResponse:
        return JsonResponse({"framework": "django"})

    def boom(request: Any) -> HttpResponse:
        raise ValueError("boom")

    def printer(request: Any) -> HttpResponse:
        print(PRINTED)
        return HttpResponse("printed")

    urls = types.ModuleType("serving_test_django_urls")
    urls.urlpatterns = [path("hello", hello), path("boom", boom), path("print", printer)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            ROOT_URLCONF=urls.__name__,
            SECRET_KEY="serving-tests-only",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            LOGGING_CONFIG=None,
        )
        django.setup()
    else:
        from django.urls import clear_url_caches

        clear_url_caches()
    from django.core.handlers.wsgi import WSGIHandler

    return WSGIHandler()


def pyramid_app() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyramid.config import Configurator
        from pyramid.response import Response

    def hello(request: Any) -> dict:
        return {"framework": "pyramid"}

    def boom(request: Any) -> dict:
        raise ValueError("boom")

    def printer(request: Any) -> Response:
        print(PRINTED)
        return Response("printed")

    with Configurator() as config:
        config.add_route("hello", "/hello")
        config.add_view(hello, route_name="hello", renderer="json")
        config.add_route("boom", "/boom")
        config.add_view(boom, route_name="boom", renderer="json")
        config.add_route("print", "/print")
        config.add_view(printer, route_name="print")
        return config.make_wsgi_app()


def tornado_app() -> Any:
    import tornado.web

    class Hello(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write({"framework": "tornado"})

    class Boom(tornado.web.RequestHandler):
        def get(self) -> None:
            raise ValueError("boom")

    class Printer(tornado.web.RequestHandler):
        def get(self) -> None:
            print(PRINTED)
            self.write("printed")

    return tornado.web.Application([("/hello", Hello), ("/boom", Boom), ("/print", Printer)])


_sanic_apps = 0


def sanic_app() -> Any:
    from sanic import Sanic, json, text

    global _sanic_apps
    _sanic_apps += 1
    app = Sanic(f"serving_test_{_sanic_apps}")

    @app.get("/hello")
    async def hello(request: Any) -> Any:
        return json({"framework": "sanic"})

    @app.get("/boom")
    async def boom(request: Any) -> Any:
        raise ValueError("boom")

    @app.get("/print")
    async def printer(request: Any) -> Any:
        print(PRINTED)
        return text("printed")

    return app


def bottle_app() -> Any:
    import bottle

    app = bottle.Bottle()

    @app.get("/hello")
    def hello() -> dict:
        return {"framework": "bottle"}

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("boom")

    @app.get("/print")
    def printer() -> str:
        print(PRINTED)
        return "printed"

    return app


def cherrypy_app() -> Any:
    import cherrypy

    class Root:
        @cherrypy.expose
        @cherrypy.tools.json_out()
        def hello(self) -> dict:
            return {"framework": "cherrypy"}

        @cherrypy.expose
        def boom(self) -> str:
            raise ValueError("boom")

        @cherrypy.expose
        def print(self) -> str:
            print(PRINTED)
            return "printed"

    return cherrypy.Application(Root(), "", config={"/": {"log.screen": False}})


MAKERS: dict[str, Callable[[], Any]] = {
    "flask": flask_app,
    "fastapi": fastapi_app,
    "django": django_app,
    "pyramid": pyramid_app,
    "tornado": tornado_app,
    "sanic": sanic_app,
    "bottle": bottle_app,
    "cherrypy": cherrypy_app,
}

SERVER_SOFTWARE = {
    "flask": "werkzeug",
    "fastapi": "uvicorn",
    "django": "werkzeug",
    "pyramid": "werkzeug",
    "tornado": "tornado",
    "sanic": "sanic",
    "bottle": "werkzeug",
    "cherrypy": "cheroot",
}

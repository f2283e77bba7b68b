"""One small HTTP API written eight times, once per framework: the contract.

=========================  ==========================================================
endpoint                   answer
=========================  ==========================================================
``GET /plaintext``         200, ``Hello, World!`` as ``text/plain``
``GET /json``              200, ``{"message": "Hello, World!"}``
``GET /items/{id}``        200 and the item as JSON for ids 1..10 (``ITEM_COUNT``);
                           404 for an unknown id; 404 for a non-integer id, except
                           FastAPI: 422 (its path parameters are validated, not matched)
``POST /items``            valid ``{"name": non-empty string, "price": number >= 0}``:
                           201, the new item as JSON, ``Location: /items/{new id}``;
                           invalid or malformed: 400, except FastAPI: 422 (pydantic's
                           validation answer, with the reasons; 400 is what Django
                           forms and the hand-written checks conventionally use)
``GET /slow?ms=50``        200 after ``ms`` milliseconds: awaited (``asyncio.sleep``) in
                           FastAPI, Tornado and Sanic, slept (``time.sleep``, holding a
                           worker thread) in the five sync ones; ``ms`` outside 0..10000: 400/422
=========================  ==========================================================

Each framework validates ``POST /items`` its own idiomatic way: FastAPI with a pydantic model,
Django with a form, the other six with the same plain-Python check
(:func:`backendlab.contract_apps._common.item_errors`). Those differ in what they coerce:
see :attr:`Implementation.coerces`.

Each module exposes ``make_app()``, which returns a fresh app (and a fresh item store) on every
call. :data:`IMPLEMENTATIONS` maps a key to the module, its production server and the
command a deployer would type to run it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

__all__ = ["FRAMEWORKS", "IMPLEMENTATIONS", "LENIENT_BODIES", "Implementation", "make_app"]

# Bodies that one validator coerces and another rejects (each framework's documented behaviour).
LENIENT_BODIES: dict[str, dict[str, Any]] = {
    "number-name": {"name": 42, "price": 1.0},
    "numeric-string-price": {"name": "x", "price": "3"},
    "boolean-price": {"name": "x", "price": True},
}


@dataclass(frozen=True)
class Implementation:
    """One framework's version of the contract API and how it is served in production."""

    key: str
    title: str
    server: str  # production server the benchmark runs it on
    interface: str  # WSGI, ASGI, or the framework's own server: a label for tables, nothing branches on it
    handlers: str  # "sync (threads)" or "async (event loop)"
    command: str  # what a deployer would type (the benchmark runs the same server on a free port)
    invalid_status: int = 400  # POST /items with an invalid body
    non_integer_id_status: int = 404  # GET /items/abc
    coerces: frozenset[str] = field(default_factory=frozenset)  # LENIENT_BODIES it accepts (201)

    @property
    def module_name(self) -> str:
        return f"{__name__}.{self.key}_app"

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(self.module_name)

    def make_app(self) -> Any:
        """A fresh app with its own item store."""
        return self.module.make_app()


def _waitress(key: str) -> str:
    return f"waitress-serve --host 127.0.0.1 --port 8000 --call {__name__}.{key}_app:make_app"


IMPLEMENTATIONS: dict[str, Implementation] = {
    impl.key: impl
    for impl in [
        Implementation("flask", "Flask", "waitress", "WSGI", "sync (threads)", _waitress("flask")),
        Implementation(
            "fastapi", "FastAPI", "uvicorn", "ASGI", "async (event loop)",
            f"uvicorn --factory {__name__}.fastapi_app:make_app --host 127.0.0.1 --port 8000 --no-access-log",
            invalid_status=422, non_integer_id_status=422,
            coerces=frozenset({"numeric-string-price", "boolean-price"}),  # pydantic's lax mode
        ),
        Implementation(
            "django", "Django", "waitress", "WSGI", "sync (threads)", _waitress("django"),
            coerces=frozenset(LENIENT_BODIES),  # CharField: str(value); FloatField: float(value), so True is 1.0
        ),
        Implementation("pyramid", "Pyramid", "waitress", "WSGI", "sync (threads)", _waitress("pyramid")),
        Implementation(
            "tornado", "Tornado", "tornado", "own HTTPServer", "async (event loop)",
            "python -m backendlab.bench.serve tornado --port 8000  # no CLI of its own: HTTPServer(app)",
        ),
        Implementation(
            "sanic", "Sanic", "sanic", "own server (also ASGI)", "async (event loop)",
            f"sanic {__name__}.sanic_app:make_app --factory --single-process --host 127.0.0.1 --port 8000 "
            "--no-access-logs",
        ),
        Implementation("bottle", "Bottle", "waitress", "WSGI", "sync (threads)", _waitress("bottle")),
        Implementation(
            "cherrypy", "CherryPy", "cheroot", "WSGI", "sync (threads)",
            "python -m backendlab.bench.serve cherrypy --port 8000  # cheroot.wsgi.Server(app)",
        ),
    ]
}

FRAMEWORKS: list[str] = list(IMPLEMENTATIONS)


def make_app(key: str) -> Any:
    """A fresh app of framework ``key`` (one of :data:`FRAMEWORKS`)."""
    return IMPLEMENTATIONS[key].make_app()

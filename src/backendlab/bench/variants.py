"""The server variants of the attribution experiments: ``python -m backendlab.bench.variants KEY``.

Each variant serves ``GET /json`` (``{"message": "Hello, World!"}``) on one stack, and differs
from the stack it is compared with (its ``baseline``) in one named respect. The child follows the
protocol of :mod:`backendlab.bench.serve` (bind, announce the port, serve until killed), reusing
its runners:

======================  =============================================================
key                     what runs
======================  =============================================================
fastapi                 the FastAPI contract app on uvicorn's defaults: ``loop="auto"``
                        picks uvloop and ``http="auto"`` httptools when installed
                        (``uvicorn/loops/auto.py``, ``uvicorn/protocols/http/auto.py``)
fastapi-asyncio         the same with ``loop="asyncio"``
fastapi-h11             the same with ``http="h11"`` (h11, a pure-Python HTTP parser)
fastapi-asyncio-h11     both
starlette               a bare Starlette app with one route, ``JSONResponse``, uvicorn
                        defaults
tornado                 the Tornado contract app on asyncio's standard loop
tornado-uvloop          the same on uvloop
sanic                   the Sanic contract app, Sanic's defaults (uvloop)
sanic-asyncio           the same with ``app.config.USE_UVLOOP = False``
bare                    the bare reference of :mod:`backendlab.bench.serve` (uvloop)
======================  =============================================================
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from backendlab.bench.client import raise_fd_limit
from backendlab.bench.serve import RUNNERS, run_bare
from backendlab.contract_apps._common import HELLO

__all__ = ["VARIANTS", "Variant", "starlette_app"]


@dataclass(frozen=True)
class Variant:
    """One stack: an app on a server with some options, and what it is compared with."""

    title: str
    app: str  # a contract app key, "starlette", or "bare"
    server: str  # a key of serve.RUNNERS, or "bare"
    options: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None  # the variant this one differs from in one respect
    change: str = ""  # that respect, in words


VARIANTS: dict[str, Variant] = {
    "fastapi": Variant("FastAPI (uvloop, httptools)", "fastapi", "uvicorn"),
    "fastapi-asyncio": Variant("FastAPI, loop=asyncio", "fastapi", "uvicorn", {"loop": "asyncio"},
                               "fastapi", "asyncio's standard loop instead of uvloop"),
    "fastapi-h11": Variant("FastAPI, http=h11", "fastapi", "uvicorn", {"http": "h11"},
                           "fastapi", "h11 instead of httptools"),
    "fastapi-asyncio-h11": Variant("FastAPI, loop=asyncio, http=h11", "fastapi", "uvicorn",
                                   {"loop": "asyncio", "http": "h11"}, "fastapi", "both of these"),
    "starlette": Variant("bare Starlette (uvloop, httptools)", "starlette", "uvicorn", {}, "fastapi",
                         "Starlette alone instead of FastAPI"),
    "tornado": Variant("Tornado (asyncio's loop)", "tornado", "tornado"),
    "tornado-uvloop": Variant("Tornado on uvloop", "tornado", "tornado", {"loop": "uvloop"}, "tornado",
                              "uvloop instead of asyncio's standard loop"),
    "sanic": Variant("Sanic (uvloop)", "sanic", "sanic"),
    "sanic-asyncio": Variant("Sanic, USE_UVLOOP = False", "sanic", "sanic", {"use_uvloop": False}, "sanic",
                             "asyncio's standard loop instead of uvloop"),
    "bare": Variant("bare reference (uvloop)", "bare", "bare"),
}


def starlette_app() -> Any:
    """Starlette alone, the same ``GET /json`` answer as the contract apps."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello_json(request: Request) -> JSONResponse:
        return JSONResponse({"message": HELLO})

    return Starlette(routes=[Route("/json", hello_json)])


def serve(key: str, host: str = "127.0.0.1", port: int = 0) -> None:
    variant = VARIANTS[key]
    if variant.server == "bare":
        run_bare(host, port)
        return
    if variant.app == "starlette":
        app = starlette_app()
    else:
        from backendlab.contract_apps import IMPLEMENTATIONS

        app = IMPLEMENTATIONS[variant.app].make_app()
    RUNNERS[variant.server](app, host, port, **variant.options)  # type: ignore[call-arg]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", choices=list(VARIANTS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    raise_fd_limit()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    serve(args.key, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

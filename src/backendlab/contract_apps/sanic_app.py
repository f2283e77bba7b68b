"""The contract API in Sanic: async handlers on Sanic's own server.

Sanic keeps a process-wide registry of app names (a second ``Sanic("contract")`` raises
"already in use"), so every :func:`make_app` call names its app anew (``contract_sanic_1``,
``contract_sanic_2``, ...): a course-only workaround, since a Sanic project makes its one app once.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from sanic import HTTPResponse, Request, Sanic, json, text
from sanic.exceptions import BadRequest, NotFound

from backendlab.contract_apps._common import HELLO, ItemStore, item_errors, slow_ms

_app_numbers = itertools.count(1)


def make_app() -> Sanic:
    app = Sanic(f"contract_sanic_{next(_app_numbers)}")  # a new name per call: Sanic's names are process-wide
    store = ItemStore()

    @app.get("/plaintext")
    async def plaintext(request: Request) -> HTTPResponse:
        return text(HELLO)

    @app.get("/json")
    async def hello_json(request: Request) -> HTTPResponse:
        return json({"message": HELLO})

    @app.get("/items/<item_id:int>")  # the int type: /items/abc does not match, so 404
    async def get_item(request: Request, item_id: int) -> HTTPResponse:
        item = store.get(item_id)
        if item is None:
            raise NotFound()
        return json(item)

    @app.post("/items")
    async def create_item(request: Request) -> HTTPResponse:
        try:
            data: Any = request.json
        except BadRequest:  # malformed JSON
            data = None
        if errors := item_errors(data):
            return json({"errors": errors}, status=400)
        item = store.add(data["name"], data["price"])
        return json(item, status=201, headers={"Location": app.url_for("get_item", item_id=item["id"])})

    @app.get("/slow")
    async def slow(request: Request) -> HTTPResponse:
        ms = slow_ms(request.args.get("ms"))
        if ms is None:
            raise BadRequest()
        await asyncio.sleep(ms / 1000)  # yields the event loop to other requests
        return json({"slept_ms": ms})

    return app

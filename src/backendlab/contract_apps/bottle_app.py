"""The contract API in Bottle: sync routes on WSGI (waitress in the benchmark)."""

from __future__ import annotations

import time

import bottle

from backendlab.contract_apps._common import HELLO, ItemStore, item_errors, slow_ms


def make_app() -> bottle.Bottle:
    app = bottle.Bottle()
    store = ItemStore()

    @app.get("/plaintext")
    def plaintext() -> str:
        bottle.response.content_type = "text/plain; charset=utf-8"
        return HELLO

    @app.get("/json")
    def hello_json() -> dict:
        return {"message": HELLO}  # a dict is returned as JSON

    @app.get("/items/<item_id:int>", name="item")  # the int filter: /items/abc is 404
    def get_item(item_id: int) -> dict:
        item = store.get(item_id)
        if item is None:
            bottle.abort(404)
        return item

    @app.post("/items")
    def create_item() -> dict:
        data = bottle.request.json  # malformed JSON raises HTTPError(400) itself
        if errors := item_errors(data):
            bottle.response.status = 400
            return {"errors": errors}
        item = store.add(data["name"], data["price"])
        bottle.response.status = 201
        bottle.response.set_header("Location", app.get_url("item", item_id=item["id"]))
        return item

    @app.get("/slow")
    def slow() -> dict:
        ms = slow_ms(bottle.request.query.get("ms"))
        if ms is None:
            bottle.abort(400)
        time.sleep(ms / 1000)  # blocks this worker thread
        return {"slept_ms": ms}

    return app

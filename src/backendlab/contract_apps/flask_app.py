"""The contract API in Flask: sync views on WSGI (waitress in the benchmark)."""

from __future__ import annotations

import time

from flask import Flask, Response, abort, request, url_for

from backendlab.contract_apps._common import HELLO, ItemStore, item_errors, slow_ms


def make_app() -> Flask:
    app = Flask(__name__)
    store = ItemStore()

    @app.get("/plaintext")
    def plaintext() -> Response:
        return Response(HELLO, mimetype="text/plain")

    @app.get("/json")
    def hello_json() -> dict:
        return {"message": HELLO}

    @app.get("/items/<int:item_id>")  # the int converter: /items/abc does not match, so 404
    def get_item(item_id: int) -> dict:
        item = store.get(item_id)
        if item is None:
            abort(404)
        return item

    @app.post("/items")
    def create_item() -> tuple:
        data = request.get_json(silent=True)  # None for malformed JSON
        if errors := item_errors(data):
            return {"errors": errors}, 400
        item = store.add(data["name"], data["price"])
        return item, 201, {"Location": url_for("get_item", item_id=item["id"])}

    @app.get("/slow")
    def slow() -> dict:
        ms = slow_ms(request.args.get("ms"))
        if ms is None:
            abort(400)
        time.sleep(ms / 1000)  # blocks this worker thread
        return {"slept_ms": ms}

    return app

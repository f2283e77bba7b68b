"""The contract API in Pyramid: views added to a Configurator, on WSGI (waitress in the benchmark)."""

from __future__ import annotations

import time
import warnings
from typing import Any

with warnings.catch_warnings():  # Pyramid 2.1 imports pkg_resources, which warns on import
    warnings.simplefilter("ignore")
    from pyramid.config import Configurator
    from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
    from pyramid.response import Response
    from pyramid.router import Router

from backendlab.contract_apps._common import HELLO, ItemStore, item_errors, slow_ms


def make_app() -> Router:
    store = ItemStore()

    def plaintext(request: Any) -> Response:
        return Response(HELLO, content_type="text/plain")

    def hello_json(request: Any) -> dict:
        return {"message": HELLO}

    def get_item(request: Any) -> dict:
        item = store.get(int(request.matchdict["item_id"]))
        if item is None:
            raise HTTPNotFound()
        return item

    def create_item(request: Any) -> dict:
        try:
            data = request.json_body
        except ValueError:
            data = None
        if errors := item_errors(data):
            request.response.status_code = 400
            return {"errors": errors}
        item = store.add(data["name"], data["price"])
        request.response.status_code = 201
        request.response.location = request.route_path("item", item_id=item["id"])
        return item

    def slow(request: Any) -> dict:
        ms = slow_ms(request.params.get("ms"))
        if ms is None:
            raise HTTPBadRequest()
        time.sleep(ms / 1000)  # blocks this worker thread
        return {"slept_ms": ms}

    with Configurator() as config:
        config.add_route("plaintext", "/plaintext")
        config.add_view(plaintext, route_name="plaintext", request_method="GET")
        config.add_route("json", "/json")
        config.add_view(hello_json, route_name="json", request_method="GET", renderer="json")
        config.add_route("item", r"/items/{item_id:\d+}")  # digits only: /items/abc is 404
        config.add_view(get_item, route_name="item", request_method="GET", renderer="json")
        config.add_route("items", "/items")
        config.add_view(create_item, route_name="items", request_method="POST", renderer="json")
        config.add_route("slow", "/slow")
        config.add_view(slow, route_name="slow", request_method="GET", renderer="json")
        return config.make_wsgi_app()

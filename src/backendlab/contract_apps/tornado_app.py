"""The contract API in Tornado: RequestHandler classes on Tornado's own HTTPServer."""

from __future__ import annotations

import asyncio
import json

import tornado.web

from backendlab.contract_apps._common import HELLO, ItemStore, item_errors, slow_ms


class PlainText(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write(HELLO)


class HelloJSON(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write({"message": HELLO})  # a dict is written as JSON


class Item(tornado.web.RequestHandler):
    def initialize(self, store: ItemStore) -> None:
        self.store = store

    def get(self, item_id: str) -> None:
        item = self.store.get(int(item_id))
        if item is None:
            raise tornado.web.HTTPError(404)
        self.write(item)


class Items(tornado.web.RequestHandler):
    def initialize(self, store: ItemStore) -> None:
        self.store = store

    def post(self) -> None:
        try:
            data = json.loads(self.request.body)
        except ValueError:
            data = None
        if errors := item_errors(data):
            self.set_status(400)
            self.write({"errors": errors})
            return
        item = self.store.add(data["name"], data["price"])
        self.set_status(201)
        self.set_header("Location", self.reverse_url("item", item["id"]))
        self.write(item)


class Slow(tornado.web.RequestHandler):
    async def get(self) -> None:
        ms = slow_ms(self.get_query_argument("ms", None))
        if ms is None:
            raise tornado.web.HTTPError(400)
        await asyncio.sleep(ms / 1000)  # yields the event loop to other requests
        self.write({"slept_ms": ms})


def make_app() -> tornado.web.Application:
    store = ItemStore()
    return tornado.web.Application([
        (r"/plaintext", PlainText),
        (r"/json", HelloJSON),
        tornado.web.url(r"/items/(\d+)", Item, {"store": store}, name="item"),  # /items/abc: 404
        (r"/items", Items, {"store": store}),
        (r"/slow", Slow),
    ])

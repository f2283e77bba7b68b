"""The contract API in FastAPI: async endpoints on ASGI (uvicorn in the benchmark)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from backendlab.contract_apps._common import DEFAULT_SLOW_MS, HELLO, MAX_SLOW_MS, ItemStore


class NewItem(BaseModel):
    """pydantic validates the body: invalid input answers 422 with the details."""

    name: str = Field(min_length=1)
    price: float = Field(ge=0)


def make_app() -> FastAPI:
    app = FastAPI()
    store = ItemStore()

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return HELLO

    @app.get("/json")
    async def hello_json() -> dict:
        return {"message": HELLO}

    @app.get("/items/{item_id}")  # item_id: int is validated, so /items/abc answers 422
    async def get_item(item_id: int) -> dict:
        item = store.get(item_id)
        if item is None:
            raise HTTPException(status_code=404)
        return item

    @app.post("/items", status_code=201)
    async def create_item(new: NewItem, response: Response) -> dict:
        item = store.add(new.name, new.price)
        response.headers["Location"] = app.url_path_for("get_item", item_id=item["id"])
        return item

    @app.get("/slow")
    async def slow(ms: Annotated[int, Query(ge=0, le=MAX_SLOW_MS)] = DEFAULT_SLOW_MS) -> dict:
        await asyncio.sleep(ms / 1000)  # yields the event loop to other requests
        return {"slept_ms": ms}

    return app

import asyncio
import os

from sanic import Request, Sanic, json

app = Sanic("hello")


@app.get("/hello/<name:str>")
async def hello(request: Request, name: str):
    return json({"hello": name})


@app.get("/worker")
async def worker(request: Request):
    loop = type(asyncio.get_running_loop())
    return json({"pid": os.getpid(), "loop": f"{loop.__module__}.{loop.__qualname__}"})

"""Serve the Tornado contract app: python serve_tornado.py [PORT]."""
import asyncio
import sys

from backendlab.contract_apps.tornado_app import make_app


async def main(port: int) -> None:
    make_app().listen(port, address="127.0.0.1")
    print(f"Listening on http://127.0.0.1:{port}")
    await asyncio.Event().wait()  # serve until Ctrl+C


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8000))

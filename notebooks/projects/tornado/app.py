import asyncio
import signal

import tornado.web
from tornado.options import define, options, parse_command_line

define("port", default=8888, type=int, help="port to listen on")


class HelloHandler(tornado.web.RequestHandler):
    def get(self, name):
        self.write({"message": f"Hello, {name}!"})


async def main():
    parse_command_line()  # reads --port=...; also switches on Tornado's log lines
    app = tornado.web.Application([(r"/hello/(\w+)", HelloHandler)])
    server = app.listen(options.port, address="127.0.0.1")
    print(f"Listening on http://127.0.0.1:{options.port}")
    ctrl_c = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, ctrl_c.set)
    await ctrl_c.wait()
    server.stop()  # accept no new connections
    await server.close_all_connections()  # close the ones still open
    print("Stopped.")


if __name__ == "__main__":
    asyncio.run(main())

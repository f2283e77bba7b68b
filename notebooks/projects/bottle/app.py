import sys
import time

from bottle import route, run


@route("/")
def index():
    return {"message": "Hello from Bottle"}


@route("/hello/<name>")
def hello(name):
    return f"Hello, {name}!"


@route("/wait/<seconds:float>")
def wait(seconds):
    time.sleep(seconds)  # stands for a slow database query or a slow upstream API
    return {"waited": seconds}


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    server = sys.argv[2] if len(sys.argv) > 2 else "wsgiref"
    run(host="127.0.0.1", port=port, server=server)

"""Serve a WSGI app with the standard library: python hello_wsgi.py 8000"""

import sys
from wsgiref.simple_server import make_server


def hello_app(environ, start_response):
    body = f"Hello from {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    with make_server("127.0.0.1", port, hello_app) as httpd:
        print(f"Serving on http://127.0.0.1:{port}", flush=True)
        try:
            httpd.serve_forever()  # answers requests until Ctrl+C
        except KeyboardInterrupt:
            pass

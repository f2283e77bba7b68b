"""Serve the CherryPy contract app with CherryPy's engine: python serve_cherrypy.py [PORT]."""
import sys

import cherrypy

from backendlab.contract_apps.cherrypy_app import make_app

app = make_app()  # a cherrypy.Application: its root object and its config
cherrypy.config.update({"server.socket_host": "127.0.0.1",
                        "server.socket_port": int(sys.argv[1]) if len(sys.argv) > 1 else 8000})
cherrypy.quickstart(app.root, config=app.config)  # serves until Ctrl+C

"""Serve the CherryPy contract app on cheroot, without CherryPy's engine: python serve_cherrypy.py [PORT]."""
import sys

from cheroot.wsgi import Server

from backendlab.contract_apps.cherrypy_app import make_app

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
Server(("127.0.0.1", port), make_app()).safe_start()

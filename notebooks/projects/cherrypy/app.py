import sys

import cherrypy


class Root:
    @cherrypy.expose
    def index(self):
        return "Hello from CherryPy"

    @cherrypy.expose
    def greet(self, name="world"):
        return f"Hello, {name}!"


if __name__ == "__main__":
    # python app.py [PORT [CONFIG_FILE]]
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    config_file = sys.argv[2] if len(sys.argv) > 2 else "app.conf"
    cherrypy.config.update({"server.socket_port": port})
    cherrypy.quickstart(Root(), "/", config_file)

from pyramid.config import Configurator
from pyramid.view import view_config


@view_config(route_name="home", renderer="json")
def home(request):
    return {"message": request.registry.settings["hello.message"]}


@view_config(route_name="hello", renderer="json")
def hello(request):
    return {"greeting": f"Hello, {request.matchdict['name']}!"}


def main(global_config, **settings):
    """The app factory: pserve calls it with the settings of the .ini file's [app:main] section."""
    with Configurator(settings=settings) as config:
        config.add_route("home", "/")
        config.add_route("hello", "/hello/{name}")
        config.scan()
    return config.make_wsgi_app()

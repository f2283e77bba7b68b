from pyramid.config import Configurator


def main(global_config, **settings):
    """The shop's app factory: the includes of step 3, with the settings of the .ini file."""
    with Configurator(settings=settings) as config:
        config.include("lab_shop", route_prefix="/api")
        config.include("lab_shop_auth")
        config.include("lab_tools")
    return config.make_wsgi_app()

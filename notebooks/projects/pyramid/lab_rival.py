def includeme(config):
    config.add_route("lab_tools.health", "/healthz")  # a route name that lab_tools already uses

import uuid

from pyramid.httpexceptions import HTTPForbidden


def request_id_tween_factory(handler, registry):
    def request_id_tween(request):
        response = handler(request)  # the rest of Pyramid: other tweens, then the view
        response.headers["X-Request-ID"] = uuid.uuid4().hex
        return response

    return request_id_tween


def block_paths_tween_factory(handler, registry):
    prefixes = tuple(registry.settings.get("lab_tools.blocked_prefixes", "").split())
    def block_paths_tween(request):
        if prefixes and request.path.startswith(prefixes):
            return HTTPForbidden(json_body={"error": "blocked by lab_tools"})
        return handler(request)

    return block_paths_tween


def includeme(config):
    config.add_tween("lab_tools.request_id_tween_factory")
    config.add_tween("lab_tools.block_paths_tween_factory", under="lab_tools.request_id_tween_factory")
    config.add_route("lab_tools.health", "/_health")
    config.add_view(lambda request: {"status": "ok"}, route_name="lab_tools.health", renderer="json")

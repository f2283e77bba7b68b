"""Bearer-token security for lab_shop: config.include("lab_shop_auth")."""
from pyramid.authorization import ACLHelper, Allow, Authenticated, Everyone

TOKENS = {"token-ada": "ada"}  # a real app would look tokens up in a database


class Root:
    __acl__ = [(Allow, Authenticated, "order")]  # the root's access-control list: who may do what

    def __init__(self, request):
        self.request = request


class BearerTokenPolicy:
    def identity(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return TOKENS.get(token) if scheme.lower() == "bearer" else None

    def authenticated_userid(self, request):
        return request.identity

    def permits(self, request, context, permission):
        principals = [Everyone] + ([Authenticated, "user:" + request.identity] if request.identity else [])
        return ACLHelper().permits(context, principals, permission)


def includeme(config):
    config.set_security_policy(BearerTokenPolicy())
    config.set_root_factory(Root)

"""The contract API in Django: function views on WSGI (waitress in the benchmark).

Django's settings are global to the process. :func:`configure` sets them once (guarded by
``settings.configured``) and leaves any configuration already made alone: this app does not
depend on ``ROOT_URLCONF`` or ``MIDDLEWARE`` (though without ``CommonMiddleware`` responses lack
``Content-Length``, which costs keep-alive on some servers), because its handler puts its own URL patterns
on each request (``request.urlconf``, which Django's resolver honours) and its POST view is
CSRF-exempt. So it can be served in a process that configured Django for something else,
as long as that configuration allows the host ``127.0.0.1``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import django
from django import forms
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from backendlab.contract_apps._common import HELLO, ItemStore, slow_ms

urlpatterns: list = []  # ROOT_URLCONF when this module configured Django; each app brings its own


def configure() -> None:
    """Configure Django once per process, unless something else already did."""
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            SECRET_KEY="backendlab-contract-apps",
            ROOT_URLCONF=__name__,
            # An API's usual pair; CommonMiddleware also sets Content-Length, without which
            # a WSGI server has to close the connection or chunk the body.
            MIDDLEWARE=["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"],
            INSTALLED_APPS=[],
            LOGGING_CONFIG=None,
        )
        django.setup()


class NewItemForm(forms.Form):
    """A Django form validates the body: invalid input answers 400 with the form's errors."""

    name = forms.CharField(min_length=1)
    price = forms.FloatField(min_value=0)


class URLConf:
    """One app's URL patterns; Django accepts any object with ``urlpatterns`` as a URLconf."""

    def __init__(self, patterns: list) -> None:
        self.urlpatterns = patterns


class ContractHandler(WSGIHandler):
    """Django's WSGI handler, resolving each request against this app's own patterns.

    A course-only workaround: a Django project has one ``urls.py`` and serves
    ``get_wsgi_application()`` from its ``wsgi.py``; the course needs several Django apps with
    their own items in one process (tests, notebooks), and Django's settings exist once per process.
    """

    def __init__(self, urlconf: URLConf) -> None:
        super().__init__()
        self.urlconf = urlconf

    def get_response(self, request: Any) -> HttpResponse:
        request.urlconf = self.urlconf
        return super().get_response(request)


def make_app() -> ContractHandler:
    configure()
    store = ItemStore()

    @require_GET
    def plaintext(request: Any) -> HttpResponse:
        return HttpResponse(HELLO, content_type="text/plain")

    @require_GET
    def hello_json(request: Any) -> JsonResponse:
        return JsonResponse({"message": HELLO})

    @require_GET
    def get_item(request: Any, item_id: int) -> JsonResponse:
        item = store.get(item_id)
        if item is None:
            raise Http404
        return JsonResponse(item)

    @csrf_exempt  # a JSON API called by other programs, not a browser form
    @require_POST
    def create_item(request: Any) -> JsonResponse:
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        form = NewItemForm(data if isinstance(data, dict) else {})
        if not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        item = store.add(**form.cleaned_data)
        response = JsonResponse(item, status=201)
        response["Location"] = reverse("item", args=[item["id"]])
        return response

    @require_GET
    def slow(request: Any) -> HttpResponse:
        ms = slow_ms(request.GET.get("ms"))
        if ms is None:
            return HttpResponseBadRequest()
        time.sleep(ms / 1000)  # blocks this worker thread
        return JsonResponse({"slept_ms": ms})

    return ContractHandler(URLConf([
        path("plaintext", plaintext),
        path("json", hello_json),
        path("items/<int:item_id>", get_item, name="item"),  # /items/abc does not match: 404
        path("items", create_item),
        path("slow", slow),
    ]))

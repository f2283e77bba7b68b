"""Submissions of assignment 02-full-stack written in other idioms than the instructor's, and wrong ones.

Each entry is one student's whole submission: for every notebook (by stem), the source of every solution
cell (by grade_id), as the student's cell would hold it (with the lines the exercise keeps around the
solution, without nbgrader's solution markers). The CORRECT ones must score full marks; each WRONG one
scores exactly its ``score`` out of 20 (Django 10: 3 + 4 + 3; Pyramid 10: 3 + 4 + 3).
"""

from __future__ import annotations

ASSIGNMENT = "02-full-stack"


def edited(source: str, *edits: tuple[str, str]) -> str:
    """``source`` with each ``(old, new)`` edit applied in turn; an ``old`` text must occur exactly once."""
    for old, new in edits:
        found = source.count(old)
        if found != 1:
            raise ValueError(f"{old!r} occurs {found} times in the source, not exactly once")
        source = source.replace(old, new)
    return source


# ----------------------------------------------------------------------------------------------
# Django
# ----------------------------------------------------------------------------------------------

# The lines the exercise keeps around the solution in these cells, so every student's cell holds them too.
_DJANGO_MODEL_KEPT = """
forget_models("talks")  # lets this cell run again without Django's "already registered" warning
"""
_DJANGO_VIEWS_KEPT = """
urlpatterns = talk_urlpatterns + admin_urlpatterns  # read by Django because ROOT_URLCONF = "__main__"
clear_url_caches()  # Django caches the URL resolver: drop it after changing urlpatterns
"""
_DJANGO_ADMIN_KEPT = """
urlpatterns = talk_urlpatterns + admin_urlpatterns
clear_url_caches()
"""

# An abstract base model (Meta inherited, tuple ordering), a column of its own name (db_column), a table
# of its own name (db_table), an IntegerField kept non-negative by a validator, a TextField whose length
# a validator limits.
_DJANGO_MODEL_ABSTRACT = _DJANGO_MODEL_KEPT + '''
from django.core.validators import MaxLengthValidator, MinValueValidator


class Submission(models.Model):
    """What every submission to the conference has: a title and a speaker."""

    title = models.CharField("title of the talk", max_length=200, db_column="talk_title")
    speaker = models.TextField(validators=[MaxLengthValidator(100)])

    class Meta:
        abstract = True
        app_label = "talks"
        ordering = ("title",)

    def __str__(self):
        return f"{self.title}"


class Talk(Submission):
    minutes = models.IntegerField(default=30, validators=[MinValueValidator(0)])
    accepted = models.BooleanField("accepted by the committee", default=False)

    class Meta(Submission.Meta):
        db_table = "conference_talk"
        verbose_name = "talk"
'''

_DJANGO_MIGRATE_NAMED = '''
call_command("makemigrations", "talks", name="create_talk", verbosity=0)
call_command("migrate", "talks", verbosity=0)
call_command("migrate", verbosity=0)
'''

# Class-based views (django.views.View), re_path() with named groups, values() for the JSON.
_DJANGO_VIEWS_CBV = '''
from django.urls import re_path
from django.views import View

FIELDS = ("id", "title", "speaker", "minutes")


class AcceptedTalks(View):
    def get(self, request):
        talks = Talk.objects.filter(accepted=True).order_by("title")
        if "speaker" in request.GET:
            talks = talks.filter(speaker=request.GET["speaker"])
        return JsonResponse({"talks": list(talks.values(*FIELDS))})


class OneTalk(View):
    def get(self, request, pk):
        found = Talk.objects.filter(pk=pk, accepted=True).values(*FIELDS).first()
        if found is None:
            return JsonResponse({"error": "no accepted talk with this id"}, status=404)
        return JsonResponse(found)


talk_urlpatterns = [
    re_path(r"^talks/$", AcceptedTalks.as_view()),
    re_path(r"^talks/(?P<pk>[0-9]+)/$", OneTalk.as_view()),
]
''' + _DJANGO_VIEWS_KEPT

# @admin.register(..., site=...), tuples, the filter named with its list-filter class, the title not the
# first column (so another column holds the change link), an AdminSite subclass.
_DJANGO_ADMIN_DECORATOR = '''
class ProgrammeAdmin(admin.AdminSite):
    site_header = "Conference programme"
    site_title = "Programme"


admin_site = ProgrammeAdmin(name="programme")


@admin.register(Talk, site=admin_site)
class TalkAdmin(admin.ModelAdmin):
    list_display = ("speaker", "title", "minutes", "accepted")
    list_filter = (("accepted", admin.BooleanFieldListFilter),)
    search_fields = ("title", "speaker")
    ordering = ("title",)


admin_urlpatterns = [path("admin/", admin_site.urls)]
''' + _DJANGO_ADMIN_KEPT

# A plain IntegerField kept non-negative by a check constraint in Meta (full_clean() validates it), the
# ordering as an expression, __str__ before Meta.
_DJANGO_MODEL_CONSTRAINT = _DJANGO_MODEL_KEPT + '''
from django.db.models import Q


class Talk(models.Model):
    title = models.CharField(max_length=200)
    speaker = models.CharField(max_length=100)
    minutes = models.IntegerField(default=30)
    accepted = models.BooleanField(default=False)

    def __str__(self):
        return self.title

    class Meta:
        app_label = "talks"
        ordering = [models.F("title").asc()]
        constraints = [models.CheckConstraint(condition=Q(minutes__gte=0), name="minutes_not_negative")]
'''

_DJANGO_MIGRATE_ALL = '''
from django.core import management

management.call_command("makemigrations", "talks", "--noinput", verbosity=0)
management.call_command("migrate", "--noinput", verbosity=0)
'''

# Generic views (ListView, DetailView) answering JSON, path() with include() and a pk converter.
_DJANGO_VIEWS_GENERIC = '''
from django.http import Http404
from django.urls import include
from django.views.generic import DetailView, ListView


def as_json(talk):
    return {"id": talk.id, "title": talk.title, "speaker": talk.speaker, "minutes": talk.minutes}


class TalkListView(ListView):
    model = Talk

    def get_queryset(self):
        queryset = super().get_queryset().filter(accepted=True)
        speaker = self.request.GET.get("speaker")
        return queryset if speaker is None else queryset.filter(speaker=speaker)

    def render_to_response(self, context, **response_kwargs):
        return JsonResponse({"talks": [as_json(talk) for talk in context["object_list"]]})


class TalkDetailView(DetailView):
    queryset = Talk.objects.filter(accepted=True)

    def get(self, request, *args, **kwargs):
        try:
            talk = self.get_object()
        except Http404:
            return JsonResponse({"error": f"talk {kwargs['pk']} is not on the programme"}, status=404)
        return JsonResponse(as_json(talk))


talk_urlpatterns = [
    path("talks/", include([
        path("", TalkListView.as_view(), name="talks"),
        path("<int:pk>/", TalkDetailView.as_view(), name="talk"),
    ])),
]
''' + _DJANGO_VIEWS_KEPT

# The project-wide admin.site, with options passed to register() instead of a ModelAdmin class.
_DJANGO_ADMIN_SITE_REGISTER = '''
admin.site.register(
    Talk,
    list_display=["title", "speaker", "minutes", "accepted"],
    list_filter=["accepted"],
    search_fields=["title", "speaker"],
)
admin_urlpatterns = [path("admin/", admin.site.urls)]
''' + _DJANGO_ADMIN_KEPT

# Function views with decorators, get_object_or_404, HttpResponse with json.dumps.
_DJANGO_VIEWS_FUNCTIONS = '''
import json

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET


def json_response(data, status=200):
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def public(talk):
    return {"id": talk.pk, "title": talk.title, "speaker": talk.speaker, "minutes": talk.minutes}


@require_GET
def programme(request):
    filters = {"accepted": True}
    if request.GET.get("speaker") is not None:
        filters["speaker"] = request.GET["speaker"]
    return json_response({"talks": [public(talk) for talk in Talk.objects.filter(**filters).order_by("title")]})


@require_GET
def one_talk(request, number):
    try:
        talk = get_object_or_404(Talk, pk=number, accepted=True)
    except Http404:
        return json_response({"error": "not found"}, status=404)
    return json_response(public(talk))


talk_urlpatterns = [path("talks/", programme), path("talks/<int:number>/", one_talk)]
''' + _DJANGO_VIEWS_KEPT

# AdminSite and ModelAdmin imported by name, a list of models given to register(), list_display_links.
_DJANGO_ADMIN_REGISTER_CALL = '''
from django.contrib.admin import AdminSite, ModelAdmin

admin_site = AdminSite(name="talks_admin")


class TalkAdmin(ModelAdmin):
    list_display = ["title", "speaker", "minutes", "accepted"]
    list_display_links = ["title"]
    list_filter = ["accepted"]
    search_fields = ["title", "speaker"]
    list_per_page = 50


admin_site.register([Talk], TalkAdmin)
admin_urlpatterns = [path("admin/", admin_site.urls)]
''' + _DJANGO_ADMIN_KEPT

# ----------------------------------------------------------------------------------------------
# Pyramid
# ----------------------------------------------------------------------------------------------

# Resources as plain classes (no dict): children in an attribute, __getitem__ and __iter__ written out;
# the root's __name__ and __parent__ as class attributes (Pyramid's documented root idiom).
_PYRAMID_TREE_CLASSES = '''
class Resource:
    __name__ = ""
    __parent__ = None

    def attach(self, name, parent):
        self.__name__, self.__parent__ = name, parent
        return self


class Folder(Resource):
    def __init__(self):
        self.children = {}

    def __getitem__(self, name):
        return self.children[name]

    def __iter__(self):
        return iter(self.children)

    def __len__(self):
        return len(self.children)

    def values(self):
        return self.children.values()


class Page(Resource):
    def __init__(self, title, body):
        self.title, self.body = title, body


def build_tree(content):
    folder = Folder()
    for name, value in content.items():
        child = build_tree(value) if isinstance(value, dict) else Page(*value)
        folder.children[name] = child.attach(name, folder)
    return folder
'''

# View functions of (context, request), registered with @view_config and found by config.scan() of this
# notebook's module, in a venusian category of their own; the raw body through the "string" renderer.
_PYRAMID_VIEWS_SCAN = '''
import sys

from pyramid.view import view_config


@view_config(context=Folder, renderer="json", _category="traversal")
def show_folder(context, request):
    return {"type": "folder", "path": request.resource_path(context), "children": sorted(context)}


@view_config(context=Page, renderer="json", _category="traversal")
def show_page(context, request):
    return {"type": "page", "path": request.resource_path(context), "title": context.title}


@view_config(context=Page, name="raw", renderer="string", _category="traversal")
def show_raw(context, request):
    return context.body


def add_traversal_views(config):
    config.scan(sys.modules[__name__], categories=("traversal",))
'''

# A route declared with keywords, the view as a class with @view_defaults, found by scan(); the 400 set on
# request.response instead of raised; an explicit stack instead of recursion.
_PYRAMID_SEARCH_SCAN = '''
import sys

from pyramid.view import view_config, view_defaults


@view_defaults(route_name="search", renderer="json")
class SearchView:
    def __init__(self, request):
        self.request = request

    def pages(self):
        stack = [self.request.root]
        while stack:
            resource = stack.pop()
            if isinstance(resource, Page):
                yield resource
            else:
                stack.extend(resource[name] for name in resource)

    @view_config(request_method="GET", _category="search")
    def __call__(self):
        text = self.request.GET.get("q", "").strip()
        if text == "":
            self.request.response.status_int = 400
            return {"error": "say what to search for with ?q=..."}
        found = [page for page in self.pages() if text.casefold() in page.title.casefold()]
        results = [{"path": self.request.resource_path(page), "title": page.title} for page in found]
        return {"query": text, "results": sorted(results, key=lambda item: item["path"])}


def add_search_route(config):
    config.add_route(name="search", pattern="search")
    config.scan(sys.modules[__name__], categories=("search",))
'''

# Folder and Page both dict subclasses (a page simply has no children), built top-down.
_PYRAMID_TREE_DICTS = '''
class Folder(dict):
    def __init__(self, name, parent):
        super().__init__()
        self.__name__ = name
        self.__parent__ = parent


class Page(dict):
    """No children: looking anything up raises KeyError, as dict does."""

    def __init__(self, name, parent, title, body):
        super().__init__()
        self.__name__, self.__parent__ = name, parent
        self.title, self.body = title, body


def fill(folder, content):
    for name, value in content.items():
        if isinstance(value, tuple):
            folder[name] = Page(name, folder, *value)
        else:
            folder[name] = fill(Folder(name, folder), value)
    return folder


def build_tree(content):
    return fill(Folder("", None), content)
'''

# A view class with one method per view, registered with config.add_view(attr=...); the raw body as a
# webob Response of its own.
_PYRAMID_VIEWS_CLASS = '''
from pyramid.response import Response


class ResourceViews:
    def __init__(self, context, request):
        self.context, self.request = context, request

    def folder(self):
        return {"type": "folder", "path": self.request.resource_path(self.context),
                "children": sorted(self.context.keys())}

    def page(self):
        return {"type": "page", "path": self.request.resource_path(self.context), "title": self.context.title}

    def raw(self):
        return Response(text=self.context.body, content_type="text/plain", charset="utf-8")


def add_traversal_views(config):
    config.add_view(ResourceViews, attr="folder", context=Folder, renderer="json")
    config.add_view(ResourceViews, attr="page", context=Page, renderer="json")
    config.add_view(ResourceViews, attr="raw", context=Page, name="raw")
'''

# The route's view as (context, request) with request.context as the root; the 400 returned, not raised;
# a Response with json_body instead of a renderer.
_PYRAMID_SEARCH_RESPONSE = '''
from pyramid.response import Response


def pages_below(resource):
    if isinstance(resource, Page):
        return [resource]
    return [page for name in sorted(resource) for page in pages_below(resource[name])]


def search_view(context, request):
    query = " ".join(request.params.getall("q")).strip()
    if not query:
        return HTTPBadRequest(json_body={"error": "empty query"})
    hits = [page for page in pages_below(context) if query.lower() in page.title.lower()]
    return Response(json_body={
        "query": query,
        "results": sorted(({"path": request.resource_path(page), "title": page.title} for page in hits),
                          key=lambda hit: hit["path"]),
    })


def add_search_route(config):
    config.add_route("search", "/search", request_method="GET")
    config.add_view(search_view, route_name="search")
'''

# A Folder whose __setitem__ sets the child's __name__ and __parent__; the root's as class attributes.
_PYRAMID_TREE_SETITEM = '''
class Folder(dict):
    __name__ = ""
    __parent__ = None

    def __setitem__(self, name, child):
        child.__name__, child.__parent__ = name, self
        super().__setitem__(name, child)


class Page:
    def __init__(self, title, body):
        self.title = title
        self.body = body

    def __getitem__(self, name):
        raise KeyError(name)


def build_tree(content):
    root = Folder()
    for name, value in content.items():
        root[name] = build_tree(value) if isinstance(value, dict) else Page(*value)
    return root
'''

# Views of (context, request) registered with add_view and request_method; the raw body through the
# "string" renderer.
_PYRAMID_VIEWS_RENDERERS = '''
def folder_json(context, request):
    return {"type": "folder", "path": request.resource_path(context), "children": sorted(context)}


def page_json(context, request):
    return {"type": "page", "path": request.resource_path(context), "title": context.title}


def page_text(context, request):
    return context.body


def add_traversal_views(config):
    config.add_view(folder_json, context=Folder, renderer="json", request_method="GET")
    config.add_view(page_json, context=Page, renderer="json", request_method="GET")
    config.add_view(page_text, context=Page, name="raw", renderer="string", request_method="GET")
'''

# request.params.get with a default, a generator that recurses, the error as an HTTPBadRequest whose
# body is set by hand.
_PYRAMID_SEARCH_RECURSIVE = '''
import json


def every_page(resource):
    if isinstance(resource, Folder):
        for child in resource.values():
            yield from every_page(child)
    else:
        yield resource


def find_pages(request):
    query = (request.params.get("q") or "").strip()
    if len(query) == 0:
        raise HTTPBadRequest(text=json.dumps({"error": "missing q"}), content_type="application/json")
    needle = query.lower()
    results = sorted(
        ({"path": request.resource_path(page), "title": page.title}
         for page in every_page(request.root) if needle in page.title.lower()),
        key=lambda result: result["path"],
    )
    return {"query": query, "results": results}


def add_search_route(config):
    config.add_route("search", "/search")
    config.add_view(find_pages, route_name="search", renderer="json")
'''

CORRECT: list[dict] = [
    {
        "student": "idiom-cbv-scan",
        "what": "Django: abstract base model, db_column/db_table, validators, class-based views with re_path(), "
                "@admin.register on an AdminSite subclass; Pyramid: plain-class resources, @view_config + scan",
        "cells": {
            "django": {
                "django-model": _DJANGO_MODEL_ABSTRACT,
                "django-migrate": _DJANGO_MIGRATE_NAMED,
                "django-views": _DJANGO_VIEWS_CBV,
                "django-admin": _DJANGO_ADMIN_DECORATOR,
            },
            "pyramid": {
                "pyramid-tree": _PYRAMID_TREE_CLASSES,
                "pyramid-views": _PYRAMID_VIEWS_SCAN,
                "pyramid-search": _PYRAMID_SEARCH_SCAN,
            },
        },
    },
    {
        "student": "idiom-generic-viewclass",
        "what": "Django: Meta check constraint, generic ListView/DetailView under include(), admin.site.register "
                "with options; Pyramid: dict-subclass pages, a view class with add_view(attr=), Response objects",
        "cells": {
            "django": {
                "django-model": _DJANGO_MODEL_CONSTRAINT,
                "django-migrate": _DJANGO_MIGRATE_ALL,
                "django-views": _DJANGO_VIEWS_GENERIC,
                "django-admin": _DJANGO_ADMIN_SITE_REGISTER,
            },
            "pyramid": {
                "pyramid-tree": _PYRAMID_TREE_DICTS,
                "pyramid-views": _PYRAMID_VIEWS_CLASS,
                "pyramid-search": _PYRAMID_SEARCH_RESPONSE,
            },
        },
    },
    {
        "student": "idiom-functions-mixed",
        "what": "Django: function views with get_object_or_404 and json.dumps, admin_site.register() with "
                "list_display_links; Pyramid: __setitem__ names children, add_view with the string renderer",
        "cells": {
            "django": {
                "django-model": _DJANGO_MODEL_CONSTRAINT,
                "django-migrate": _DJANGO_MIGRATE_NAMED,
                "django-views": _DJANGO_VIEWS_FUNCTIONS,
                "django-admin": _DJANGO_ADMIN_REGISTER_CALL,
            },
            "pyramid": {
                "pyramid-tree": _PYRAMID_TREE_SETITEM,
                "pyramid-views": _PYRAMID_VIEWS_RENDERERS,
                "pyramid-search": _PYRAMID_SEARCH_RECURSIVE,
            },
        },
    },
]

# ----------------------------------------------------------------------------------------------
# Wrong submissions
# ----------------------------------------------------------------------------------------------

# The detail view forgets accepted=True: a draft is shown by its id (only the hidden views test sees it).
_WRONG_VIEWS_DRAFTS = '''
def talk_json(talk):
    return {"id": talk.id, "title": talk.title, "speaker": talk.speaker, "minutes": talk.minutes}


def list_talks(request):
    talks = Talk.objects.filter(accepted=True)
    if request.GET.get("speaker"):
        talks = talks.filter(speaker=request.GET["speaker"])
    return JsonResponse({"talks": [talk_json(talk) for talk in talks]})


def show_talk(request, talk_id):
    talk = Talk.objects.filter(pk=talk_id).first()
    if talk is None:
        return JsonResponse({"error": "no such talk"}, status=404)
    return JsonResponse(talk_json(talk))


talk_urlpatterns = [path("talks/", list_talks), path("talks/<int:talk_id>/", show_talk)]
''' + _DJANGO_VIEWS_KEPT

# The raw view keeps the JSON renderer of the other two: the body arrives as a JSON string, as
# application/json.
_WRONG_VIEWS_RAW_AS_JSON = '''
def folder_view(request):
    return {"type": "folder", "path": request.resource_path(request.context), "children": sorted(request.context)}


def page_view(request):
    return {"type": "page", "path": request.resource_path(request.context), "title": request.context.title}


def page_raw(request):
    return request.context.body


def add_traversal_views(config):
    for view, context, name in ((folder_view, Folder, ""), (page_view, Page, ""), (page_raw, Page, "raw")):
        config.add_view(view, context=context, name=name, renderer="json")
'''

# minutes as a plain IntegerField: full_clean() accepts -5. (The check-constraint model without its
# constraint, with a plain ordering and Meta before __str__.)
_WRONG_MODEL_NEGATIVE_MINUTES = edited(
    _DJANGO_MODEL_CONSTRAINT,
    ("from django.db.models import Q\n\n", ""),
    ("    def __str__(self):\n        return self.title\n\n", ""),
    ('        ordering = [models.F("title").asc()]\n'
     '        constraints = [models.CheckConstraint(condition=Q(minutes__gte=0), name="minutes_not_negative")]\n',
     '        ordering = ["title"]\n\n    def __str__(self):\n        return self.title\n'),
)

# The search compares case-sensitively.
_WRONG_SEARCH_CASE = '''
def walk_pages(resource):
    if isinstance(resource, Page):
        yield resource
    else:
        for child in resource.values():
            yield from walk_pages(child)


def search(request):
    query = request.params.get("q", "").strip()
    if not query:
        raise HTTPBadRequest(json_body={"error": "the query parameter q is required"})
    results = [{"path": request.resource_path(page), "title": page.title}
               for page in walk_pages(request.root) if query in page.title]
    return {"query": query, "results": sorted(results, key=lambda result: result["path"])}


def add_search_route(config):
    config.add_route("search", "/search")
    config.add_view(search, route_name="search", renderer="json")
'''

# speaker copied from title: 200 characters allowed instead of 100.
_WRONG_MODEL_SPEAKER_LENGTH = edited(
    _WRONG_MODEL_NEGATIVE_MINUTES,
    ("models.IntegerField(default=30)", "models.PositiveIntegerField(default=30)"),
    ("speaker = models.CharField(max_length=100)", "speaker = models.CharField(max_length=200)"),
)

# The admin searches titles only.
_WRONG_ADMIN_TITLE_SEARCH = '''
admin_site = admin.AdminSite()


@admin.register(Talk, site=admin_site)
class TalkAdmin(admin.ModelAdmin):
    list_display = ["title", "speaker", "minutes", "accepted"]
    list_filter = ["accepted"]
    search_fields = ["title"]


admin_urlpatterns = [path("admin/", admin_site.urls)]
''' + _DJANGO_ADMIN_KEPT

# The search builds paths with pyramid.traversal.resource_path: "/docs/install", without the final slash
# that request.resource_path gives.
_WRONG_SEARCH_PATHS = edited(
    _WRONG_SEARCH_CASE,
    ("def walk_pages", "from pyramid.traversal import resource_path\n\n\ndef walk_pages"),
    ("request.resource_path(page)", "resource_path(page)"),
    ("if query in page.title", "if query.lower() in page.title.lower()"),
)

# The admin has no filter sidebar.
_WRONG_ADMIN_NO_FILTER = '''
admin_site = admin.AdminSite()


class TalkAdmin(admin.ModelAdmin):
    list_display = ["title", "speaker", "minutes", "accepted"]
    search_fields = ["title", "speaker"]


admin_site.register(Talk, TalkAdmin)
admin_urlpatterns = [path("admin/", admin_site.urls)]
''' + _DJANGO_ADMIN_KEPT

# The list view ignores ?speaker=.
_WRONG_VIEWS_NO_SPEAKER = edited(
    _WRONG_VIEWS_DRAFTS,
    ("Talk.objects.filter(pk=talk_id).first()", "Talk.objects.filter(pk=talk_id, accepted=True).first()"),
    ('    if request.GET.get("speaker"):\n        talks = talks.filter(speaker=request.GET["speaker"])\n', ""),
)

# Folder keeps its children in an attribute and has no __iter__: sorted(folder) fails (the views and the
# search use folder.children, so they work).
_WRONG_TREE_NOT_ITERABLE = '''
class Folder:
    def __init__(self, name="", parent=None):
        self.__name__, self.__parent__ = name, parent
        self.children = {}

    def __getitem__(self, name):
        return self.children[name]


class Page:
    def __init__(self, name, parent, title, body):
        self.__name__, self.__parent__ = name, parent
        self.title, self.body = title, body


def build_tree(content, name="", parent=None):
    folder = Folder(name, parent)
    for child_name, value in content.items():
        if isinstance(value, dict):
            folder.children[child_name] = build_tree(value, child_name, folder)
        else:
            folder.children[child_name] = Page(child_name, folder, *value)
    return folder
'''

_WRONG_VIEWS_CHILDREN = '''
def add_traversal_views(config):
    def folder_view(context, request):
        return {"type": "folder", "path": request.resource_path(context), "children": sorted(context.children)}

    def page_view(context, request):
        return {"type": "page", "path": request.resource_path(context), "title": context.title}

    def raw_view(context, request):
        request.response.content_type = "text/plain"
        request.response.text = context.body
        return request.response

    config.add_view(folder_view, context=Folder, renderer="json")
    config.add_view(page_view, context=Page, renderer="json")
    config.add_view(raw_view, context=Page, name="raw")
'''

_WRONG_SEARCH_CHILDREN = edited(
    _WRONG_SEARCH_CASE,
    ("resource.values()", "resource.children.values()"),
    ("if query in page.title", "if query.lower() in page.title.lower()"),
)

WRONG: list[dict] = [
    {
        "student": "wrong-drafts-raw-json",
        "what": "Django: the detail view shows talks that are not accepted; Pyramid: the raw view renders JSON "
                "(which the search test sees too, at /search/raw)",
        "score": 3.0 + 0.0 + 3.0 + 3.0 + 0.0 + 0.0,
        "cells": {
            "django": {
                "django-model": _DJANGO_MODEL_CONSTRAINT,
                "django-migrate": _DJANGO_MIGRATE_NAMED,
                "django-views": _WRONG_VIEWS_DRAFTS,
                "django-admin": _DJANGO_ADMIN_DECORATOR,
            },
            "pyramid": {
                "pyramid-tree": _PYRAMID_TREE_DICTS,
                "pyramid-views": _WRONG_VIEWS_RAW_AS_JSON,
                "pyramid-search": _PYRAMID_SEARCH_RESPONSE,
            },
        },
    },
    {
        "student": "wrong-negative-case",
        "what": "Django: minutes is a plain IntegerField (negative minutes pass full_clean); Pyramid: the search "
                "is case-sensitive",
        "score": 0.0 + 4.0 + 3.0 + 3.0 + 4.0 + 0.0,
        "cells": {
            "django": {
                "django-model": _WRONG_MODEL_NEGATIVE_MINUTES,
                "django-migrate": _DJANGO_MIGRATE_ALL,
                "django-views": _DJANGO_VIEWS_GENERIC,
                "django-admin": _DJANGO_ADMIN_SITE_REGISTER,
            },
            "pyramid": {
                "pyramid-tree": _PYRAMID_TREE_CLASSES,
                "pyramid-views": _PYRAMID_VIEWS_SCAN,
                "pyramid-search": _WRONG_SEARCH_CASE,
            },
        },
    },
    {
        "student": "wrong-lengths-paths",
        "what": "Django: speaker allows 200 characters, the admin searches titles only; Pyramid: search paths "
                "from traversal.resource_path (no final slash)",
        "score": 0.0 + 4.0 + 0.0 + 3.0 + 4.0 + 0.0,
        "cells": {
            "django": {
                "django-model": _WRONG_MODEL_SPEAKER_LENGTH,
                "django-migrate": _DJANGO_MIGRATE_NAMED,
                "django-views": _DJANGO_VIEWS_CBV,
                "django-admin": _WRONG_ADMIN_TITLE_SEARCH,
            },
            "pyramid": {
                "pyramid-tree": _PYRAMID_TREE_SETITEM,
                "pyramid-views": _PYRAMID_VIEWS_RENDERERS,
                "pyramid-search": _WRONG_SEARCH_PATHS,
            },
        },
    },
    {
        "student": "wrong-filters-iteration",
        "what": "Django: ?speaker= ignored, no list_filter in the admin; Pyramid: a Folder that cannot be "
                "iterated (sorted(folder) fails)",
        "score": 3.0 + 0.0 + 0.0 + 0.0 + 4.0 + 3.0,
        "cells": {
            "django": {
                "django-model": _DJANGO_MODEL_ABSTRACT,
                "django-migrate": _DJANGO_MIGRATE_ALL,
                "django-views": _WRONG_VIEWS_NO_SPEAKER,
                "django-admin": _WRONG_ADMIN_NO_FILTER,
            },
            "pyramid": {
                "pyramid-tree": _WRONG_TREE_NOT_ITERABLE,
                "pyramid-views": _WRONG_VIEWS_CHILDREN,
                "pyramid-search": _WRONG_SEARCH_CHILDREN,
            },
        },
    },
]

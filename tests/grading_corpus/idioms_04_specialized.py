"""Submissions of assignment 04-specialized written in other idioms than the instructor's, and wrong ones.

Each entry is one student's whole submission: for every notebook (by stem), the source of every solution
cell (by grade_id). The CORRECT ones must score full marks; each WRONG one scores exactly its ``score``
out of 20 (Bottle 10: routes 4, escaping 3, error pages 3; CherryPy 10: sessions 4, gzip 3, quota 3).
"""

from __future__ import annotations

ASSIGNMENT = "04-specialized"

# ----------------------------------------------------------------------------------------------
# Bottle
# ----------------------------------------------------------------------------------------------

# Templates as plain source strings (no SimpleTemplate objects): bottle.template() and @view compile
# and cache them.
BOTTLE_TEMPLATE_STRINGS = '''
PASTE_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{title}}</title></head>
<body>
  <h1>{{title}}</h1>
  <p>Posted by <a href="/pastes/by/{{author}}">{{author}}</a></p>
  <pre>{{text}}</pre>
</body>
</html>
"""

INDEX_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Paste bin</title></head>
<body>
  <h1>All pastes</h1>
% if not pastes:
  <p>Nothing here yet.</p>
% else:
  <ul>
%   for paste in pastes:
    <li><a href="/pastes/{{paste["id"]}}">{{paste["title"]}}</a> by {{paste["author"]}}</li>
%   end
  </ul>
% end
</body>
</html>
"""

ERROR_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{status}}</title></head>
<body>
  <h1>{{status}}</h1>
  <p class="path">{{path}}</p>
  <p><a href="/">Back to all pastes</a></p>
</body>
</html>
"""
'''

# A store class; routes declared with Bottle's module-level decorators (@post, @get, @route, @error) on a
# new default app pushed for each call; @view for the HTML pages; HTTPResponse for the 201.
BOTTLE_DEFAULT_APP = '''
import bottle
from bottle import HTTPResponse, error, get, post, route, template, view


class PasteStore:
    """The pastes of one app, safe to use from the server's threads."""

    def __init__(self):
        self._pastes = []
        self._lock = threading.Lock()

    def add(self, author, title, text):
        with self._lock:
            paste = {"id": len(self._pastes) + 1, "author": author, "title": title, "text": text}
            self._pastes.append(paste)
            return paste

    def find(self, paste_id):
        with self._lock:
            for paste in self._pastes:
                if paste["id"] == paste_id:
                    return paste
        abort(404, f"no paste {paste_id}")

    def by(self, author):
        with self._lock:
            return [paste for paste in self._pastes if paste["author"] == author]

    def newest_first(self):
        with self._lock:
            return self._pastes[::-1]


def create_app():
    """Return a new Bottle app that serves the paste bin, with no pastes yet."""
    store = PasteStore()
    app = bottle.default_app.push()  # the module-level decorators register on this app until it is popped
    try:
        @post("/pastes")
        def create_paste():
            author, title, text = request.forms.author, request.forms.title.strip(), request.forms.text
            if re.fullmatch(AUTHOR_PATTERN, author) is None:
                abort(400, "invalid author")
            if not 0 < len(title) <= 100:
                abort(400, "the title needs 1 to 100 characters")
            if text == "":
                abort(400, "the text is empty")
            paste = store.add(author, title, text)
            body = {"id": paste["id"], "author": author, "title": title, "url": f"/pastes/{paste['id']}"}
            return HTTPResponse(body, status=201)

        @route("/pastes/<paste_id:int>/raw")
        def raw(paste_id):
            response.set_header("Content-Type", "text/plain; charset=utf-8")
            return store.find(paste_id)["text"]

        @get("/pastes/by/<author:re:" + AUTHOR_PATTERN + ">")
        def by_author(author):
            return {"author": author, "pastes": [{"id": p["id"], "title": p["title"]} for p in store.by(author)]}

        @get("/pastes/<paste_id:int>")
        @view(PASTE_PAGE)
        def show(paste_id):
            paste = store.find(paste_id)
            return {"title": paste["title"], "author": paste["author"], "text": paste["text"]}

        @route("/")
        def index():
            return template(INDEX_PAGE, pastes=store.newest_first())

        @error(404)
        @error(405)
        @view(ERROR_PAGE)
        def error_page(err):
            return {"status": err.status_line, "path": request.path}
    finally:
        bottle.default_app.pop()
    return app
'''

# Templates in .tpl files (a views/ folder, here a temporary one) sharing a <head> through % include,
# loaded by name from a lookup path.
BOTTLE_TEMPLATE_FILES = '''
import pathlib
import tempfile

VIEWS = pathlib.Path(tempfile.mkdtemp(prefix="pastebin-views-"))
(VIEWS / "head.tpl").write_text("""<head><meta charset="utf-8"><title>{{title}}</title></head>
""", encoding="utf-8")
(VIEWS / "paste.tpl").write_text("""<!doctype html>
<html lang="en">
% include("head.tpl", title=title)
<body>
<h1>{{title}}</h1>
<p>by <a href="/pastes/by/{{author}}">{{author}}</a></p>
<pre>{{text}}</pre>
</body>
</html>
""", encoding="utf-8")
(VIEWS / "index.tpl").write_text("""<!doctype html>
<html lang="en">
% include("head.tpl", title="Pastes")
<body>
<ol reversed>
% for paste in pastes:
<li><a href="/pastes/{{paste['id']}}">{{paste['title']}}</a> by {{paste['author']}}</li>
% end
</ol>
</body>
</html>
""", encoding="utf-8")
(VIEWS / "error.tpl").write_text("""<!doctype html>
<html lang="en">
% include("head.tpl", title=status)
<body>
<h1>{{status}}</h1>
<p class="path">{{path}}</p>
</body>
</html>
""", encoding="utf-8")

PASTE_PAGE = SimpleTemplate(name="paste", lookup=[str(VIEWS)])
INDEX_PAGE = SimpleTemplate(name="index", lookup=[str(VIEWS)])
ERROR_PAGE = SimpleTemplate(name="error", lookup=[str(VIEWS)])
'''

# A plugin (Bottle's plugin API 2) passes the pastes to every route that asks for `store`; a second
# Bottle app for everything under /pastes/ is mounted; routes registered without decorators
# (app.route(path, method, callback)), the GET routes declared for GET and HEAD explicitly (so a 405 lists
# "GET,HEAD"); error handlers registered with app.error(code, callback=...).
BOTTLE_PLUGIN_MOUNT = '''
import inspect
import json


class Pastes:
    def __init__(self):
        self.items = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    def add(self, **fields):
        with self.lock:
            paste = {"id": next(self.ids), **fields}
            self.items[paste["id"]] = paste
            return paste

    def get(self, paste_id):
        with self.lock:
            paste = self.items.get(paste_id)
        if paste is None:
            abort(404, f"there is no paste {paste_id}")
        return paste

    def all(self):
        with self.lock:
            return list(self.items.values())


class StorePlugin:
    """Gives the callback a `store` keyword argument when its signature has one."""

    name = "store"
    api = 2

    def __init__(self, store):
        self.store = store

    def apply(self, callback, route):
        if "store" not in inspect.signature(route.get_undecorated_callback()).parameters:
            return callback

        def with_store(*args, **kwargs):
            return callback(*args, store=self.store, **kwargs)

        return with_store


def create_paste(store):
    form = request.forms
    author = form.getunicode("author", default="")
    title = form.getunicode("title", default="").strip()
    text = form.getunicode("text", default="")
    problems = [
        message for failed, message in (
            (not re.fullmatch(AUTHOR_PATTERN, author), "author"),
            (not title or len(title) > 100, "title"),
            (not text, "text"),
        ) if failed
    ]
    if problems:
        abort(400, "invalid " + ", ".join(problems))
    paste = store.add(author=author, title=title, text=text)
    response.status = 201
    response.content_type = "application/json"
    return json.dumps({"id": paste["id"], "author": author, "title": title, "url": f"/pastes/{paste['id']}"})


def raw_text(paste_id, store):
    response.content_type = "text/plain; charset=utf-8"
    return store.get(paste_id)["text"]


def author_list(author, store):
    mine = [{"id": paste["id"], "title": paste["title"]} for paste in store.all() if paste["author"] == author]
    return {"author": author, "pastes": mine}


def paste_page(paste_id, store):
    paste = store.get(paste_id)
    return PASTE_PAGE.render(title=paste["title"], author=paste["author"], text=paste["text"])


def index_page(store):
    return INDEX_PAGE.render(pastes=sorted(store.all(), key=lambda paste: -paste["id"]))


def error_page(error):
    return ERROR_PAGE.render(status=error.status_line, path=request.path)


def create_app():
    """Return a new Bottle app that serves the paste bin, with no pastes yet."""
    app = Bottle()
    pastes = Bottle()  # mounted at /pastes/ below
    plugin = StorePlugin(Pastes())
    for each in (app, pastes):
        each.install(plugin)  # a mounted app keeps its own plugins
    app.route("/pastes", "POST", create_paste)
    app.route("/", ["GET", "HEAD"], index_page)
    pastes.route("/<paste_id:int>/raw", ["GET", "HEAD"], raw_text)
    pastes.route(f"/by/<author:re:{AUTHOR_PATTERN}>", "GET", author_list)
    pastes.route("/<paste_id:int>", ["GET", "HEAD"], paste_page)
    app.mount("/pastes/", pastes)
    for code in (404, 405):
        app.error(code, callback=error_page)
    return app
'''

# SimpleTemplate objects with <% %> code blocks instead of % lines.
BOTTLE_TEMPLATE_BLOCKS = '''
PAGE_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{page_title}}</title></head>
"""

PASTE_PAGE = SimpleTemplate(PAGE_HEAD.replace("page_title", "title") + """<body>
<h1>{{title}}</h1>
<p class="author">by <a href="/pastes/by/{{author}}">{{author}}</a></p>
<pre>{{text}}</pre>
</body></html>""")

INDEX_PAGE = SimpleTemplate(PAGE_HEAD.replace("{{page_title}}", "Pastes") + """<body>
<ul>
<% for paste in pastes: %>
<li><a href="/pastes/{{paste['id']}}">{{paste['title']}}</a> by {{paste['author']}}</li>
<% end %>
</ul>
</body></html>""")

ERROR_PAGE = SimpleTemplate(PAGE_HEAD.replace("page_title", "status") + """<body>
<h1>{{status}}</h1>
<p class="path">{{path}}</p>
</body></html>""")
'''

# A subclass of Bottle whose bound methods are the routes, registered in __init__ with get()/post()
# called as functions; one error handler for every status in error_handler.
BOTTLE_SUBCLASS = '''
from bottle import HTTPError, HTTPResponse


class PasteBin(Bottle):
    """A Bottle app that is its own paste store."""

    def __init__(self):
        super().__init__()
        self.pastes = []
        self.lock = threading.RLock()
        self.post("/pastes", callback=self.create)
        self.get("/pastes/<paste_id:int>/raw", callback=self.raw)
        self.get(f"/pastes/by/<author:re:{AUTHOR_PATTERN}>", callback=self.by_author)
        self.get("/pastes/<paste_id:int>", callback=self.page)
        self.get("/", callback=self.index)
        self.error_handler.update({404: self.error_page, 405: self.error_page})

    def find(self, paste_id):
        with self.lock:
            if 1 <= paste_id <= len(self.pastes):
                return self.pastes[paste_id - 1]
        raise HTTPError(404, f"no paste {paste_id}")

    def create(self):
        fields = {name: request.forms.getunicode(name) or "" for name in ("author", "title", "text")}
        fields["title"] = fields["title"].strip()
        valid = (re.fullmatch(AUTHOR_PATTERN, fields["author"]) and 1 <= len(fields["title"]) <= 100
                 and len(fields["text"]) > 0)
        if not valid:
            raise HTTPError(400, "author, title or text is invalid")
        with self.lock:
            paste = {"id": len(self.pastes) + 1, **fields}
            self.pastes.append(paste)
        response.status = 201
        return {"id": paste["id"], "author": paste["author"], "title": paste["title"], "url": f"/pastes/{paste['id']}"}

    def raw(self, paste_id):
        text = self.find(paste_id)["text"]
        return HTTPResponse(text, headers={"Content-Type": "text/plain; charset=utf-8"})

    def by_author(self, author):
        with self.lock:
            mine = [{"id": p["id"], "title": p["title"]} for p in self.pastes if p["author"] == author]
        return dict(author=author, pastes=mine)

    def page(self, paste_id):
        return PASTE_PAGE.render(**self.find(paste_id))

    def index(self):
        with self.lock:
            newest_first = list(reversed(self.pastes))
        return INDEX_PAGE.render(pastes=newest_first)

    def error_page(self, error):
        return ERROR_PAGE.render(status=error.status_line, path=request.path)


def create_app():
    """Return a new Bottle app that serves the paste bin, with no pastes yet."""
    return PasteBin()
'''

# ----------------------------------------------------------------------------------------------
# CherryPy
# ----------------------------------------------------------------------------------------------

# The session holds how many requests are left (setdefault), not how many were made.
CHERRYPY_QUOTA_LEFT = '''
def enforce_quota(limit):
    """Tool body (before_handler): let a client make `limit` requests, then answer 429."""
    left = cherrypy.session.setdefault("quota_left", limit)
    if left <= 0:
        raise cherrypy.HTTPError(429, "Too Many Requests: the quota of this client is used up")
    cherrypy.session["quota_left"] = left - 1
'''

# Tools switched on in the class's _cp_config and with decorators on the handlers; JSON written by hand.
CHERRYPY_CP_CONFIG_SITE = '''
import json


def send_json(data):
    cherrypy.response.headers["Content-Type"] = "application/json"
    return json.dumps(data).encode("utf-8")


class Site:
    _cp_config = {
        "request.show_tracebacks": False,
        "tools.sessions.on": True,
        "tools.sessions.httponly": True,
        "tools.sessions.clean_freq": 0,
    }

    @cherrypy.expose
    def index(self):
        cherrypy.session["visits"] = cherrypy.session.get("visits", 0) + 1
        return send_json({"visits": cherrypy.session["visits"]})

    @cherrypy.expose
    def reset(self):
        cherrypy.session.pop("visits", None)
        return send_json({"visits": 0})

    @cherrypy.expose
    @cherrypy.tools.gzip(mime_types=["text/csv"])
    def report(self):
        cherrypy.response.headers["Content-Type"] = "text/csv; charset=utf-8"
        return make_report()

    @cherrypy.expose
    @cherrypy.tools.quota(limit=SEARCH_QUOTA)
    def search(self, q=""):
        return send_json({"query": q})
'''

CHERRYPY_TREE_MOUNT = '''
def create_app():
    """A new CherryPy application for the site; its tools are configured on the classes."""
    return cherrypy.tree.mount(Site(), "")  # returns the new Application (the engine is never started)
'''

# A list of request times in the session.
CHERRYPY_QUOTA_LIST = '''
import time


def enforce_quota(limit):
    """Tool body (before_handler): let a client make `limit` requests, then answer 429."""
    made = cherrypy.session.get("quota_requests", [])
    if len(made) >= limit:
        raise cherrypy.HTTPError(429, f"{len(made)} requests made, the limit is {limit}")
    cherrypy.session["quota_requests"] = made + [time.time()]
'''

# REST-style resources for the MethodDispatcher (exposed classes with GET methods).
CHERRYPY_METHOD_DISPATCHER = '''
@cherrypy.expose
class Reset:
    def GET(self):
        cherrypy.session.clear()
        cherrypy.session.regenerate()  # a new session id, and a new cookie
        return {"visits": 0}


@cherrypy.expose
class Report:
    def GET(self):
        cherrypy.response.headers["Content-Type"] = "text/csv"
        return make_report()


@cherrypy.expose
class Search:
    def GET(self, q=""):
        return {"query": q}


@cherrypy.expose
class Site:
    reset = Reset()
    report = Report()
    search = Search()

    def GET(self):
        visits = cherrypy.session["visits"] = cherrypy.session.get("visits", 0) + 1
        return {"visits": visits}
'''

# The configuration as the text of an INI-style config file (read from a file object).
CHERRYPY_CONFIG_FILE = '''
import io

CONFIG_FILE = f"""
[/]
request.dispatch = cherrypy.dispatch.MethodDispatcher()
request.show_tracebacks = False
tools.sessions.on = True
tools.sessions.httponly = True
tools.sessions.clean_freq = 0
tools.json_out.on = True

[/report]
tools.json_out.on = False
tools.gzip.on = True
tools.gzip.mime_types = ["text/*"]

[/search]
tools.quota.on = True
tools.quota.limit = {SEARCH_QUOTA}
"""


def create_app():
    """A new CherryPy application for the site, configured from a config file."""
    return cherrypy.Application(Site(), "", io.StringIO(CONFIG_FILE))
'''

# The quota tool re-registered at another hook point (before_request_body, after the session is loaded),
# counting in a per-path key.
CHERRYPY_QUOTA_PER_PATH = '''
def enforce_quota(limit):
    """Tool body: let a client make `limit` requests to this path, then answer 429."""
    key = "quota:" + cherrypy.request.path_info
    cherrypy.session[key] = cherrypy.session.get(key, 0) + 1
    if cherrypy.session[key] > limit:
        raise cherrypy.HTTPError(429)
'''

# A default() handler that routes by path; config merged into the Application afterwards; the quota tool
# registered again, at another hook point.
CHERRYPY_DEFAULT_HANDLER = '''
# sessions.init runs at before_request_body with priority 50: run the quota after it, before the body is read
cherrypy.tools.quota = cherrypy.Tool("before_request_body", enforce_quota, priority=70)


class Site:
    @cherrypy.expose
    def default(self, *segments, **params):
        page = "/".join(segments)
        if page == "":
            cherrypy.session["visits"] = cherrypy.session.get("visits", 0) + 1
            return {"visits": cherrypy.session["visits"]}
        if page == "reset":
            cherrypy.lib.sessions.expire()
            return {"visits": 0}
        if page == "search":
            return {"query": params.get("q", "")}
        raise cherrypy.NotFound()

    @cherrypy.expose
    def report(self):
        cherrypy.response.headers["Content-Type"] = "text/csv"
        return make_report()

    default._cp_config = {"tools.json_out.on": True}
'''

CHERRYPY_MERGE = '''
def create_app():
    """A new CherryPy application for the site, with its tools configured per path."""
    app = cherrypy.Application(Site())
    app.merge({"/": {"request.show_tracebacks": False}})
    app.merge({
        "/": {"tools.sessions.on": True, "tools.sessions.httponly": True, "tools.sessions.clean_freq": 0},
        "/report": {"tools.gzip.on": True, "tools.gzip.mime_types": ["text/csv", "application/json"]},
        "/search": {"tools.quota.on": True, "tools.quota.limit": SEARCH_QUOTA},
    })
    return app
'''

CORRECT: list[dict] = [
    {
        "student": "idiom-defaultapp-cpconfig",
        "what": "Bottle: template source strings, default-app stack with module-level @post/@get/@route/@error, "
                "@view, HTTPResponse; CherryPy: quota left in session.setdefault, _cp_config + tool decorators, "
                "hand-written JSON, cherrypy.tree.mount",
        "cells": {
            "bottle": {"bottle-templates": BOTTLE_TEMPLATE_STRINGS, "bottle-create-app": BOTTLE_DEFAULT_APP},
            "cherrypy": {"cherrypy-quota": CHERRYPY_QUOTA_LEFT, "cherrypy-site": CHERRYPY_CP_CONFIG_SITE,
                         "cherrypy-create-app": CHERRYPY_TREE_MOUNT},
        },
    },
    {
        "student": "idiom-files-methoddispatcher",
        "what": "Bottle: .tpl files with % include, a plugin, a mounted sub-app, app.route(path, method, callback), "
                "GET+HEAD declared (Allow: GET,HEAD); CherryPy: MethodDispatcher with exposed classes, "
                "an INI config file, json_out by config, gzip for text/*",
        "cells": {
            "bottle": {"bottle-templates": BOTTLE_TEMPLATE_FILES, "bottle-create-app": BOTTLE_PLUGIN_MOUNT},
            "cherrypy": {"cherrypy-quota": CHERRYPY_QUOTA_LIST, "cherrypy-site": CHERRYPY_METHOD_DISPATCHER,
                         "cherrypy-create-app": CHERRYPY_CONFIG_FILE},
        },
    },
    {
        "student": "idiom-subclass-default-handler",
        "what": "Bottle: <% %> template blocks, a Bottle subclass with bound-method callbacks, error_handler dict; "
                "CherryPy: per-path quota re-registered at before_request_body, one default() handler, "
                "Application.merge",
        "cells": {
            "bottle": {"bottle-templates": BOTTLE_TEMPLATE_BLOCKS, "bottle-create-app": BOTTLE_SUBCLASS},
            "cherrypy": {"cherrypy-quota": CHERRYPY_QUOTA_PER_PATH, "cherrypy-site": CHERRYPY_DEFAULT_HANDLER,
                         "cherrypy-create-app": CHERRYPY_MERGE},
        },
    },
]

# ----------------------------------------------------------------------------------------------
# Plausible mistakes (each built from a correct variant above, with one thing changed)
# ----------------------------------------------------------------------------------------------

# request.forms.get() gives the form's bytes decoded as Latin-1: "Café" comes back as "CafÃ©".
BOTTLE_FORMS_GET = BOTTLE_DEFAULT_APP.replace(
    "request.forms.author, request.forms.title.strip(), request.forms.text",
    'request.forms.get("author", ""), request.forms.get("title", "").strip(), request.forms.get("text", "")',
)

# {{!text}} "to keep the code's formatting": the text is inserted raw, <script> and all.
BOTTLE_RAW_PRE = BOTTLE_TEMPLATE_BLOCKS.replace("<pre>{{text}}</pre>", "<pre>{{!text}}</pre>")

# The error handler registered for 404 only: a 405 gets Bottle's own error page.
BOTTLE_404_ONLY = BOTTLE_DEFAULT_APP.replace("        @error(404)\n        @error(405)\n", "        @error(404)\n")

# One store for the whole notebook instead of one per create_app() call.
BOTTLE_SHARED_STORE = BOTTLE_DEFAULT_APP.replace("    store = PasteStore()\n", "").replace(
    "\n\ndef create_app():", "\n\nstore = PasteStore()  # created once\n\n\ndef create_app():"
)

# gzip switched on for /report but without mime_types: text/csv is not among its defaults.
CHERRYPY_GZIP_DEFAULT_TYPES = CHERRYPY_CONFIG_FILE.replace('tools.gzip.mime_types = ["text/*"]\n', "")

# The tool ignores its limit argument and always allows SEARCH_QUOTA requests.
CHERRYPY_QUOTA_CONSTANT = CHERRYPY_QUOTA_LEFT.replace('setdefault("quota_left", limit)',
                                                      'setdefault("quota_left", SEARCH_QUOTA)')

# /reset answers {"visits": 0} but leaves the session's count as it was.
CHERRYPY_RESET_NOTHING = CHERRYPY_CP_CONFIG_SITE.replace('        cherrypy.session.pop("visits", None)\n', "")

BOTTLE_DEFAULT_APP_CELLS = {"bottle-templates": BOTTLE_TEMPLATE_STRINGS, "bottle-create-app": BOTTLE_DEFAULT_APP}
BOTTLE_SUBCLASS_CELLS = {"bottle-templates": BOTTLE_TEMPLATE_BLOCKS, "bottle-create-app": BOTTLE_SUBCLASS}
CHERRYPY_CP_CONFIG_CELLS = {"cherrypy-quota": CHERRYPY_QUOTA_LEFT, "cherrypy-site": CHERRYPY_CP_CONFIG_SITE,
                            "cherrypy-create-app": CHERRYPY_TREE_MOUNT}
CHERRYPY_DISPATCHER_CELLS = {"cherrypy-quota": CHERRYPY_QUOTA_LIST, "cherrypy-site": CHERRYPY_METHOD_DISPATCHER,
                             "cherrypy-create-app": CHERRYPY_CONFIG_FILE}

WRONG: list[dict] = [
    {
        "student": "wrong-forms-get",
        "what": "Bottle reads the form with request.forms.get(): non-ASCII titles and texts come back mangled "
                "(routes test, 4 points)",
        "score": 16.0,
        "cells": {
            "bottle": {**BOTTLE_DEFAULT_APP_CELLS, "bottle-create-app": BOTTLE_FORMS_GET},
            "cherrypy": CHERRYPY_CP_CONFIG_CELLS,
        },
    },
    {
        "student": "wrong-raw-pre",
        "what": "{{!text}} in the paste page's <pre>: the text is not escaped (escaping test, 3 points)",
        "score": 17.0,
        "cells": {
            "bottle": {**BOTTLE_SUBCLASS_CELLS, "bottle-templates": BOTTLE_RAW_PRE},
            "cherrypy": CHERRYPY_DISPATCHER_CELLS,
        },
    },
    {
        "student": "wrong-gzip-default-types",
        "what": "gzip on for /report without mime_types, so text/csv is sent uncompressed (gzip test, 3 points)",
        "score": 17.0,
        "cells": {
            "bottle": BOTTLE_SUBCLASS_CELLS,
            "cherrypy": {**CHERRYPY_DISPATCHER_CELLS, "cherrypy-create-app": CHERRYPY_GZIP_DEFAULT_TYPES},
        },
    },
    {
        "student": "wrong-quota-constant",
        "what": "the quota tool uses SEARCH_QUOTA instead of its limit argument (quota test, 3 points)",
        "score": 17.0,
        "cells": {
            "bottle": BOTTLE_DEFAULT_APP_CELLS,
            "cherrypy": {**CHERRYPY_CP_CONFIG_CELLS, "cherrypy-quota": CHERRYPY_QUOTA_CONSTANT},
        },
    },
    {
        "student": "wrong-404-only-reset-nothing",
        "what": "Bottle's error page registered for 404 only (error pages test, 3 points); CherryPy's /reset does "
                "not reset the count (sessions test, 4 points)",
        "score": 13.0,
        "cells": {
            "bottle": {**BOTTLE_DEFAULT_APP_CELLS, "bottle-create-app": BOTTLE_404_ONLY},
            "cherrypy": {**CHERRYPY_CP_CONFIG_CELLS, "cherrypy-site": CHERRYPY_RESET_NOTHING},
        },
    },
    {
        "student": "wrong-shared-store",
        "what": "one Bottle store for every create_app() call: a new app still has the old pastes "
                "(routes test 4 and escaping test 3 points)",
        "score": 13.0,
        "cells": {
            "bottle": {**BOTTLE_DEFAULT_APP_CELLS, "bottle-create-app": BOTTLE_SHARED_STORE},
            "cherrypy": CHERRYPY_CP_CONFIG_CELLS,
        },
    },
]

"""Sphinx extension: the book renders its ipywidgets with no network, and with no script errors.

myst-nb adds the widget JavaScript (``nb_ipywidgets_js``) only to pages whose notebook saved
widget state, once per page. By default those are RequireJS and the
``@jupyter-widgets/html-manager`` bundle from two CDNs. ``_config.yml`` points
``nb_ipywidgets_js`` at copies vendored in ``book/_vendor`` instead; this extension

* copies ``book/_vendor`` (scripts, icon fonts and their licences; not the README) to
  ``_static/backendlab/`` of the HTML output when the builder starts, so Sphinx gives the
  files cache-busting checksums;
* writes ``_static/backendlab/widgets-setup.js``, loaded between ``require.js`` and
  ``embed-amd.js``: it maps the ``@jupyter-widgets/*`` AMD modules to the bundle's folder (the
  bundle finds its Font Awesome fonts next to its modules' URLs, by default the page's folder)
  and points html-manager's module fallback (normally jsDelivr) at this site;
* fails the build if a file listed in ``nb_ipywidgets_js`` is missing, and warns (an error
  with ``--warningiserror``) if one is a remote URL;
* removes duplicate ``<script>`` tags from every page (see :func:`drop_duplicate_scripts`);
* adds a small stylesheet for the chooser's static comparison table.

The vendored bundle already contains ``@jupyter-widgets/base``, ``controls`` and ``output``:
every widget ipywidgets itself provides renders from it, over http and from ``file://``.

Enabled in ``_config.yml`` with ``sphinx: extra_extensions: [backendlab.sphinx_widgets]``.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Folder of the HTML output (under ``_static``) that receives the vendored files.
STATIC_SUBDIR = "backendlab"

SETUP_JS_NAME = "widgets-setup.js"

SETUP_JS = """\
/* Backend Lab: the Jupyter widget manager loads everything from this site.
   Loaded after require.js and before embed-amd.js, only on pages with widgets.
   Written by backendlab.sphinx_widgets; edit it there. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || typeof window.requirejs === "undefined") {
    return;
  }
  var base = new URL(".", script.src).href;  // .../_static/backendlab/ (works from file:// too)
  var bundle = new URL(BUNDLE_DIR + "/", base).href;
  // embed-amd.js defines its AMD modules (@jupyter-widgets/base, controls, output, html-manager)
  // inline, and takes the folder of its icon fonts from those modules' URLs: map them to the
  // folder that holds the bundle and the fonts, instead of the page's own folder.
  window.requirejs.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": bundle.slice(0, -1),
      "@jupyter-widgets": bundle.slice(0, -1)
    }
  });
  // Any other widget module would be fetched from <cdn><package>@<version>/dist/index.js (by
  // default jsDelivr): point that fallback at this site, where a vendored copy would live.
  script.setAttribute("data-jupyter-widgets-cdn", base + "npm/");
})();
"""


STYLE_CSS_NAME = "backendlab.css"

STYLE_CSS = """\
/* Backend Lab: the chooser's static comparison table (backendlab.chooser.comparison_table_html),
   compact enough for the text column; wider screens scroll it sideways inside its output.
   Written by backendlab.sphinx_widgets; edit it there. */
table.backendlab-comparison { font-size: 0.8rem; line-height: 1.3; border-collapse: collapse;
  /* The theme's own colours, in light and dark mode alike (notebook output styles would otherwise
     give dark text on the dark theme's row shading: axe's color-contrast rule). */
  color: var(--pst-color-text-base); background: var(--pst-color-background); }
table.backendlab-comparison caption { color: var(--pst-color-text-base); }
table.backendlab-comparison caption { caption-side: top; text-align: left; font-weight: 600; }
table.backendlab-comparison th,
table.backendlab-comparison td { padding: 0.25rem 0.4rem; vertical-align: top; text-align: left; }
table.backendlab-comparison thead th { border-bottom: 2px solid var(--pst-color-border, #ccc); }
table.backendlab-comparison tbody tr:nth-child(odd) { background: var(--pst-color-surface, #f5f5f5); }
table.backendlab-comparison tfoot td { font-size: 0.75rem; color: var(--pst-color-text-base); }
/* The chooser (backendlab.chooser.chooser_html): the theme's colours too, so its evidence links
   keep their contrast in dark mode, where notebook outputs get a light background. */
form.backendlab-chooser { color: var(--pst-color-text-base); background: var(--pst-color-background);
  padding: 0.5rem; font-size: 0.9rem; }
form.backendlab-chooser a { color: var(--pst-color-link); }
form.backendlab-chooser fieldset { border: 1px solid var(--pst-color-border, #ccc); margin: 0 0 0.5rem;
  padding: 0.25rem 0.75rem; }
form.backendlab-chooser legend { font-weight: 600; font-size: 0.9rem; width: auto; float: none; }
form.backendlab-chooser label { display: inline-block; margin: 0.1rem 1rem 0.1rem 0; }
/* Links in light-mode admonitions (Try it, Fact check): the theme's link blue on the boxes' tinted
   backgrounds falls below 4.5:1 (axe's color-contrast rule); a darker blue keeps them readable. */
html[data-theme="light"] div.admonition a:not(.headerlink) { color: #0b4fb3; }
"""


def _vendor_dir(app: Sphinx) -> Path:
    return (Path(app.srcdir) / app.config.backendlab_vendor_dir).resolve()


def _bundle_dir(app: Sphinx) -> str:
    """The folder of embed-amd.js, relative to ``_static/backendlab``."""
    prefix = STATIC_SUBDIR + "/"
    for path in app.config.nb_ipywidgets_js:
        if path.startswith(prefix) and path.endswith("/embed-amd.js"):
            return posixpath.dirname(path[len(prefix) :])
    raise ExtensionError(
        f"backendlab.sphinx_widgets: nb_ipywidgets_js must list {prefix}<folder>/embed-amd.js "
        f"(the vendored @jupyter-widgets/html-manager bundle); it lists {list(app.config.nb_ipywidgets_js)}"
    )


def copy_vendored_assets(app: Sphinx) -> None:
    """Copy the vendored widget JavaScript into ``_static/backendlab`` and check the config."""
    if app.builder is None or app.builder.format != "html":
        return
    source = _vendor_dir(app)
    if not source.is_dir():
        raise ExtensionError(f"backendlab.sphinx_widgets: vendored assets folder {source} does not exist")
    static = Path(app.outdir) / "_static"
    target = static / STATIC_SUBDIR
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md", ".*"))
    setup_js = SETUP_JS.replace("BUNDLE_DIR", json.dumps(_bundle_dir(app)))
    (target / SETUP_JS_NAME).write_text(setup_js, encoding="utf-8")
    (target / STYLE_CSS_NAME).write_text(STYLE_CSS, encoding="utf-8")

    for path in app.config.nb_ipywidgets_js:
        if "://" in path or path.startswith("//"):
            logger.warning(
                "nb_ipywidgets_js loads %s from the network; the book vendors its widget JavaScript "
                "in %s (see its README)",
                path,
                app.config.backendlab_vendor_dir,
                type="backendlab",
                subtype="remote_js",
            )
        elif not (static / path).is_file():
            raise ExtensionError(
                f"backendlab.sphinx_widgets: nb_ipywidgets_js lists {path!r}, "
                f"but _static/{path} is not in the build (vendored files come from {source})"
            )


def _script_key(script: Any) -> tuple[str, int, tuple[tuple[str, str], ...]]:
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), getattr(script, "priority", 500), tuple(sorted(attributes.items())))


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Keep the first of identical ``<script>`` tags on a page.

    Sphinx 7.4 registers an inline script (``add_js_file(None, body=...)``) added after the
    builder started once as ``filename=None`` and once as ``filename=""``, so sphinx-thebe's
    ``const THEBE_JS_URL = ...`` appeared twice on every page: a SyntaxError ("Identifier
    'THEBE_JS_URL' has already been declared") in every browser.
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple[str, int, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("backendlab_vendor_dir", "book/_vendor", "html", types=[str])
    # After myst-nb has read its configuration (it connects to builder-inited too).
    app.connect("builder-inited", copy_vendored_assets, priority=900)
    app.add_css_file(f"{STATIC_SUBDIR}/{STYLE_CSS_NAME}")
    # After every extension (myst-nb's per-page widget scripts included) added its scripts.
    app.connect("html-page-context", drop_duplicate_scripts, priority=990)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: a Markdown link to a glossary entry becomes a real glossary reference.

Chapters link glossary terms as ``[WSGI](../book/glossary.md#term-WSGI)``: JupyterLab opens the
glossary from such a link, while jupyterlab-myst renders the ``{term}`` role as a link that goes
nowhere (there is no glossary inside a notebook). In the book, MyST would resolve the link to
the page but warn that ``term-WSGI`` is not a heading of it. This post-transform runs just before
MyST's resolver and turns each such link into the ``term`` reference the ``{term}`` role makes,
so Sphinx checks the term exists (a typo is a warning, an error with ``--warningiserror``) and
the link shows the glossary's tooltip and style.

Enabled in ``_config.yml`` (``extra_extensions``).
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

GLOSSARY_DOC = "book/glossary"
ID_PREFIX = "term-"


class GlossaryLinks(SphinxPostTransform):
    """``[text](…glossary.md#term-X)`` → ``:term:`text <X>``` before MyST resolves it."""

    default_priority = 8  # MyST's resolver is 9, Sphinx's own 10

    def run(self, **kwargs: Any) -> None:
        std = self.env.get_domain("std")
        by_id = {node_id: name for (kind, name), (_doc, node_id) in std.objects.items() if kind == "term"}
        for node in list(self.document.findall(addnodes.pending_xref)):
            target_id = node.get("reftargetid") or ""
            if node.get("reftarget") != GLOSSARY_DOC or not target_id.startswith(ID_PREFIX):
                continue
            term = by_id.get(target_id)
            if term is None:
                logger.warning("glossary link to %r: the glossary has no such term", target_id,
                               location=node, type="backendlab", subtype="glossary")
                continue
            node["refdomain"], node["reftype"], node["reftarget"] = "std", "term", term
            node["refexplicit"] = True
            for inner in node.findall(nodes.inline):
                inner["classes"] = [c for c in inner["classes"] if c not in ("std-doc", "std-ref")] + ["std-term"]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(GlossaryLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""The book's configuration for where it is built: repository links and launch buttons.

``_config.yml`` holds everything but the addresses that differ per copy of the course. This
module writes the configuration ``jupyter-book build --config`` reads (``make book`` and the
book test use it), filling them from the environment:

``BOOK_REPOSITORY``
    ``owner/name`` on GitHub. Defaults to ``GITHUB_REPOSITORY``, which GitHub Actions sets to the
    repository the workflow runs in, then to the ``origin`` remote if it is on GitHub. With none
    of these (a local copy without a GitHub remote), the book has no repository, Binder or
    issues links rather than links to a repository that is not this one.
``BOOK_BRANCH``
    The branch the links and Binder use. Defaults to ``GITHUB_REF_NAME``, then ``main``.
``BOOK_JUPYTERHUB_URL``
    The course's JupyterHub. The JupyterHub launch button appears only when it is set.

::

    python -m backendlab.book_config _build/config.yml   # prints what it chose
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB_REMOTE = re.compile(r"github\.com[:/]([\w.-]+/[\w.-]+?)(?:\.git)?/?$")
OWNER_NAME = re.compile(r"^[\w.-]+/[\w.-]+$")


def origin_repository(root: Path = ROOT) -> str | None:
    """``owner/name`` of the ``origin`` remote, if it is on GitHub."""
    try:
        url = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    found = GITHUB_REMOTE.search(url)
    return found.group(1) if found else None


def book_config(environ: dict[str, str] | None = None, root: Path = ROOT) -> dict[str, Any]:
    """``_config.yml`` with the repository, branch and JupyterHub of this build."""
    environ = dict(os.environ if environ is None else environ)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repository = environ.get("BOOK_REPOSITORY") or environ.get("GITHUB_REPOSITORY") or origin_repository(root)
    if repository and not OWNER_NAME.match(repository):
        raise ValueError(f"BOOK_REPOSITORY must be owner/name on GitHub, not {repository!r}")
    branch = environ.get("BOOK_BRANCH") or environ.get("GITHUB_REF_NAME") or "main"
    html = config.setdefault("html", {})
    launch = config.setdefault("launch_buttons", {})
    if repository:
        config["repository"] = {"url": f"https://github.com/{repository}", "branch": branch}
    else:
        config.pop("repository", None)
        html["use_repository_button"] = False
        html["use_issues_button"] = False
        html["use_edit_page_button"] = False
        launch.pop("binderhub_url", None)  # Binder and Thebe build a repository: without one, nothing to build
        launch["thebe"] = False
    substitutions = config.setdefault("parse", {}).setdefault("myst_substitutions", {})
    substitutions["repository_link"] = (
        f"[github.com/{repository}](https://github.com/{repository})" if repository
        else "the course's repository (your instructor has its address)"
    )
    hub = environ.get("BOOK_JUPYTERHUB_URL", "").strip()
    if hub:
        if not hub.startswith("https://"):
            raise ValueError(f"BOOK_JUPYTERHUB_URL must be an https:// address, not {hub!r}")
        launch["jupyterhub_url"] = hub
    else:
        launch.pop("jupyterhub_url", None)
    return config


def write_book_config(path: Path, environ: dict[str, str] | None = None, root: Path = ROOT) -> dict[str, Any]:
    config = book_config(environ, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by backendlab.book_config from _config.yml; edit that file.\n"
                    + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return config


def build_book(output: Path, environ: dict[str, str] | None = None, *, strict: bool = True,
               root: Path = ROOT) -> subprocess.CompletedProcess:
    """``jupyter-book build`` into ``output`` with this build's configuration (as ``make book``)."""
    config = output / "config.yml"
    write_book_config(config, environ, root)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(root), "--config", str(config),
               "--path-output", str(output), "--quiet"]
    if strict:
        command += ["--warningiserror", "--nitpick"]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the configuration")
    args = parser.parse_args(argv)
    config = write_book_config(args.output)
    repository = config.get("repository", {}).get("url", "none (no GitHub remote: set BOOK_REPOSITORY=owner/name)")
    hub = config.get("launch_buttons", {}).get("jupyterhub_url", "none (set BOOK_JUPYTERHUB_URL to add the button)")
    print(f"book links: repository {repository}; JupyterHub {hub}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

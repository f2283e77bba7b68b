"""The course as two downloads for readers offline or on paper: one PDF and one zip.

``python -m backendlab.book_downloads _build/html`` (run by ``make book`` after the HTML build)
writes into ``<html>/downloads/``:

``backend-lab.pdf``
    The whole book: Jupyter Book's single-page HTML build, printed by Debian's Chromium through
    Playwright (``executable_path``; no browser is downloaded) with the network switched off.
``backend-lab-notebooks.zip``
    What a learner needs to run the course on their machine: the chapter notebooks, the
    exercises, the ``backendlab`` package and the files that install it (``make lab`` works in
    the unpacked folder). Not the solutions, nor the tests (their corpus holds solutions).

The landing page links to both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from backendlab.book_config import ROOT, write_book_config

PDF_NAME = "backend-lab.pdf"
ZIP_NAME = "backend-lab-notebooks.zip"
# What the zip holds, relative to the course folder (folders recursively).
ZIP_CONTENTS = ("README.md", "Makefile", "requirements.txt", "requirements.in", "pyproject.toml",
                "environment.yml", "nbgrader_config.py", "lab-settings", "notebooks", "exercises", "src/backendlab")
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
# Flags for Chromium on a machine with no network but the package registries (the browser tests use them too).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """Debian's Chromium (or ``BACKENDLAB_CHROMIUM``), or None; never a downloaded one."""
    for candidate in (os.environ.get("BACKENDLAB_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def chromium() -> str:
    path = chromium_path()
    if path is None:
        raise FileNotFoundError("no Chromium to print the PDF with: install Debian's package "
                                "(apt-get install chromium)")
    return path


def build_single_page(output: Path, root: Path = ROOT) -> Path:
    """The book as one HTML page (``course.html`` next to its ``_static`` and ``_images``)."""
    config = output / "config.yml"
    write_book_config(config, root=root)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(root), "--config", str(config),
               "--path-output", str(output), "--builder", "singlehtml", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"the single-page build failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    site = output / "_build" / "singlehtml"
    # Jupyter Book writes the page to book/index.html with links written for the site's root.
    page = site / "course.html"
    shutil.copyfile(site / "book" / "index.html", page)
    return page


def print_pdf(page: Path, pdf: Path) -> None:
    """Print ``page`` to ``pdf`` in headless Chromium, offline."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True)
            tab = context.new_page()
            tab.goto(page.as_uri(), wait_until="load")
            tab.emulate_media(media="print")
            pdf.parent.mkdir(parents=True, exist_ok=True)
            tab.pdf(path=str(pdf), format="A4", print_background=True,
                    margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
        finally:
            browser.close()


def write_zip(archive: Path, root: Path = ROOT) -> int:
    """The notebooks, exercises and course package as one zip; return how many files it holds."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in ZIP_CONTENTS:
            path = root / name
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                relative = file.relative_to(root)
                if SKIPPED_PARTS & set(relative.parts):
                    continue
                info = zipfile.ZipInfo(f"backend-lab/{relative}", date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, file.read_bytes())
                count += 1
    return count


def write_downloads(html: Path, root: Path = ROOT) -> dict[str, Path]:
    """Both downloads into ``html/downloads``; return their paths."""
    downloads = html / "downloads"
    with tempfile.TemporaryDirectory(prefix="backendlab-pdf-") as folder:
        page = build_single_page(Path(folder), root)
        print_pdf(page, downloads / PDF_NAME)
    write_zip(downloads / ZIP_NAME, root)
    return {"pdf": downloads / PDF_NAME, "zip": downloads / ZIP_NAME}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the built book's HTML folder (e.g. _build/html)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    written = write_downloads(args.html)
    sizes = ", ".join(f"{path} ({path.stat().st_size / 1e6:.1f} MB)" for path in written.values())
    print(f"downloads written in {time.monotonic() - started:.0f} s: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks the static site before it is packaged (buildspec.yml, pre_build).

Every HTML page must have a <title>, and every local link (href or src) must point at a file of the
site, or at a file the build writes (health, version.txt). Standard library only, so that it runs on
the CodeBuild standard image without an install step.

Usage: python3 tools/check_site.py [SITE_DIR]    (default: site)
"""
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Written into the site by the build phase: links to them are fine before they exist.
GENERATED = {"health", "version.txt"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.title = False
        self.links = []  # (link, line)

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.title = True
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append((value, self.getpos()[0]))


def target_of(root, page, link):
    """The file a local link points at, or None for external links and fragments."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    base = root if path.startswith("/") else page.parent
    target = (base / path.lstrip("/")).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target


def main(argv):
    root = Path(argv[1] if len(argv) > 1 else "site").resolve()
    if not root.is_dir():
        print(f"{root}: not a directory; expected the site folder", file=sys.stderr)
        return 1
    problems = []
    pages = sorted(root.rglob("*.html"))
    if not pages:
        problems.append(f"{root}: no HTML page; expected at least index.html")
    for page in pages:
        name = page.relative_to(root).as_posix()
        parser = Page()
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        if not parser.title:
            problems.append(f"{name}: no <title>")
        for link, line in parser.links:
            target = target_of(root, page, link)
            if target is None:
                continue
            if target != root and root not in target.parents:
                problems.append(f"{name}:{line}: {link} points outside the site")
            elif not target.exists() and target.relative_to(root).as_posix() not in GENERATED:
                problems.append(f"{name}:{line}: {link} points at a file that does not exist")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{len(pages)} page(s) checked in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

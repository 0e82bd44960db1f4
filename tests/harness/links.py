"""The link check of the manual: every relative link of README.md and
docs/**/*.md resolves.

  check(root, paths)    [Problem] of the Markdown files of `paths` (files or
                        folders, relative to root)

A link resolves when its path (relative to the page, or to the repository
for `/path`) names a file or folder inside the repository and, for a
`#fragment` into a Markdown page (the page itself when the path is empty),
that page has the anchor: a heading's slug as GitHub makes it, or an HTML
id. Links with a scheme (`https:`, `mailto:`) or to another host (`//x`) are
not followed; fragments of other files (`file.rs#L10`) are not checked.
A full reference link (`[text][label]`) needs its definition.
"""

import re
import urllib.parse
from collections import namedtuple
from pathlib import Path

from . import Failure, markdown

Problem = namedtuple("Problem", "path line target reason")


def markdown_files(root, paths):
    """The *.md files of `paths` (files or folders under root), sorted;
    Failure when one does not exist."""
    root = Path(root)
    found = set()
    for p in paths:
        p = root / p
        if p.is_dir():
            found.update(p.rglob("*.md"))
        elif p.exists():
            found.add(p)
        else:
            raise Failure(f"no such file or folder: {p}")
    return sorted(found)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_external(target):
    """Whether a link leaves the repository: a scheme or a host."""
    return target.startswith("//") or bool(_SCHEME.match(target))


class Checker:
    """Resolves links, reading each target page's anchors once."""

    def __init__(self, root):
        self.root = Path(root).resolve()
        self._anchors = {}

    def anchors_of(self, page):
        if page not in self._anchors:
            self._anchors[page] = markdown.anchors(page.read_text(encoding="utf-8"))
        return self._anchors[page]

    def problem(self, page, target):
        """Why `target`, linked from `page`, does not resolve, or None."""
        if is_external(target):
            return None
        path, _, fragment = target.partition("#")
        path = urllib.parse.unquote(path.split("?", 1)[0])
        fragment = urllib.parse.unquote(fragment)
        if not path:
            dest = page
        elif path.startswith("/"):
            dest = (self.root / path.lstrip("/")).resolve()
        else:
            dest = (page.parent / path).resolve()
        if dest != self.root and self.root not in dest.parents:
            return "points outside the repository"
        if not dest.exists():
            return f"no such file: {dest.relative_to(self.root)}"
        if fragment and dest.is_file() and dest.suffix.lower() in (".md", ".markdown"):
            if fragment not in self.anchors_of(dest):
                where = "this page" if dest == page else str(dest.relative_to(self.root))
                return f"no heading or id #{fragment} in {where}"
        return None

    def check_page(self, page):
        page = Path(page).resolve()
        text = page.read_text(encoding="utf-8")
        rel = page.relative_to(self.root)
        problems = []
        for link in markdown.links(text):
            reason = self.problem(page, link.target)
            if reason:
                problems.append(Problem(rel, link.line, link.target, reason))
        for line, label in markdown.undefined_references(text):
            problems.append(Problem(rel, line, f"[{label}]", "reference link without a definition"))
        return sorted(problems)


def check(root, paths):
    """[Problem] of every Markdown file of `paths`, with how many links were
    looked at: (problems, files, links)."""
    checker = Checker(root)
    problems, files, count = [], markdown_files(root, paths), 0
    for page in files:
        count += len(markdown.links(page.read_text(encoding="utf-8")))
        problems += checker.check_page(page)
    return problems, len(files), count


def main(root, paths):
    """The check as a command: one line per broken link, exit 1 if any."""
    try:
        problems, files, count = check(root, paths)
    except Failure as e:
        print(f"FAILED: {e}")
        return 1
    for p in problems:
        print(f"{p.path}:{p.line}: {p.target}: {p.reason}")
    if problems:
        print(f"FAILED: {len(problems)} broken link(s) in {files} Markdown files")
        return 1
    print(f"ok: {count} links in {files} Markdown files resolve")
    return 0

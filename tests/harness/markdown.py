"""Markdown as the checks read it: fenced code blocks, headings and the
anchors GitHub gives them, links, HTML comments. Not a renderer: enough
CommonMark to find these things where a reader would see them, and never
inside code.

  fenced_blocks(text)   [Block]: info string, language, first line, lines
  prose_lines(text)     the lines outside fenced blocks ((number, text))
  headings(text)        [(line, level, text)] of ATX and setext headings
  slug(text)            GitHub's anchor for a heading's text
  anchors(text)         every anchor of a page: heading slugs (duplicates
                        numbered -1, -2...) and HTML id= / name=
  links(text)           [Link]: line, destination, kind ("inline",
                        "reference", "definition", "html")

Line numbers count from 1. Fences may be indented (inside list items); their
content is given with that indentation removed.
"""

import re
import unicodedata
from collections import namedtuple

Block = namedtuple("Block", "info language first_line lines fence_line")
Block.__doc__ = """A fenced code block: `info` the whole info string, `language`
its first word, `first_line` the line number of its first content line,
`lines` the content, `fence_line` the line of the opening fence."""

Link = namedtuple("Link", "line target kind")

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def fenced_blocks(text):
    """The fenced code blocks of text, in order; an unclosed block runs to
    the end, as CommonMark says."""
    blocks = []
    for start, end, info, indent in _fences(text.split("\n")):
        lines = text.split("\n")[start + 1:end]
        blocks.append(Block(info, (info.split() or [""])[0], start + 2,
                            [_dedent(line, indent) for line in lines], start + 1))
    return blocks


def _fences(lines):
    """(opening index, closing index, info, indent) of each fenced block."""
    out, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or (m.group(2)[0] == "`" and "`" in m.group(3)):
            i += 1
            continue
        indent, fence, info = len(m.group(1).expandtabs(4)), m.group(2), m.group(3).strip()
        j = i + 1
        while j < len(lines) and not _closes(lines[j], fence):
            j += 1
        out.append((i, j, info, indent))
        i = j + 1
    return out


def _closes(line, fence):
    s = line.strip()
    return len(s) >= len(fence) and set(s) == {fence[0]}


def _dedent(line, indent):
    """line without up to `indent` columns of leading spaces."""
    expanded = line.expandtabs(4)
    strip = min(indent, len(expanded) - len(expanded.lstrip(" ")))
    return expanded[strip:]


def prose_lines(text):
    """(line number, text) of every line outside fenced code blocks; the
    fences' own lines are left out too."""
    lines = text.split("\n")
    code = set()
    for start, end, _, _ in _fences(lines):
        code.update(range(start, min(end, len(lines) - 1) + 1))
    return [(n + 1, line) for n, line in enumerate(lines) if n not in code]


# ---------------------------------------------------------------- headings ---

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^\s*(?:$|[-*+>|#]|\d+[.)]\s|<)")


def headings(text):
    """[(line, level, text)] of the ATX (`## Title`) and setext (Title over
    `===` or `---`) headings outside code blocks."""
    out, previous = [], None
    for n, line in prose_lines(text):
        m = _ATX.match(line)
        s = _SETEXT.match(line)
        if m:
            out.append((n, len(m.group(1)), (m.group(2) or "").strip()))
            previous = None
            continue
        if s and previous and previous[0] == n - 1 and not _NOT_PARAGRAPH.match(previous[1]):
            out.append((n - 1, 1 if s.group(1)[0] == "=" else 2, previous[1].strip()))
            previous = None
            continue
        previous = (n, line)
    return out


_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"!?\[([^\]]*)\]\[[^\]]*\]")
_TAG = re.compile(r"<[^>]+>")
_UNDERSCORE_EMPHASIS = re.compile(r"(?<![\w\\])(_{1,2})(\S(?:.*?\S)?)\1(?!\w)")


def heading_text(markdown):
    """The text a reader sees of a heading's Markdown: code spans keep
    their content, links their text, emphasis and HTML tags go."""
    spans = []

    def keep(m):
        spans.append(m.group(2).strip())
        return f"\x00{len(spans) - 1}\x00"

    text = _CODE_SPAN.sub(keep, markdown)
    text = _INLINE_LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _UNDERSCORE_EMPHASIS.sub(r"\2", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


def slug(heading):
    """GitHub's anchor for a heading (its Markdown source): the visible
    text, lower case, without punctuation or symbols (letters, digits,
    marks, `-` and `_` stay, accents included), each space a hyphen."""
    out = []
    for c in heading_text(heading).strip().lower():
        if c == " ":
            out.append("-")
        elif c in "-_" or unicodedata.category(c)[0] in "LNM":
            out.append(c)
    return "".join(out)


_HTML_ID = re.compile(r"<[A-Za-z][^>]*?\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']")


def anchors(text):
    """Every anchor of a page: the slug of each heading (a repeated slug
    gets -1, -2, ... as on GitHub) and HTML `id=`/`name=` attributes."""
    found, seen = set(), {}
    for _, _, heading in headings(text):
        base = slug(heading)
        anchor = base
        while anchor in found:
            seen[base] = seen.get(base, 0) + 1
            anchor = f"{base}-{seen[base]}"
        found.add(anchor)
    for _, line in prose_lines(text):
        found.update(_HTML_ID.findall(line))
    return found


# ------------------------------------------------------------------- links ---

# [text](destination "title"): the text may hold one level of brackets, the
# destination balanced parentheses or be <bracketed>.
_INLINE = re.compile(
    r"!?\[(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*\]"
    r"\(\s*(<[^<>\n]*>|(?:[^\s()\\]|\\.|\([^\s()]*\))*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_FULL_REF = re.compile(r"!?\[((?:[^\[\]\\]|\\.)+)\]\[((?:[^\[\]\\]|\\.)*)\]")
_DEFINITION = re.compile(r"^ {0,3}\[((?:[^\[\]\\]|\\.)+)\]:\s*(<[^<>\n]*>|\S+)", re.M)
_HTML_LINK = re.compile(r"<(?:a|img|source)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']*)[\"']", re.I)


def _blank(m):
    """A match replaced by spaces, its newlines kept (line numbers hold)."""
    return re.sub(r"[^\n]", " ", m.group(0))


def _prose(text):
    """text with fenced blocks, code spans and HTML comments blanked out,
    same length."""
    lines = text.split("\n")
    for start, end, _, _ in _fences(lines):
        for k in range(start, min(end, len(lines) - 1) + 1):
            lines[k] = ""
    return _COMMENT.sub(_blank, _CODE_SPAN.sub(_blank, "\n".join(lines)))


def normalize_label(label):
    """A reference label as Markdown matches them: case and runs of white
    space do not count."""
    return " ".join(label.split()).lower()


def definitions(text):
    """{normalized label: destination} of the link reference definitions."""
    return {normalize_label(m.group(1)): m.group(2).strip("<>")
            for m in _DEFINITION.finditer(_prose(text))}


def undefined_references(text):
    """[(line, label)] of full and collapsed reference links (`[text][ref]`,
    `[ref][]`) whose label has no definition. Shortcut references (`[ref]`)
    cannot be told from brackets in prose and are not looked at."""
    prose, defined, out = _prose(text), definitions(text), []
    for m in _FULL_REF.finditer(prose):
        label = m.group(2) or m.group(1)
        if normalize_label(label) not in defined:
            out.append((prose.count("\n", 0, m.start()) + 1, label))
    return out


def links(text):
    """[Link(line, target, kind)] of every link and image outside code:
    inline ones, reference definitions, and HTML href/src attributes."""
    prose, out = _prose(text), []

    def line_of(pos):
        return prose.count("\n", 0, pos) + 1

    for m in _INLINE.finditer(prose):
        target = m.group(1).strip()
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        out.append(Link(line_of(m.start(1)), target, "inline"))
    for m in _DEFINITION.finditer(prose):
        out.append(Link(line_of(m.start(2)), m.group(2).strip("<>"), "definition"))
    for m in _HTML_LINK.finditer(prose):
        out.append(Link(line_of(m.start(1)), m.group(1), "html"))
    return sorted(out)
